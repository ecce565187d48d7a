// katana-cc and katana-c++ under CMake: as CMAKE_C_COMPILER / CMAKE_CXX_COMPILER (Unix Makefiles,
// make -j4), and as CMAKE_<LANG>_COMPILER_LAUNCHER + CMAKE_<LANG>_LINKER_LAUNCHER (Ninja). CMake's
// compiler detection and try-compiles must pass; the link records of the program and of the
// shared library must list every object with its source, the static library's member included;
// then a changed util.c, rebuilt incrementally, gives a patch with `katana diff`.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { binPath, buildEnv, linkOf, makeProject, removeProject, requireTools, run } from './helpers.js';
import { OUTPUT, SOURCES, UTIL_FIXED } from './projects.js';

requireTools('cmake', 'make', 'ninja', 'cc', 'c++', 'git', 'readelf');

const CMAKELISTS = `cmake_minimum_required(VERSION 3.13)
project(demo C CXX)
add_library(util STATIC util.c)
add_library(greet SHARED greet.cpp)
add_executable(prog main.c)
target_link_libraries(prog util greet)
`;

const cmake = suite('katana-cc under cmake');
cmake.before.each((ctx) => { ctx['dir'] = makeProject({ ...SOURCES, 'CMakeLists.txt': CMAKELISTS }); });
cmake.after.each((ctx) => { removeProject(ctx['dir'] as string); });

function checkRecords(dir: string): void {
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const build = join(dir, 'build');
  const prog = linkOf(store, join(build, 'prog'));
  assert.equal(prog.record.objects.map((o) => o.path), [
    join(build, 'CMakeFiles', 'prog.dir', 'main.c.o'), join(build, 'libutil.a(util.c.o)'),
  ]);
  assert.equal(prog.sources, ['main.c', 'util.c']);
  assert.equal(prog.record.untracked, [join(build, 'libgreet.so')]);
  const greet = linkOf(store, join(build, 'libgreet.so'));
  assert.is(greet.record.kind, 'shared');
  assert.equal(greet.sources, ['greet.cpp']);
  assert.is(store.readManifest(greet.record.objects[0]!.hash)!.language, 'c++');
}

function checkPatch(dir: string, rebuild: string[]): void {
  copyFileSync(join(dir, 'build', 'prog'), join(dir, 'prog.v1'));
  writeFileSync(join(dir, 'util.c'), UTIL_FIXED);
  run(rebuild[0]!, rebuild.slice(1), dir);
  assert.is(run(join(dir, 'build', 'prog'), [], dir), '1042\n');
  const diff = run(process.execPath, [binPath('katana'), 'diff', '--old', 'prog.v1', '--new', 'build/prog', '-o', 'fix.po', '--json'], dir);
  assert.equal((JSON.parse(diff) as { changed: { name: string; file: string }[] }).changed.map((f) => [f.name, f.file]), [['twice', 'util.c']]);
}

cmake('CMAKE_C_COMPILER=katana-cc, CMAKE_CXX_COMPILER=katana-c++, Unix Makefiles', (ctx) => {
  const dir = ctx['dir'] as string;
  run('cmake', ['-S', '.', '-B', 'build', '-G', 'Unix Makefiles', `-DCMAKE_C_COMPILER=${binPath('katana-cc')}`, `-DCMAKE_CXX_COMPILER=${binPath('katana-c++')}`], dir);
  run('make', ['-C', 'build', '-j4'], dir);
  assert.is(run(join(dir, 'build', 'prog'), [], dir), OUTPUT);
  checkRecords(dir);
  checkPatch(dir, ['make', '-C', 'build', '-j4']);
});

cmake('compiler and linker launchers, Ninja', (ctx) => {
  const dir = ctx['dir'] as string;
  const launchers = ['C', 'CXX'].flatMap((lang) => {
    const tool = binPath(lang === 'C' ? 'katana-cc' : 'katana-c++');
    return [`-DCMAKE_${lang}_COMPILER_LAUNCHER=${tool}`, `-DCMAKE_${lang}_LINKER_LAUNCHER=${tool}`];
  });
  run('cmake', ['-S', '.', '-B', 'build', '-G', 'Ninja', ...launchers], dir, buildEnv());
  run('ninja', ['-C', 'build'], dir);
  assert.is(run(join(dir, 'build', 'prog'), [], dir), OUTPUT);
  checkRecords(dir);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  // The compiler CMake found runs underneath: the manifests name it.
  const main = linkOf(store, join(dir, 'build', 'prog')).record.objects[0]!;
  assert.match(store.readManifest(main.hash)!.compiler, /(^|\/)(cc|gcc)(-\d+)?$/);
  checkPatch(dir, ['ninja', '-C', 'build']);
});
cmake.run();
