// plugins/cmake/Katana.cmake end to end: a real CMake project (examples/greeter) in a git
// repository includes it before project(); the build compiles with katana-cc, and `cmake --build
// build --target katana-patch` with KATANA_SINCE=v1 writes a PO that patches the running v1 server.
import { execa } from 'execa';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '@katana/cc';
import { readBuildId } from '@katana/elf';
import { katana } from '../lib/katana.js';
import { repoRoot } from '../lib/paths.js';
import { RunningTarget } from '../lib/target.js';

const cmake = suite('plugins/cmake/Katana.cmake');

cmake('cmake --build --target katana-patch writes a PO that patches the running v1 server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'katana-cmake-'));
  let server: RunningTarget | undefined;
  try {
    cpSync(join(repoRoot, 'examples', 'greeter'), dir, { recursive: true });
    const module = join(repoRoot, 'plugins', 'cmake', 'Katana.cmake');
    writeFileSync(join(dir, 'CMakeLists.txt'), `cmake_minimum_required(VERSION 3.20)\ninclude(${module})\nproject(greeter C)\nadd_executable(server server.c greeting.c)\n`);
    writeFileSync(join(dir, '.gitignore'), 'build/\n.katana/\nserver-v1\n');
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=katana', '-c', 'user.email=katana@example.invalid', ...args], { cwd: dir });
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-qm', 'v1');
    await git('tag', 'v1');

    await execa('cmake', ['-S', '.', '-B', 'build', '-DCMAKE_BUILD_TYPE=RelWithDebInfo'], { cwd: dir });
    await execa('cmake', ['--build', 'build'], { cwd: dir });
    const built = join(dir, 'build', 'server');
    const link = new ObjectStore(join(dir, '.katana'), dir).readLink(readBuildId(built)!);
    assert.ok(link, 'the server was linked by katana-cc');
    assert.equal(link!.objects.length, 2, 'both objects recorded');
    copyFileSync(built, join(dir, 'server-v1'));
    server = new RunningTarget(join(dir, 'server-v1'));
    await server.waitForLine(/^(hello|hi) \d+$/);

    const source = join(dir, 'greeting.c');
    writeFileSync(source, readFileSync(source, 'utf8').replace('"hello"', '"bonjour"'));
    const missing = await execa('cmake', ['--build', 'build', '--target', 'katana-patch'], { cwd: dir, reject: false });
    assert.is.not(missing.exitCode, 0, 'no revision given');
    assert.match(missing.stderr + missing.stdout, /katana-patch: say which revision to patch from/);
    const made = await execa('cmake', ['--build', 'build', '--target', 'katana-patch'], { cwd: dir, env: { KATANA_SINCE: 'v1' }, reject: false });
    assert.is(made.exitCode, 0, made.stderr + made.stdout);
    const patches = readdirSync(join(dir, '.katana', 'patches'));
    assert.equal(patches.length, 1, `one PO: ${patches}`);
    const apply = await katana(['apply', '--pid', String(server.pid), join(dir, '.katana', 'patches', patches[0]!)], dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    const first = await server.waitForLine(/^bonjour \d+$/);
    await server.waitForLine(/^bonjour \d+$/, first + 1);
  } finally {
    server?.kill();
    if (process.env.KATANA_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  }
});

cmake.run();
