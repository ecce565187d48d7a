// The flags katana-cc adds, and why (README.md has the user-facing version):
//   -g                          DWARF: the emitter needs types, variables and CFI of every function
//   -ffunction-sections         one section per function, so that the diff works per function
//   -fdata-sections             one section per variable, so that new code can be bound to old storage
//   -idirafter <katana>/include <katana/transform.h>, for KATANA_TRANSFORM (searched after the user's)
//   -ffile-prefix-map=<root>=.  no absolute checkout path in the object: two checkouts of one
//                               revision in different folders give byte-identical objects
//   -flive-patching=inline-clone  forbid the interprocedural optimizations whose effect on callers
//                               is invisible in the callers' bytes (IPA register allocation,
//                               pure/const discovery, identical code folding, ...); skipped when the
//                               user asks for LTO or sets any -fipa-* / -flive-patching flag, which gcc
//                               refuses to combine with it
//   -Wl,--build-id              (links only) the key of the link record and how `katana apply`
//                               recognises the running binary
// They go before the user's arguments so that an explicit user choice (-g3, -Wl,--build-id=sha1) wins.
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { findProjectRoot } from '../root.js';

/** Flags katana-cc adds to every link. */
export const LINK_FLAGS: readonly string[] = ['-Wl,--build-id'];

/**
 * The project roots to map to `.`: the physical one (from process.cwd(), symlinks resolved) and,
 * when $PWD names the same folder through a symlink, the logical one gcc may use for DW_AT_comp_dir.
 */
export function prefixRoots(cwd: string, env: NodeJS.ProcessEnv): string[] {
  const roots = [findProjectRoot(cwd)];
  const pwd = env['PWD'];
  if (pwd && pwd !== cwd) {
    try {
      if (realpathSync(pwd) === realpathSync(cwd)) roots.push(findProjectRoot(pwd));
    } catch {
      // $PWD is stale or unreadable: gcc will not use it either.
    }
  }
  return [...new Set(roots)];
}

function conflictsWithLivePatching(arg: string): boolean {
  return arg.startsWith('-flto') || arg.startsWith('-flive-patching') ||
    arg.startsWith('-fipa-');
}

/** katana's own headers (<katana/transform.h>), searched after every other include directory. */
export const KATANA_INCLUDE_DIR = fileURLToPath(new URL('../../../include', import.meta.url));

/** Flags katana-cc adds to every compile, given the user's (expanded) arguments. */
export function compileFlags(args: readonly string[], roots: readonly string[]): string[] {
  const flags = ['-g', '-ffunction-sections', '-fdata-sections', '-idirafter', KATANA_INCLUDE_DIR];
  // A root of / (no .git above a folder at /) would rewrite every system header path: skip it.
  for (const root of roots) if (root !== '/') flags.push(`-ffile-prefix-map=${root}=.`);
  if (!args.some(conflictsWithLivePatching)) flags.push('-flive-patching=inline-clone');
  return flags;
}
