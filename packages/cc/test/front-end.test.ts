// The sh front end (bin/katana-cc, bin/katana-c++ → bin/front-end.sh) against the Node.js
// implementation (bin/katana-cc.mjs): for the plain compiles it handles alone, the same calls must
// leave the same store (same object hashes, and the same manifests once its pending manifests are
// folded); probes and -o /dev/null pass through untouched; everything else still reaches Node.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { sha256File } from '../src/hash.js';
import { binPath, buildEnv, katana, makeProject, removeProject, requireTools, sh, storeFiles, writeFiles } from './helpers.js';

requireTools('cc', 'c++', 'git', 'sha256sum');

const FILES = {
  'a.c': 'int counter;\nint bump(int n) { return counter += n; }\n',
  'src/b.c': '#include "b.h"\nint twice(int x) { return 2 * x + B; }\n',
  'inc/b.h': '#define B 1\n',
  's.S': '  .text\n  .globl f\nf:\n  ret\n',
  'p.cc': 'struct S { int v; int get() const { return v; } };\nint use(const S &s) { return s.get(); }\n',
  'main.c': 'int bump(int);\nint main(void) { return bump(0); }\n',
};

type Tool = 'katana-cc' | 'katana-c++';
interface Call { tool: Tool; cwd: string; args: string[]; object: string }

// Plain compiles as make, libtool, CMake and meson write them (object: relative to the project).
const CALLS: Call[] = [
  { tool: 'katana-cc', cwd: '.', args: ['-O2', '-c', 'a.c', '-o', 'a.o'], object: 'a.o' },
  { tool: 'katana-cc', cwd: '.', args: ['-c', 'a.c'], object: 'a.o' },
  { tool: 'katana-cc', cwd: '.', args: ['-Wall', '-DX=1', '-I', 'inc', '-MD', '-MF', 'b.d', '-MT', 'out/b.o', '-c', './src/b.c', '-o', 'out/b.o'], object: 'out/b.o' },
  { tool: 'katana-cc', cwd: 'sub', args: ['-I../inc', '-c', '../src/b.c', '-o', 'b.o'], object: 'sub/b.o' },
  { tool: 'katana-cc', cwd: '.', args: ['-DHAVE_CONFIG_H', '-g', '-O2', '-MT', 'a.lo', '-MD', '-MP', '-MF', '.deps/a.Tpo', '-c', 'a.c', '-fPIC', '-DPIC', '-o', '.libs/a.o'], object: '.libs/a.o' },
  { tool: 'katana-cc', cwd: '.', args: ['-c', 's.S', '-o', 's.o'], object: 's.o' },
  { tool: 'katana-c++', cwd: '.', args: ['-O1', '-std=c++17', '-c', 'p.cc', '-o', 'p.o'], object: 'p.o' },
  { tool: 'katana-c++', cwd: '.', args: ['-c', 'a.c', '-o', 'a-cxx.o'], object: 'a-cxx.o' },
];

function project(): string {
  const dir = makeProject(FILES);
  for (const folder of ['sub', 'out', '.libs', '.deps']) mkdirSync(join(dir, folder), { recursive: true });
  return dir;
}

// Runs one call through the front end (into store `fast`) and through Node (into store `node`);
// returns the object's hash after each.
function both(dir: string, call: Call, cwd: string, extra: NodeJS.ProcessEnv = {}): { fast: string; node: string } {
  const fast = sh(binPath(call.tool), call.args, { cwd, env: buildEnv({ KATANA_STORE: join(dir, 'fast'), ...extra }) });
  assert.is(fast.status, 0, fast.stderr);
  const fastHash = sha256File(join(dir, call.object));
  const node = katana(call.tool, call.args, cwd, { KATANA_STORE: join(dir, 'node'), ...extra });
  assert.is(node.status, 0, node.stderr);
  return { fast: fastHash, node: sha256File(join(dir, call.object)) };
}

function manifests(store: ObjectStore): unknown[] {
  return storeFiles(store.dir, 'manifests').map((f) => store.readManifest(f.replace('.json', '')));
}

const same = suite('front end: plain compiles leave the store the Node implementation leaves');
same.before.each((ctx) => { ctx['dir'] = project(); });
same.after.each((ctx) => { removeProject(ctx['dir'] as string); });

for (const call of CALLS) {
  same(`${call.tool} ${call.args.join(' ')} (in ${call.cwd})`, (ctx) => {
    const dir = ctx['dir'] as string;
    const { fast, node } = both(dir, call, join(dir, call.cwd));
    assert.is(fast, node, 'the same object bytes');
    const fastStore = new ObjectStore(join(dir, 'fast'), dir);
    const nodeStore = new ObjectStore(join(dir, 'node'), dir);
    // The front end took the fast path: it left a pending manifest, which Node never writes.
    assert.equal(storeFiles(fastStore.dir, 'pending'), [fast]);
    assert.equal(storeFiles(nodeStore.dir, 'pending'), []);
    assert.equal(storeFiles(fastStore.dir, 'objects'), storeFiles(nodeStore.dir, 'objects'));
    assert.equal(readFileSync(fastStore.objectPath(fast)), readFileSync(nodeStore.objectPath(node)));
    fastStore.foldPending();
    assert.equal(storeFiles(fastStore.dir, 'pending'), []);
    assert.equal(storeFiles(fastStore.dir, 'manifests'), storeFiles(nodeStore.dir, 'manifests'));
    assert.equal(manifests(fastStore), manifests(nodeStore));
  });
}

same('a project reached through a symlink ($PWD logical): the same objects and manifests', (ctx) => {
  const dir = ctx['dir'] as string;
  const links = mkdtempSync(join(tmpdir(), 'katana-cc-link-'));
  try {
    const linked = join(links, 'project');
    symlinkSync(dir, linked);
    const call: Call = { tool: 'katana-cc', cwd: '.', args: ['-c', 'a.c', '-o', 'a.o'], object: 'a.o' };
    const { fast, node } = both(dir, call, linked, { PWD: linked });
    assert.is(fast, node);
    const fastStore = new ObjectStore(join(dir, 'fast'), dir);
    assert.equal(storeFiles(fastStore.dir, 'pending'), [fast]);
    assert.equal(fastStore.readManifest(fast), new ObjectStore(join(dir, 'node'), dir).readManifest(node));
  } finally {
    rmSync(links, { recursive: true, force: true });
  }
});

const other = suite('front end: calls it does not record itself');
other.before.each((ctx) => { ctx['dir'] = project(); });
other.after.each((ctx) => { removeProject(ctx['dir'] as string); });

other('probes, -E and -o /dev/null run the real compiler untouched and record nothing', (ctx) => {
  const dir = ctx['dir'] as string;
  const env = buildEnv();
  for (const args of [['--version'], ['-dumpmachine'], ['-v'], ['-qversion'], ['-E', 'a.c'], ['-c', 'a.c', '-o', '/dev/null'], ['-S', '-o', '-', 'a.c']]) {
    const fast = sh(binPath('katana-cc'), args, { cwd: dir, env });
    const real = sh('cc', args, { cwd: dir, env });
    assert.is(fast.status, real.status, args.join(' '));
    assert.is(fast.stdout, real.stdout, args.join(' '));
    assert.is(fast.stderr.replace(/katana-cc/g, 'cc'), real.stderr, args.join(' '));
  }
  assert.equal(storeFiles(join(dir, '.katana'), 'objects'), []);
});

other('a link goes to Node, which folds the pending manifests of the objects it links', (ctx) => {
  const dir = ctx['dir'] as string;
  const env = buildEnv();
  for (const source of ['a.c', 'main.c']) assert.is(sh(binPath('katana-cc'), ['-c', source], { cwd: dir, env }).status, 0);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  assert.is(storeFiles(store.dir, 'pending').length, 2);
  const link = sh(binPath('katana-cc'), ['-o', 'prog', 'main.o', 'a.o'], { cwd: dir, env });
  assert.is(link.status, 0, link.stderr);
  assert.equal(storeFiles(store.dir, 'pending'), []);
  assert.is(storeFiles(store.dir, 'manifests').length, 2);
  const [record] = store.links();
  assert.equal(record!.objects.map((o) => store.readManifest(o.hash)!.source), ['main.c', 'a.c']);
});

other('a failed compile exits with the compiler\'s status and records nothing', (ctx) => {
  const dir = ctx['dir'] as string;
  writeFiles(dir, { 'bad.c': 'int f( {\n' });
  const r = sh(binPath('katana-cc'), ['-c', 'bad.c'], { cwd: dir, env: buildEnv() });
  assert.is(r.status, 1);
  assert.match(r.stderr, /bad\.c/);
  assert.equal(storeFiles(join(dir, '.katana'), 'objects'), []);
});

other('launcher mode and unusual flags reach Node, which writes manifests directly', (ctx) => {
  const dir = ctx['dir'] as string;
  const env = buildEnv();
  for (const args of [['cc', '-c', 'a.c', '-o', 'a.o'], ['-x', 'c', '-c', 'a.c', '-o', 'b.o']]) {
    const r = sh(binPath('katana-cc'), args, { cwd: dir, env });
    assert.is(r.status, 0, r.stderr);
  }
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  assert.equal(storeFiles(store.dir, 'pending'), []);
  assert.is(storeFiles(store.dir, 'manifests').length, 1, 'a.o and b.o have the same bytes');
});

same.run();
other.run();
