// Launcher mode, as ccache and sccache offer it: `katana-cc gcc -c a.c` runs the compiler named by
// the first argument instead of KATANA_REAL_CC. This is what CMake's CMAKE_<LANG>_COMPILER_LAUNCHER
// and CMAKE_<LANG>_LINKER_LAUNCHER produce. The first argument names a compiler when it is not an
// option or a response file, has no extension gcc reads as an input (a.c, x.o, libm.a, libz.so.1),
// and is an executable file: a path, or a name found on PATH.
import { accessSync, constants, statSync } from 'node:fs';
import { basename, delimiter, join, resolve } from 'node:path';
import { languageOfPath, type Driver } from '../args/classify.js';

/** The compiler to run and the arguments to give it, when argv starts with a compiler. */
export interface Launch {
  compiler: string;
  args: string[];
  /** c++ when the compiler's name says so (g++, c++, clang++), c otherwise. */
  driver: Driver;
}

// Linker inputs without a language: objects, archives, shared libraries (also versioned ones).
const INPUT_FILE = /\.(o|obj|a|lo|la|so(\.\d+)*)$/;

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && isExecutableFile(join(dir, name)));
}

/** Reads argv as `<compiler> args...` when its first argument names a compiler, else undefined. */
export function detectLauncher(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Launch | undefined {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || first.startsWith('@')) return undefined;
  if (languageOfPath(first, 'c') !== undefined || INPUT_FILE.test(first)) return undefined;
  const found = first.includes('/') ? isExecutableFile(resolve(cwd, first)) : findOnPath(first, env);
  if (!found) return undefined;
  return { compiler: first, args: argv.slice(1), driver: basename(first).includes('++') ? 'c++' : 'c' };
}
