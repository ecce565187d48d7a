// Adds to the patch every function that must not run against a variable's old layout once it
// moves: each NEW function whose code refers to a migrated variable (globals by name from any
// object, statics from their own object), and each function with a parameter or local of a
// changed type or a pointer to one (hasLocalOfType), changed bytes or not: a thread inside one
// may hold an old object in a register. They are then redirected like any changed
// function, so they are also unsafe: no thread may be in them while the patch switches, and old
// code that knew the old layout no longer runs afterwards.
import { type ElfSymbol, STB_LOCAL } from '@katana/elf';
import { hasLocalOfType, readDwarf } from '@katana/dwarf';
import type { ObjectDiff } from './mark.js';
import type { Migration } from './migrate.js';
import { resolveReference } from './reference.js';

/** Appends the users of migrated variables and of changed types, and the transformers, to each diff's functions. */
export function markDataUsers(diffs: ObjectDiff[], migration: Migration): void {
  if (migration.variables.length === 0) return;
  for (const t of migration.types) {
    const fn = t.transformer;
    if (fn && !fn.diff.functions.some((m) => m.symbol === fn.symbol)) fn.diff.functions.push({ symbol: fn.symbol, old: fn.diff.correlation.oldOf(fn.symbol), cold: false });
  }
  // A variable updated in place keeps its storage: the code that reads it need not change. (What it
  // reads, the objects, changed; the functions touching their layout differ in bytes or have a
  // local pointing to the type, and join below.)
  const moved = migration.variables.filter((m) => !m.inPlace);
  const globals = new Set(moved.filter((m) => m.symbol.bind !== STB_LOCAL).map((m) => m.symbol.name));
  for (const diff of diffs) {
    const model = diff.newSide.model;
    const statics = new Set(moved.filter((m) => m.diff === diff && m.symbol.bind === STB_LOCAL).map((m) => m.symbol));
    const changed = migration.changedTypes.get(diff) ?? new Set<string>();
    const info = changed.size > 0 && model.object.elf.section('.debug_info') ? readDwarf(model.object.elf) : undefined;
    const uses = (fn: ElfSymbol): boolean =>
      model.relocationsOf(fn).some((r) => {
        const ref = resolveReference(model, r, fn);
        if (ref.kind !== 'symbol') return false;
        return ref.symbol.bind === STB_LOCAL ? statics.has(ref.symbol) : globals.has(ref.symbol.name);
      });
    const hasChangedLocal = (fn: ElfSymbol): boolean => info !== undefined && [...changed].some((t) => hasLocalOfType(info, fn.name, t, true));
    for (const fn of model.functions) {
      if (diff.functions.some((m) => m.symbol === fn)) continue;
      if (uses(fn) || hasChangedLocal(fn)) diff.functions.push({ symbol: fn, old: diff.correlation.oldOf(fn), cold: false });
    }
  }
}
