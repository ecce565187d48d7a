// `katana watch` during a real make build: the diff that the journal restricts to the objects the
// watcher saw change writes the same PO bytes as the full comparison (`--no-journal`), and says on
// stderr how many objects it compared; a build made before the watcher started falls back to the
// full comparison, saying why.
import { execa } from 'execa';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana } from '../lib/katana.js';
import { bin } from '../lib/paths.js';

const SOURCES = 8;
const watch = suite('katana watch and katana diff');

/** A function long enough for a 5-byte jump at -O2. */
const source = (i: number, step: number) => `int f${i}(int x) { int s = 0; for (int k = 0; k < x; k++) s += k * ${step}; return s; }\n`;

function writeProject(dir: string): void {
  mkdirSync(join(dir, '.git'));
  for (let i = 0; i < SOURCES; i++) writeFileSync(join(dir, `f${i}.c`), source(i, i + 1));
  const calls = Array.from({ length: SOURCES }, (_, i) => `f${i}(n)`).join(' + ');
  const decls = Array.from({ length: SOURCES }, (_, i) => `int f${i}(int);`).join(' ');
  writeFileSync(join(dir, 'main.c'), `#include <stdio.h>\n${decls}\nint main(void) { int n = 1; printf("%d\\n", ${calls}); return 0; }\n`);
  const objects = [...Array.from({ length: SOURCES }, (_, i) => `f${i}.o`), 'main.o'].join(' ');
  writeFileSync(join(dir, 'Makefile'), `CC = ${bin('katana-cc')}\nCFLAGS = -O2\nprog: ${objects}\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) $(CFLAGS) -c $< -o $@\n`);
}

watch('the journal-restricted diff writes the same PO as the full comparison', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'katana-watch-'));
  try {
    writeProject(dir);
    await execa('make', ['-s', '-j2'], { cwd: dir });
    copyFileSync(join(dir, 'prog'), join(dir, 'prog-v1'));
    // Now the watcher: its baseline is the v1 build.
    const running = execa(bin('katana'), ['watch', dir], { cwd: dir, reject: false });
    try {
      await waitForReady(running);
      writeFileSync(join(dir, 'f3.c'), source(3, 33));
      writeFileSync(join(dir, 'f5.c'), source(5, 55));
      await execa('make', ['-s', '-j2'], { cwd: dir });
      const journaled = await diffUntilJournalUsed(dir);
      assert.match(journaled.stderr, /journal .* comparing 2 of 9 objects/);
      const full = await katana(['diff', '--old', 'prog-v1', '--new', 'prog', '-o', 'full.po', '--no-journal', '--json'], dir);
      assert.is(full.exitCode, 0, full.stderr);
      assert.is(JSON.parse(full.stdout).journal.used, false);
      assert.equal(readFileSync(join(dir, 'journaled.po')), readFileSync(join(dir, 'full.po')), 'same PO bytes');
      assert.equal(JSON.parse(journaled.stdout).changed.map((f: { name: string }) => f.name).sort(), ['f3', 'f5']);
    } finally {
      running.kill('SIGINT');
      const stopped = await running;
      assert.is(stopped.exitCode, 0, String(stopped.stderr));
    }
    // The watcher stopped before this build: the diff says so and compares every object.
    writeFileSync(join(dir, 'f1.c'), source(1, 11));
    await execa('make', ['-s', '-j2'], { cwd: dir });
    const stale = await katana(['diff', '--old', 'prog-v1', '--new', 'prog', '-o', 'stale.po'], dir);
    assert.is(stale.exitCode, 0, stale.stderr);
    assert.match(stale.stderr, /katana diff: journal .* not used: its watcher \(pid \d+\) stopped before .*prog was built; comparing every object/);
  } finally {
    if (process.env.KATANA_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  }
});

async function waitForReady(child: ReturnType<typeof execa>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (/katana watch: ready/.test(seen)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`katana watch exited (${code}) before it was ready: ${seen}`)));
  });
}

/** The watcher journals asynchronously: retry (with a deadline) until the diff reports using it. */
async function diffUntilJournalUsed(dir: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await katana(['diff', '--old', 'prog-v1', '--new', 'prog', '-o', 'journaled.po', '--json'], dir);
    assert.is(r.exitCode, 0, r.stderr);
    if (JSON.parse(r.stdout).journal.used) return r;
    if (Date.now() > deadline) throw new Error(`the journal was not used within 10 s: ${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

watch.run();
