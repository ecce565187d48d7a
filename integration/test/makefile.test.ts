// Makefile.example end to end: a git project built with make under katana-cc; `make katana-patch
// SINCE=v1` (plugins/make/katana.mk → katana-make patch-since) builds v1 in a worktree and the work
// tree, and writes a PO for the server; applying it to the running v1 server changes its output.
import { execa } from 'execa';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana } from '../lib/katana.js';
import { repoRoot } from '../lib/paths.js';
import { RunningTarget } from '../lib/target.js';

const makefile = suite('Makefile.example and katana-make patch-since');

makefile('make katana-patch SINCE=v1 writes a PO that patches the running v1 server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'katana-makefile-'));
  let server: RunningTarget | undefined;
  try {
    copyFileSync(join(repoRoot, 'Makefile.example'), join(dir, 'Makefile.example'));
    mkdirSync(join(dir, 'plugins', 'make'), { recursive: true });
    copyFileSync(join(repoRoot, 'plugins', 'make', 'katana.mk'), join(dir, 'plugins', 'make', 'katana.mk'));
    cpSync(join(repoRoot, 'examples', 'greeter'), join(dir, 'examples', 'greeter'), { recursive: true });
    writeFileSync(join(dir, '.gitignore'), '.katana/\n*.o\nexamples/greeter/server\n');
    const env = { KATANA_BIN: join(repoRoot, 'node_modules', '.bin') };
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=katana', '-c', 'user.email=katana@example.invalid', ...args], { cwd: dir });
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-qm', 'v1');
    await git('tag', 'v1');

    await execa('make', ['-f', 'Makefile.example'], { cwd: dir, env });
    copyFileSync(join(dir, 'examples/greeter/server'), join(dir, 'server-v1'));
    server = new RunningTarget(join(dir, 'server-v1'));
    await server.waitForLine(/^(hello|hi) \d+$/);

    const source = join(dir, 'examples/greeter/greeting.c');
    writeFileSync(source, readFileSync(source, 'utf8').replace('"hello"', '"bonjour"'));
    const made = await execa('make', ['-f', 'Makefile.example', 'katana-patch', 'SINCE=v1'], { cwd: dir, env, reject: false });
    assert.is(made.exitCode, 0, made.stderr);
    assert.match(made.stderr, /katana-make: built v1 \([0-9a-f]{12}\) in [0-9.]+ s/);
    assert.match(made.stdout, /^patched\s+examples\/greeter\/server -> /m);
    const patches = readdirSync(join(dir, '.katana', 'patches'));
    assert.equal(patches.length, 1, `one PO: ${patches}`);
    const po = join(dir, '.katana', 'patches', patches[0]!);

    const inspect = await katana(['inspect', '--json', po], dir);
    assert.equal(JSON.parse(inspect.stdout).changed.map((f: { name: string; file: string }) => `${f.file}:${f.name}`), ['examples/greeter/greeting.c:greeting']);
    const apply = await katana(['apply', '--pid', String(server.pid), po], dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    const first = await server.waitForLine(/^bonjour \d+$/);
    await server.waitForLine(/^bonjour \d+$/, first + 1);
    assert.ok(server.alive);

    // A second run reuses the v1 worktree build: make finds everything up to date there.
    const again = await execa('make', ['-f', 'Makefile.example', 'katana-patch', 'SINCE=v1'], { cwd: dir, env, reject: false });
    assert.is(again.exitCode, 0, again.stderr);
    assert.not.match(again.stderr, /checking out v1/);
  } finally {
    server?.kill();
    if (process.env.KATANA_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  }
});

makefile.run();
