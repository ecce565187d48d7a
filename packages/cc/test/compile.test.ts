// katana-cc on compile-only calls (-c): the objects it records, the flags it adds, objects that
// do not depend on where the checkout lives, failures that look exactly like the real compiler's.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { katana, katanaOk, makeProject, removeProject, requireTools, sh, storeFiles } from './helpers.js';

requireTools('cc', 'git', 'readelf');

const A = 'int counter;\nint bump(int x) { counter += x; return counter; }\nstatic int twice(int x) { return 2 * x; }\nint use(int x) { return twice(x) + 1; }\n';
const B = 'int b(void) { return 42; }\n';

const compile = suite('katana-cc -c');
compile.before.each((ctx) => { ctx['dir'] = makeProject({ 'a.c': A, 'b.c': B, 'sub/c.c': B.replace('b(', 'c(') }); });
compile.after.each((ctx) => { removeProject(ctx['dir'] as string); });

compile('records a.o with its manifest; per-function sections and DWARF are in it', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-O2', '-c', 'a.c'], dir);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const bytes = readFileSync(join(dir, 'a.o'));
  const [file] = storeFiles(store.dir, 'objects');
  const hash = file!.replace(/\.o$/, '');
  assert.equal(readFileSync(store.objectPath(hash)), bytes);
  assert.equal(store.readManifest(hash), {
    hash, source: 'a.c', output: join(dir, 'a.o'), cwd: dir, args: ['-O2', '-c', 'a.c'], compiler: 'cc', language: 'c',
  });
  const sections = sh('readelf', ['-SW', 'a.o'], { cwd: dir }).stdout;
  for (const name of ['.text.bump', '.text.use', '.bss.counter', '.debug_info']) assert.ok(sections.includes(name), `a.o lacks ${name}`);
});

compile('-o x, -ox and several sources give the objects gcc names', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'a.c', '-o', 'out-a.o'], dir);
  katanaOk('katana-cc', ['-c', 'b.c', '-oout-b.o'], dir);
  katanaOk('katana-cc', ['-c', 'a.c', 'b.c', 'sub/c.c'], dir);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const outputs = storeFiles(store.dir, 'manifests').map((f) => store.readManifest(f.replace('.json', ''))!.output).sort();
  // a.c and out-a.o are the same bytes (one manifest, last writer wins), as are b.o and out-b.o.
  assert.is(storeFiles(store.dir, 'objects').length, 3);
  assert.is(outputs.length, 3);
  assert.ok(outputs.every((o) => existsSync(o)));
  const sources = storeFiles(store.dir, 'manifests').map((f) => store.readManifest(f.replace('.json', ''))!.source).sort();
  assert.equal(sources, ['a.c', 'b.c', 'sub/c.c']);
  assert.ok(existsSync(join(dir, 'c.o')));
});

compile('a source in a subfolder is recorded relative to the project root', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'c.c'], join(dir, 'sub'));
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const [m] = storeFiles(store.dir, 'manifests');
  assert.is(store.readManifest(m!.replace('.json', ''))!.source, 'sub/c.c');
  assert.is(store.readManifest(m!.replace('.json', ''))!.cwd, join(dir, 'sub'));
});

compile('a response file is understood and passed on', (ctx) => {
  const dir = ctx['dir'] as string;
  writeFileSync(join(dir, 'args.rsp'), '-c a.c -o rsp.o\n');
  katanaOk('katana-cc', ['@args.rsp'], dir);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  assert.is(storeFiles(store.dir, 'objects').length, 1);
  assert.equal(readFileSync(join(store.dir, 'objects', storeFiles(store.dir, 'objects')[0]!)), readFileSync(join(dir, 'rsp.o')));
});

compile('KATANA_STORE chooses the store, relative to the cwd', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'a.c'], dir, { KATANA_STORE: 'elsewhere' });
  assert.is(existsSync(join(dir, '.katana')), false);
  assert.is(storeFiles(join(dir, 'elsewhere'), 'objects').length, 1);
  assert.is(storeFiles(join(dir, 'elsewhere'), 'manifests').length, 1);
});

compile('KATANA_VERBOSE=1 says what was added and recorded', (ctx) => {
  const dir = ctx['dir'] as string;
  const r = katanaOk('katana-cc', ['-c', 'a.c'], dir, { KATANA_VERBOSE: '1' });
  assert.match(r.stderr, /katana-cc: added -g -ffunction-sections -fdata-sections -idirafter \S+\/packages\/cc\/include -ffile-prefix-map=/);
  assert.match(r.stderr, /katana-cc: recorded the object of a\.c for a\.o \(sha256 [0-9a-f]{64}\)/);
});

compile('a failing compile exits and prints like cc and records nothing', (ctx) => {
  const dir = ctx['dir'] as string;
  writeFileSync(join(dir, 'bad.c'), 'int f(void) { return undeclared; }\n');
  const real = sh('cc', ['-c', 'bad.c'], { cwd: dir });
  const ours = katana('katana-cc', ['-c', 'bad.c'], dir);
  assert.is.not(real.status, 0);
  assert.is(ours.status, real.status);
  assert.is(ours.stderr, real.stderr);
  assert.is(ours.stdout, real.stdout);
  assert.is(existsSync(join(dir, '.katana')), false);
});

compile('-o /dev/null compiles and records nothing', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'a.c', '-o', '/dev/null'], dir);
  assert.is(existsSync(join(dir, '.katana')), false);
});

compile('an unwritable store after a good compile: one katana-cc line, non-zero exit', (ctx) => {
  const dir = ctx['dir'] as string;
  const r = katana('katana-cc', ['-c', 'a.c'], dir, { KATANA_STORE: join(dir, 'b.c', 'store') });
  assert.is(r.status, 1);
  assert.ok(existsSync(join(dir, 'a.o')));
  assert.match(r.stderr, /^katana-cc: cannot write .*b\.c\/store.*\n$/);
  assert.is(r.stderr.split('\n').length, 2);
});
compile.run();

const reproducible = suite('katana-cc -ffile-prefix-map');
reproducible.before.each((ctx) => {
  ctx['one'] = makeProject({ 'src/a.c': A });
  ctx['two'] = makeProject({ 'src/a.c': A });
});
reproducible.after.each((ctx) => {
  removeProject(ctx['one'] as string);
  removeProject(ctx['two'] as string);
});
reproducible('the same source in two checkouts gives identical objects', (ctx) => {
  const one = ctx['one'] as string;
  const two = ctx['two'] as string;
  // Without katana-cc the checkout folder is in the DWARF, so the objects differ...
  for (const dir of [one, two]) assert.is(sh('cc', ['-g', '-c', 'src/a.c', '-o', 'plain.o'], { cwd: dir }).status, 0);
  assert.not.equal(readFileSync(join(one, 'plain.o')), readFileSync(join(two, 'plain.o')));
  // ...with it they are the same bytes, compiled from the root or from a subfolder by absolute path.
  for (const dir of [one, two]) {
    katanaOk('katana-cc', ['-O2', '-c', 'src/a.c', '-o', 'a.o'], dir);
    katanaOk('katana-cc', ['-O2', '-c', join(dir, 'src', 'a.c'), '-o', 'abs.o'], join(dir, 'src'));
  }
  assert.equal(readFileSync(join(one, 'a.o')), readFileSync(join(two, 'a.o')));
  assert.equal(readFileSync(join(one, 'src', 'abs.o')), readFileSync(join(two, 'src', 'abs.o')));
  assert.not.ok(readFileSync(join(one, 'a.o')).includes(Buffer.from(one)));
});
reproducible.run();

const inputs = suite('katana-cc -c: dependency files, assembler, -x');
inputs.before.each((ctx) => {
  ctx['dir'] = makeProject({
    'a.c': '#include "a.h"\nint a(void) { return A; }\n',
    'a.h': '#define A 1\n',
    'f.s': '\t.globl f\n\t.type f, @function\nf:\tmovl $1, %eax\n\tret\n\t.size f, .-f\n\t.section .note.GNU-stack,"",@progbits\n',
    'g.S': '#include "a.h"\n\t.globl g\n\t.type g, @function\ng:\tmovl $A, %eax\n\tret\n\t.size g, .-g\n\t.section .note.GNU-stack,"",@progbits\n',
    'code.txt': 'int t(void) { return 3; }\n',
  });
});
inputs.after.each((ctx) => { removeProject(ctx['dir'] as string); });

function manifests(dir: string): { source: string; output: string; language: string }[] {
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  return storeFiles(store.dir, 'manifests').map((f) => store.readManifest(f.replace('.json', ''))!)
    .map((m) => ({ source: m.source, output: m.output.slice(dir.length + 1), language: m.language }))
    .sort((x, y) => x.source.localeCompare(y.source));
}

inputs('-MD -MP -MF -MT -MQ write the dependency files cc writes, and the object is recorded', (ctx) => {
  const dir = ctx['dir'] as string;
  sh('mkdir', ['deps'], { cwd: dir });
  katanaOk('katana-cc', ['-MD', '-MP', '-MF', 'deps/a.d', '-MT', 'a.o', '-MQ', '$(x)', '-c', 'a.c', '-o', 'a.o'], dir);
  katanaOk('katana-cc', ['-MMD', '-c', 'a.c', '-o', 'mmd.o'], dir);
  const ours = [readFileSync(join(dir, 'deps', 'a.d'), 'utf8'), readFileSync(join(dir, 'mmd.d'), 'utf8')];
  assert.is(sh('cc', ['-MD', '-MP', '-MF', 'deps/a.d', '-MT', 'a.o', '-MQ', '$(x)', '-c', 'a.c', '-o', 'a.o'], { cwd: dir }).status, 0);
  assert.is(sh('cc', ['-MMD', '-c', 'a.c', '-o', 'mmd.o'], { cwd: dir }).status, 0);
  assert.equal(ours, [readFileSync(join(dir, 'deps', 'a.d'), 'utf8'), readFileSync(join(dir, 'mmd.d'), 'utf8')]);
  assert.match(ours[0]!, /^a\.o \$\$\(x\): a\.c .*a\.h\n.*\na\.h:\n$/s);
  assert.equal(manifests(dir).map((m) => m.source), ['a.c']);
});

inputs('.s and .S sources compile with the added flags, are recorded as asm, and link', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'f.s', 'g.S'], dir);
  assert.equal(manifests(dir), [{ source: 'f.s', output: 'f.o', language: 'asm' }, { source: 'g.S', output: 'g.o', language: 'asm' }]);
  // -g on an assembler source makes gas emit line information for it.
  assert.ok(sh('readelf', ['-SW', 'g.o'], { cwd: dir }).stdout.includes('.debug_line'));
  writeFileSync(join(dir, 'main.c'), 'int f(void); int g(void);\nint main(void) { return f() + g() == 2 ? 0 : 1; }\n');
  katanaOk('katana-cc', ['-o', 'prog', 'main.c', 'f.o', 'g.S'], dir);
  assert.is(sh(join(dir, 'prog'), [], { cwd: dir }).status, 0);
});

inputs('-x c, -x assembler-with-cpp and -x none choose the language of the files after them', (ctx) => {
  const dir = ctx['dir'] as string;
  writeFileSync(join(dir, 'g.asm'), readFileSync(join(dir, 'g.S')));
  katanaOk('katana-cc', ['-c', '-x', 'c', 'code.txt', '-x', 'assembler-with-cpp', 'g.asm', '-x', 'none', 'a.c'], dir);
  assert.equal(manifests(dir), [
    { source: 'a.c', output: 'a.o', language: 'c' },
    { source: 'code.txt', output: 'code.o', language: 'c' },
    { source: 'g.asm', output: 'g.o', language: 'asm' },
  ]);
  writeFileSync(join(dir, 'main.txt'), 'int t(void);\nint a(void);\nint main(void) { return t() + a() == 4 ? 0 : 1; }\n');
  katanaOk('katana-cc', ['-o', 'prog', '-xc', 'code.txt', 'main.txt', '-xnone', 'a.c'], dir);
  assert.is(sh(join(dir, 'prog'), [], { cwd: dir }).status, 0);
});
inputs.run();
