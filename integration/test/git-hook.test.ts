// `katana hook install` in a real git repository of a tiny make project (CC=katana-cc) whose
// core.hooksPath folder already has a post-commit hook: install chains it (and installing twice
// changes nothing), a commit leaves .katana/patches/<sha>.po in the background that patches a
// running build of the parent, a commit that does not build logs its failure and still succeeds,
// and uninstall puts the previous hook back byte for byte.
import { execa } from 'execa';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana } from '../lib/katana.js';
import { bin, repoRoot } from '../lib/paths.js';
import { RunningTarget } from '../lib/target.js';

const hook = suite('katana hook');
const PREVIOUS_HOOK = '#!/bin/sh\necho "previous hook ran for $(git rev-parse HEAD)" >> previous-hook.log\n';

/** Polls until `check` returns a value, or fails after `ms` with what `explain` says. */
async function eventually<T>(check: () => T | undefined, ms: number, explain: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${explain()} (after ${ms / 1000} s)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

hook('the post-commit hook leaves a PO per commit, never blocks a commit, and uninstalls cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'katana-hook-'));
  let server: RunningTarget | undefined;
  const logFile = join(dir, '.katana', 'hook.log');
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    cpSync(join(repoRoot, 'examples', 'greeter'), dir, { recursive: true });
    writeFileSync(join(dir, 'Makefile'), `CC = ${bin('katana-cc')}\nCFLAGS = -O2\nserver: server.o greeting.o\n\t$(CC) -o $@ $^\n%.o: %.c greeting.h\n\t$(CC) $(CFLAGS) -c $< -o $@\n`);
    writeFileSync(join(dir, '.gitignore'), '.katana/\n*.o\nserver\nserver-v1\n*.log\n');
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=katana', '-c', 'user.email=katana@example.invalid', ...args], { cwd: dir, reject: false });
    await git('init', '-q');
    await git('config', 'core.hooksPath', 'githooks');
    mkdirSync(join(dir, 'githooks'));
    writeFileSync(join(dir, 'githooks', 'post-commit'), PREVIOUS_HOOK);
    chmodSync(join(dir, 'githooks', 'post-commit'), 0o755);
    await git('add', '.');
    assert.is((await git('commit', '-qm', 'v1')).exitCode, 0);

    const install = await katana(['hook', 'install'], dir);
    assert.is(install.exitCode, 0, install.stderr);
    assert.match(install.stdout, /installed, chaining the previous hook, .*githooks\/post-commit/);
    const installed = readFileSync(join(dir, 'githooks', 'post-commit'), 'utf8');
    const again = await katana(['hook', 'install'], dir);
    assert.match(again.stdout, /updated/);
    assert.is(readFileSync(join(dir, 'githooks', 'post-commit'), 'utf8'), installed, 'installing twice changes nothing');
    assert.is(readFileSync(join(dir, 'githooks', 'post-commit.katana-chained'), 'utf8'), PREVIOUS_HOOK);

    await execa('make', ['-s'], { cwd: dir });
    copyFileSync(join(dir, 'server'), join(dir, 'server-v1'));
    server = new RunningTarget(join(dir, 'server-v1'));
    await server.waitForLine(/^(hello|hi) \d+$/);

    const source = join(dir, 'greeting.c');
    writeFileSync(source, readFileSync(source, 'utf8').replace('"hello"', '"bonjour"'));
    assert.is((await git('commit', '-qam', 'fix')).exitCode, 0);
    const fix = (await git('rev-parse', 'HEAD')).stdout.trim();
    assert.match(readFileSync(join(dir, 'previous-hook.log'), 'utf8'), new RegExp(`previous hook ran for ${fix}`));
    const po = join(dir, '.katana', 'patches', `${fix}.po`);
    await eventually(() => (existsSync(po) ? true : undefined), 90_000, () => `no ${po}; hook.log: ${log()}`);
    const apply = await katana(['apply', '--pid', String(server.pid), po], dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    const first = await server.waitForLine(/^bonjour \d+$/);
    await server.waitForLine(/^bonjour \d+$/, first + 1);

    writeFileSync(source, 'this is not C\n');
    assert.is((await git('commit', '-qam', 'broken')).exitCode, 0, 'a commit that does not build still succeeds');
    const broken = (await git('rev-parse', 'HEAD')).stdout.trim();
    const failure = new RegExp(`katana hook: ${broken.slice(0, 12)}: failed: building commit \\(${broken.slice(0, 12)}\\) with 'make' in .* failed`);
    await eventually(() => (failure.test(log()) ? true : undefined), 90_000, () => `no failure logged for ${broken}; hook.log: ${log()}`);
    assert.not.ok(existsSync(join(dir, '.katana', 'patches', `${broken}.po`)));

    const uninstall = await katana(['hook', 'uninstall'], dir);
    assert.is(uninstall.exitCode, 0, uninstall.stderr);
    assert.match(uninstall.stdout, /restored the previous hook/);
    assert.is(readFileSync(join(dir, 'githooks', 'post-commit'), 'utf8'), PREVIOUS_HOOK);
    assert.not.ok(existsSync(join(dir, 'githooks', 'post-commit.katana-chained')));
  } finally {
    server?.kill();
    if (process.env.KATANA_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  }
});

hook.run();
