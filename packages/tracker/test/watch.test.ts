// The watcher and the journal's trust rules on a real katana-cc build: a rebuild while watching
// journals exactly the objects it rewrote and checkJournal restricts the diff to them; a missed
// event, a watcher stopped before the build, a baseline that is not OLD's build and a second watcher
// on one tree are each refused with their reason.
import { execa } from 'execa';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore, type LinkRecord } from '@katana/cc';
import { readBuildId } from '@katana/elf';
import { checkJournal, readJournal, startWatcher, type TreeWatcher } from '../src/index.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const katanaCc = join(repoRoot, 'node_modules', '.bin', 'katana-cc');
const SOURCES = ['a', 'b', 'c'];

interface Context {
  dir: string;
  store: ObjectStore;
  watcher?: TreeWatcher;
}

const watch = suite<Context>('startWatcher and checkJournal');

watch.before.each((ctx) => {
  try {
    ctx.dir = mkdtempSync(join(tmpdir(), 'katana-tracker-'));
    mkdirSync(join(ctx.dir, '.git'));
    ctx.store = new ObjectStore(join(ctx.dir, '.katana'), ctx.dir);
    for (const name of SOURCES) writeFileSync(join(ctx.dir, `${name}.c`), `int ${name}(int x) { return x + 1; }\n`);
    writeFileSync(join(ctx.dir, 'main.c'), 'int a(int), b(int), c(int);\nint main(void) { return a(0) + b(0) + c(0); }\n');
  } catch (error) {
    console.error('before.each failed:', error);
    throw error;
  }
});

watch.after.each(async (ctx) => {
  try {
    await ctx.watcher?.close();
    if (process.env.KATANA_KEEP_TMP !== '1') rmSync(ctx.dir, { recursive: true, force: true });
  } catch (error) {
    console.error('after.each failed:', error);
    throw error;
  }
});

/** Compiles every source with katana-cc and links `prog`; returns the link record of the result. */
async function build(ctx: Context, only = [...SOURCES, 'main']): Promise<{ path: string; link: LinkRecord }> {
  const env = { KATANA_STORE: ctx.store.dir };
  for (const name of only) await execa(katanaCc, ['-O2', '-c', `${name}.c`, '-o', `${name}.o`], { cwd: ctx.dir, env });
  await execa(katanaCc, ['-o', 'prog', ...[...SOURCES, 'main'].map((n) => `${n}.o`)], { cwd: ctx.dir, env });
  const path = join(ctx.dir, 'prog');
  const link = ctx.store.readLink(readBuildId(path)!);
  assert.ok(link, 'the link record of prog');
  return { path, link: link! };
}

/** Keeps the OLD executable (and its record) aside, as a deployed binary would be. */
function keep(ctx: Context, built: { path: string; link: LinkRecord }, name: string) {
  copyFileSync(built.path, join(ctx.dir, name));
  return built.link;
}

async function waitForChanged(ctx: Context, expected: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const journal = readJournal(ctx.watcher!.journalFile);
    if (JSON.stringify(journal?.changed) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) throw new Error(`journal lists ${JSON.stringify(journal?.changed)}, not ${JSON.stringify(expected)}, after 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const edit = (ctx: Context, name: string) => writeFileSync(join(ctx.dir, `${name}.c`), `int ${name}(int x) { return x * 3; }\n`);

watch('a rebuild while watching journals the rewritten objects, and the diff compares only those', async (ctx) => {
  const oldLink = keep(ctx, await build(ctx), 'prog-v1');
  ctx.watcher = await startWatcher(ctx.dir, ctx.store);
  assert.equal(Object.keys(ctx.watcher.journal.baseline).sort(), ['a.o', 'b.o', 'c.o', 'main.o']);
  edit(ctx, 'b');
  const built = await build(ctx, ['b']);
  await waitForChanged(ctx, ['b.o']);
  const verdict = checkJournal(ctx.store, oldLink, built.link, built.path);
  assert.ok(verdict.use, JSON.stringify(verdict));
  if (verdict.use) {
    assert.equal([...verdict.compare], [join(ctx.dir, 'b.o')]);
    assert.is(verdict.total, 4);
  }
  // A journal that missed the event (here: erased from the file) no longer vouches for b.o.
  const journal = readJournal(ctx.watcher.journalFile)!;
  writeFileSync(ctx.watcher.journalFile, JSON.stringify({ ...journal, changed: [] }));
  const missed = checkJournal(ctx.store, oldLink, built.link, built.path);
  assert.is(missed.use, false);
  assert.match(missed.use ? '' : missed.reason, /b\.o changed without the watcher seeing it/);
});

watch('a build the watcher did not see is refused', async (ctx) => {
  const oldLink = keep(ctx, await build(ctx), 'prog-v1');
  edit(ctx, 'a');
  await build(ctx, ['a']);
  ctx.watcher = await startWatcher(ctx.dir, ctx.store);
  edit(ctx, 'c');
  const built = await build(ctx, ['c']);
  await waitForChanged(ctx, ['c.o']);
  // The baseline has the new a.o, which is no object of OLD.
  const verdict = checkJournal(ctx.store, oldLink, built.link, built.path);
  assert.is(verdict.use, false);
  assert.match(verdict.use ? '' : verdict.reason, /its baseline is not the OLD build \(a\.o differs/);
});

watch('a watcher stopped before the build is refused', async (ctx) => {
  const oldLink = keep(ctx, await build(ctx), 'prog-v1');
  ctx.watcher = await startWatcher(ctx.dir, ctx.store);
  await ctx.watcher.close();
  const journal = readJournal(ctx.watcher.journalFile)!;
  edit(ctx, 'a');
  const built = await build(ctx, ['a']);
  const verdict = checkJournal(ctx.store, oldLink, built.link, built.path);
  assert.is(verdict.use, false);
  assert.match(verdict.use ? '' : verdict.reason, new RegExp(`its watcher \\(pid ${journal.watcher.pid}\\) stopped before .*prog was built`));
  ctx.watcher = undefined;
});

watch('a second watcher on the same tree is refused; none at all is reported as such', async (ctx) => {
  const built = await build(ctx);
  const none = checkJournal(ctx.store, built.link, built.link, built.path);
  assert.is(none.use, false);
  assert.is(none.journal, undefined);
  ctx.watcher = await startWatcher(ctx.dir, ctx.store);
  const other = await execa(process.execPath, [
    '--input-type=module', '-e',
    `import { startWatcher } from '@katana/tracker'; import { ObjectStore } from '@katana/cc';
     await startWatcher(${JSON.stringify(ctx.dir)}, new ObjectStore(${JSON.stringify(ctx.store.dir)}, ${JSON.stringify(ctx.dir)}));`,
  ], { cwd: fileURLToPath(new URL('../../', import.meta.url)), reject: false });
  assert.is.not(other.exitCode, 0);
  assert.match(other.stderr, new RegExp(`is already watched by pid ${process.pid}`));
  assert.equal(readFileSync(ctx.watcher.journalFile, 'utf8').includes(`"pid":${process.pid}`), true);
});

watch.run();
