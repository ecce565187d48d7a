// katana-cc on calls that link: one-step compile-and-link, link-only, -static, -shared, -r, and
// katana-c++. Each link record is checked against `readelf -n` of the output, and the output runs.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore, type LinkRecord } from '../src/index.js';
import { katana, katanaOk, makeProject, readelfBuildId, removeProject, requireTools, sh, storeFiles } from './helpers.js';

requireTools('cc', 'c++', 'git', 'readelf');

const FILES = {
  'main.c': '#include <stdio.h>\nint add(int, int);\nint twice(int);\nint main(void) { printf("%d\\n", twice(add(20, 1))); return 0; }\n',
  'add.c': 'int add(int a, int b) { return a + b; }\n',
  'twice.c': 'int twice(int x) { return 2 * x; }\n',
  'root.c': '#include <math.h>\nint twice(int x) { return (int)sqrt((double)(4 * x * x)); }\n',
};

function store(dir: string): ObjectStore {
  return ObjectStore.locate({ cwd: dir, env: {} });
}

function onlyLink(dir: string): LinkRecord {
  const links = storeFiles(store(dir).dir, 'links');
  assert.is(links.length, 1, `expected one link record, found ${links.join(', ')}`);
  return store(dir).readLink(links[0]!.replace('.json', ''))!;
}

function sourceOf(dir: string, hash: string): string {
  return store(dir).readManifest(hash)!.source;
}

const link = suite('katana-cc link');
link.before.each((ctx) => { ctx['dir'] = makeProject(FILES); });
link.after.each((ctx) => { removeProject(ctx['dir'] as string); });

link('one step: -o prog main.c add.c twice.c records three objects and the link', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-O2', '-o', 'prog', 'main.c', 'add.c', 'twice.c'], dir);
  assert.is(sh(join(dir, 'prog'), [], { cwd: dir }).stdout, '42\n');
  const record = onlyLink(dir);
  assert.is(record.buildId, readelfBuildId(join(dir, 'prog')));
  assert.is(record.output, join(dir, 'prog'));
  assert.is(record.kind, 'executable');
  assert.equal(record.args, ['-O2', '-o', 'prog', 'main.c', 'add.c', 'twice.c']);
  assert.equal(record.objects.map((o) => o.path), ['main.c', 'add.c', 'twice.c'].map((f) => join(dir, f)));
  assert.equal(record.objects.map((o) => sourceOf(dir, o.hash)), ['main.c', 'add.c', 'twice.c']);
  assert.ok(record.objects.every((o) => store(dir).hasObject(o.hash)));
  assert.equal(record.untracked, []);
  assert.is(storeFiles(store(dir).dir, 'objects').length, 3);
});

link('one step with a.out, an object and a library keeps input order', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'add.c'], dir);
  katanaOk('katana-cc', ['main.c', 'add.o', 'root.c', '-lm'], dir);
  assert.is(sh(join(dir, 'a.out'), [], { cwd: dir }).stdout, '42\n');
  const record = onlyLink(dir);
  assert.is(record.buildId, readelfBuildId(join(dir, 'a.out')));
  assert.equal(record.objects.map((o) => o.path), ['main.c', 'add.o', 'root.c'].map((f) => join(dir, f)));
  assert.equal(record.untracked, ['-lm']);
});

link('link only: store objects are objects, foreign ones untracked', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'main.c', 'add.c'], dir);
  assert.is(sh('cc', ['-c', 'twice.c'], { cwd: dir }).status, 0);
  sh('mkdir', ['-p', 'bin'], { cwd: dir });
  katanaOk('katana-cc', ['-o', 'bin/prog', 'main.o', 'add.o', 'twice.o'], dir);
  assert.is(sh(join(dir, 'bin', 'prog'), [], { cwd: dir }).stdout, '42\n');
  const record = onlyLink(dir);
  assert.is(record.buildId, readelfBuildId(join(dir, 'bin', 'prog')));
  assert.equal(record.objects.map((o) => o.path), [join(dir, 'main.o'), join(dir, 'add.o')]);
  assert.equal(record.untracked, [join(dir, 'twice.o')]);
});

link('-static links, runs and records', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-c', 'main.c', 'add.c', 'twice.c'], dir);
  katanaOk('katana-cc', ['-static', '-o', 'sprog', 'main.o', 'add.o', 'twice.o'], dir);
  assert.is(sh(join(dir, 'sprog'), [], { cwd: dir }).stdout, '42\n');
  assert.not.match(sh('readelf', ['-lW', 'sprog'], { cwd: dir }).stdout, /INTERP/);
  const record = onlyLink(dir);
  assert.is(record.buildId, readelfBuildId(join(dir, 'sprog')));
  assert.is(record.objects.length, 3);
});

link('-shared and -r are recorded with their kind', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-shared', '-fPIC', '-o', 'libadd.so', 'add.c'], dir);
  katanaOk('katana-cc', ['-c', 'twice.c'], dir);
  katanaOk('katana-cc', ['-r', '-o', 'both.o', 'twice.o', 'add.c'], dir);
  const s = store(dir);
  const kinds = storeFiles(s.dir, 'links').map((f) => s.readLink(f.replace('.json', ''))!)
    .map((r) => [r.kind, r.output, r.buildId === readelfBuildId(r.output), r.objects.length]).sort();
  assert.equal(kinds, [['relocatable', join(dir, 'both.o'), true, 2], ['shared', join(dir, 'libadd.so'), true, 1]]);
});

link('a failing link exits like cc and records nothing', (ctx) => {
  const dir = ctx['dir'] as string;
  const real = sh('cc', ['-o', 'prog', 'main.c', 'add.c'], { cwd: dir });
  const ours = katana('katana-cc', ['-o', 'prog', 'main.c', 'add.c'], dir);
  assert.is.not(real.status, 0);
  assert.is(ours.status, real.status);
  assert.match(ours.stderr, /undefined reference to `twice'/);
  assert.equal(storeFiles(store(dir).dir, 'objects'), []);
  assert.equal(storeFiles(store(dir).dir, 'links'), []);
});

link('-o /dev/null records nothing', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-o', '/dev/null', 'main.c', 'add.c', 'twice.c'], dir);
  assert.is(existsSync(store(dir).dir), false);
});
link.run();

const cxx = suite('katana-c++');
cxx.before.each((ctx) => {
  ctx['dir'] = makeProject({
    'hello.cpp': '#include <iostream>\n#include <string>\nstd::string greet(const std::string& n) { return "hello " + n; }\nint main() { std::cout << greet("katana") << std::endl; }\n',
    'util.c': 'extern "C" int util(void) { return 7; }\n',
  });
});
cxx.after.each((ctx) => { removeProject(ctx['dir'] as string); });
cxx('compiles and links C++, recording language c++ (also for .c under c++)', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-c++', ['-O2', '-o', 'hello', 'hello.cpp', 'util.c'], dir);
  assert.is(sh(join(dir, 'hello'), [], { cwd: dir }).stdout, 'hello katana\n');
  const record = onlyLink(dir);
  assert.is(record.buildId, readelfBuildId(join(dir, 'hello')));
  const manifests = record.objects.map((o) => store(dir).readManifest(o.hash)!);
  assert.equal(manifests.map((m) => [m.source, m.language, m.compiler]), [['hello.cpp', 'c++', 'c++'], ['util.c', 'c++', 'c++']]);
  assert.ok(sh('readelf', ['-SW', join(store(dir).dir, 'objects', `${record.objects[0]!.hash}.o`)], { cwd: dir }).stdout.includes('.text._Z5greetRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE'));
});
cxx.run();

const kinds = suite('katana-cc link kinds and response files');
kinds.before.each((ctx) => { ctx['dir'] = makeProject(FILES); });
kinds.after.each((ctx) => { removeProject(ctx['dir'] as string); });

kinds('-fPIE objects linked with -pie: a position-independent executable with its record', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-fPIE', '-c', 'main.c', 'add.c', 'twice.c'], dir);
  katanaOk('katana-cc', ['-pie', '-o', 'prog', 'main.o', 'add.o', 'twice.o'], dir);
  assert.match(sh('readelf', ['-hW', 'prog'], { cwd: dir }).stdout, /Type:\s+DYN/);
  assert.is(sh(join(dir, 'prog'), [], { cwd: dir }).stdout, '42\n');
  const record = onlyLink(dir);
  assert.is(record.kind, 'executable');
  assert.is(record.objects.length, 3);
});

kinds('nested, quoted response files in a one-step compile-and-link', (ctx) => {
  const dir = ctx['dir'] as string;
  sh('mkdir', ['-p', 'my dir'], { cwd: dir });
  sh('cp', ['add.c', 'my dir/add one.c'], { cwd: dir });
  writeFileSync(join(dir, 'inner.rsp'), '"my dir/add one.c" \'-DGREETING="hi there"\'\n');
  writeFileSync(join(dir, 'outer.rsp'), '-O2 -o prog\nmain.c @inner.rsp twice.c\n');
  katanaOk('katana-cc', ['@outer.rsp'], dir);
  assert.is(sh(join(dir, 'prog'), [], { cwd: dir }).stdout, '42\n');
  const record = onlyLink(dir);
  assert.equal(record.objects.map((o) => sourceOf(dir, o.hash)), ['main.c', 'my dir/add one.c', 'twice.c']);
  assert.equal(record.args, ['@outer.rsp']);
});
kinds.run();
