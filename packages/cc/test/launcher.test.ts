// Launcher mode (`katana-cc gcc -c a.c`, CMake's *_COMPILER_LAUNCHER): which first arguments name a
// compiler, and a real launched compile and link that record like katana-cc's own.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { detectLauncher } from '../src/wrapper/launcher.js';
import { ObjectStore } from '../src/index.js';
import { katanaOk, linkOf, makeProject, removeProject, requireTools, run } from './helpers.js';

requireTools('gcc', 'g++', 'cc', 'git', 'readelf');

const detect = suite('detectLauncher');
detect.before.each((ctx) => {
  const dir = makeProject({ 'a.c': 'int main(void) { return 0; }\n', 'prog': '' });
  writeFileSync(join(dir, 'mycc'), '#!/bin/sh\nexec cc "$@"\n');
  chmodSync(join(dir, 'mycc'), 0o755);
  ctx['dir'] = dir;
});
detect.after.each((ctx) => { removeProject(ctx['dir'] as string); });

detect('a compiler on PATH or by path is a launcher call; its name picks the C++ driver', (ctx) => {
  const dir = ctx['dir'] as string;
  assert.equal(detectLauncher(['gcc', '-c', 'a.c'], dir, process.env), { compiler: 'gcc', args: ['-c', 'a.c'], driver: 'c' });
  assert.equal(detectLauncher(['g++', '-c', 'a.c'], dir, process.env)?.driver, 'c++');
  assert.equal(detectLauncher(['./mycc', 'a.c'], dir, process.env), { compiler: './mycc', args: ['a.c'], driver: 'c' });
});
detect('options, sources, objects, libraries and files that are not executables are not', (ctx) => {
  const dir = ctx['dir'] as string;
  for (const argv of [['-c', 'a.c'], ['a.c'], ['@args.rsp'], ['main.o'], ['libz.so.1'], ['libm.a'], ['prog', 'a.c'], ['mycc', 'a.c'], []]) {
    assert.is(detectLauncher(argv, dir, process.env), undefined, JSON.stringify(argv));
  }
});
detect.run();

const launched = suite('katana-cc as a launcher');
launched.before.each((ctx) => {
  ctx['dir'] = makeProject({
    'a.cpp': '#include <cstdio>\nextern "C" int value();\nint main() { std::printf("%d\\n", value()); }\n',
    'b.c': 'int value(void) { return 42; }\n',
  });
});
launched.after.each((ctx) => { removeProject(ctx['dir'] as string); });
launched('katana-cc g++ / gcc compile and link with the named compiler, recorded with it', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['g++', '-c', 'a.cpp'], dir);
  katanaOk('katana-cc', ['gcc', '-O2', '-c', 'b.c'], dir);
  katanaOk('katana-cc', ['g++', '-o', 'prog', 'a.o', 'b.o'], dir);
  assert.is(run(join(dir, 'prog'), [], dir), '42\n');
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const { record, sources } = linkOf(store, join(dir, 'prog'));
  assert.equal(sources, ['a.cpp', 'b.c']);
  assert.equal(record.objects.map((o) => [store.readManifest(o.hash)!.compiler, store.readManifest(o.hash)!.language]), [['g++', 'c++'], ['gcc', 'c']]);
  assert.equal(record.args, ['-o', 'prog', 'a.o', 'b.o']);
});
launched.run();
