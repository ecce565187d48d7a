// COMDAT functions: C++ inline functions (class methods defined in the class body) and template
// instantiations are emitted by every object that uses them, each copy in its own section group
// (SHF_GROUP, named after the symbol), and the linker keeps the copy of the first object in link
// order and discards the others. The target therefore has one function per name, and a patch must
// replace it once: the copy the diff works on is the one of the first NEW object that has it, as
// the linker chose; the other copies are left out of the diff (references to the weak symbol from
// any object bind by name, to that copy or to the target's function).
import { type ElfSymbol, SHF_GROUP, STB_LOCAL } from '@katana/elf';
import type { ObjectModel } from './objects.js';

/** True for a global or weak function in a section group: one of possibly many identical copies. */
export function isComdatFunction(model: ObjectModel, fn: ElfSymbol): boolean {
  return fn.bind !== STB_LOCAL && (model.section(fn.shndx).flags & SHF_GROUP) !== 0n;
}

/** The COMDAT functions of `models` (in link order) the linker discarded: every copy but the first. */
export function discardedComdatCopies(models: readonly ObjectModel[]): Set<ElfSymbol> {
  const kept = new Set<string>();
  const discarded = new Set<ElfSymbol>();
  for (const model of models) {
    for (const fn of model.functions) {
      if (!isComdatFunction(model, fn)) continue;
      if (kept.has(fn.name)) discarded.add(fn);
      else kept.add(fn.name);
    }
  }
  return discarded;
}
