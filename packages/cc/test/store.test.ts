// Tests of the object store and the project root lookup on a real object compiled by gcc.
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findProjectRoot, ObjectStore, StoreError, type LinkRecord, type ObjectManifest } from '../src/index.js';
import { makeProject, removeProject, requireTools, sh } from './helpers.js';

requireTools('cc', 'git');

const root = suite('findProjectRoot');
root.before.each((ctx) => { ctx['dir'] = makeProject(); });
root.after.each((ctx) => { removeProject(ctx['dir'] as string); });
root('the nearest folder holding .git', (ctx) => {
  const dir = ctx['dir'] as string;
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  assert.is(findProjectRoot(join(dir, 'a', 'b')), dir);
  assert.is(findProjectRoot(dir), dir);
});
root('a .git file (worktree) marks a root too', (ctx) => {
  const dir = ctx['dir'] as string;
  mkdirSync(join(dir, 'wt', 'src'), { recursive: true });
  writeFileSync(join(dir, 'wt', '.git'), 'gitdir: ../.git/worktrees/wt\n');
  assert.is(findProjectRoot(join(dir, 'wt', 'src')), join(dir, 'wt'));
});
root.run();

const store = suite('ObjectStore');
store.before.each((ctx) => {
  const dir = makeProject({ 'a.c': 'int a(void) { return 1; }\n' });
  ctx['dir'] = dir;
  const r = sh('cc', ['-c', 'a.c'], { cwd: dir });
  if (r.status !== 0) throw new Error(r.stderr);
});
store.after.each((ctx) => { removeProject(ctx['dir'] as string); });

store('locate: .katana at the project root, or KATANA_STORE relative to cwd', (ctx) => {
  const dir = ctx['dir'] as string;
  mkdirSync(join(dir, 'sub'));
  const s = ObjectStore.locate({ cwd: join(dir, 'sub'), env: {} });
  assert.is(s.dir, join(dir, '.katana'));
  assert.is(s.projectRoot, dir);
  assert.is(ObjectStore.locate({ cwd: join(dir, 'sub'), env: { KATANA_STORE: 'st' } }).dir, join(dir, 'sub', 'st'));
  assert.is(readdirSync(dir).includes('.katana'), false);
});

store('putObject stores the bytes under their sha256, once', (ctx) => {
  const dir = ctx['dir'] as string;
  const s = new ObjectStore(join(dir, '.katana'), dir);
  const hash = s.putObject(join(dir, 'a.o'));
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.is(s.putObject(join(dir, 'a.o')), hash);
  assert.ok(s.hasObject(hash));
  assert.equal(readFileSync(s.objectPath(hash)), readFileSync(join(dir, 'a.o')));
  assert.equal(readdirSync(join(dir, '.katana', 'objects')), [`${hash}.o`]);
  assert.is(s.hasObject('0'.repeat(64)), false);
});

store('manifests and link records round-trip; absent ones are undefined', (ctx) => {
  const dir = ctx['dir'] as string;
  const s = new ObjectStore(join(dir, '.katana'), dir);
  const hash = s.putObject(join(dir, 'a.o'));
  const m: ObjectManifest = { hash, source: 'a.c', output: join(dir, 'a.o'), cwd: dir, args: ['-c', 'a.c'], compiler: 'cc', language: 'c' };
  s.writeManifest(m);
  assert.equal(s.readManifest(hash), m);
  assert.is(s.readManifest('1'.repeat(64)), undefined);
  const l: LinkRecord = { buildId: 'ab12', output: join(dir, 'p'), kind: 'executable', cwd: dir, args: [], objects: [{ path: join(dir, 'a.o'), hash }], untracked: ['-lm'] };
  s.writeLink(l);
  assert.equal(s.readLink('AB12'), l);
  assert.is(s.readLink('cd34'), undefined);
  assert.equal(readdirSync(join(dir, '.katana', 'links')), ['ab12.json']);
});

store('one link record per build-id, one output record per path linked', (ctx) => {
  const dir = ctx['dir'] as string;
  const s = new ObjectStore(join(dir, '.katana'), dir);
  const hash = s.putObject(join(dir, 'a.o'));
  const link = (output: string): LinkRecord => ({ buildId: 'ab12', output, kind: 'executable', cwd: dir, args: [], objects: [{ path: join(dir, 'a.o'), hash }], untracked: [] });
  s.writeLink(link(join(dir, 'old', 'p')));
  s.writeLink(link(join(dir, 'new', 'p')));
  s.writeLink({ ...link(join(dir, 'new', 'p')), buildId: 'cd34' });
  assert.equal(s.readLink('ab12'), link(join(dir, 'new', 'p')));
  assert.equal(s.links().map((l) => l.buildId).sort(), ['ab12', 'cd34']);
  const outputs = s.outputs().map((o) => `${o.output} ${o.buildId}`).sort();
  assert.equal(outputs, [`${join(dir, 'new', 'p')} cd34`, `${join(dir, 'old', 'p')} ab12`]);
});

store('an unwritable store and a bad hash are StoreErrors', (ctx) => {
  const dir = ctx['dir'] as string;
  const s = new ObjectStore(join(dir, 'a.c', 'store'), dir);
  assert.throws(() => s.putObject(join(dir, 'a.o')), (e: unknown) => e instanceof StoreError && e.code === 'E_STORE' && /a\.c\/store/.test(e.message));
  assert.throws(() => s.objectPath('../x'), (e: unknown) => e instanceof StoreError);
  assert.throws(() => s.readLink('../x'), (e: unknown) => e instanceof StoreError);
});
store.run();
