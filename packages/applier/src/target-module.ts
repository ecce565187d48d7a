// Which mapped module a Patch Object changes: the one whose NT_GNU_BUILD_ID is the PO's target
// build-id, the executable or any shared library the process has mapped (linked at start-up or
// dlopen()ed since). The executable is tried first, so patching it reads no library file; libraries
// are then opened in map order. The PO's link-time addresses become run-time ones with that
// module's load bias, and the patch area goes near it. A PO for a library that is not mapped is
// refused naming the library (and the build it has instead, if a file of that name is mapped).
import { basename } from 'node:path';
import type { PatchObject } from '@katana/po';
import { BuildIdMismatchError, LibraryNotLoadedError } from './errors.js';
import type { Module, ProcessModel } from './process.js';

/** True for a file name such as libfoo.so or libc.so.6. */
function isLibraryName(name: string): boolean {
  return /\.so(\.\d+)*$/.test(name);
}

function buildIdOf(module: Module): string | undefined {
  try {
    return module.elf.buildId();
  } catch {
    return undefined; // a mapped file we cannot parse is not the target
  }
}

/** The module of `model` that `po` changes; throws when the process maps no module of that build. */
export function findTargetModule(model: ProcessModel, po: PatchObject, poName: string): Module {
  const wanted = po.targetBuildId.toLowerCase();
  if (model.buildId === wanted) return model.exe;
  const target = model.modules.find((m) => m !== model.exe && buildIdOf(m) === wanted);
  if (target !== undefined) return target;
  if (!isLibraryName(po.targetName)) throw new BuildIdMismatchError(model.pid, poName, po.targetBuildId, model.exePath, model.buildId);
  const sameName = model.modules.find((m) => basename(m.path) === po.targetName);
  throw new LibraryNotLoadedError(model.pid, poName, po.targetName, po.targetBuildId, sameName && { path: sameName.path, buildId: buildIdOf(sameName) });
}
