// Choosing the functions that go into the patch (kpatch's "mark"). A NEW function goes in when it
// has no OLD counterpart (added) or compares unequal to it (changed). A `.cold` part (`foo.cold` in
// .text.unlikely.foo) and its parent are one unit: gcc jumps between them, so when either changed
// both go in; the trampoline goes at the parent only, and OLD's cold parts become unsafe functions
// without a redirect. Callers of a changed function stay out: the trampoline redirects them. Of a
// COMDAT function (C++ inline or template) only the copy the linker kept is considered (comdat.ts).
import type { ElfSymbol } from '@katana/elf';
import { discardedComdatCopies } from './comdat.js';
import { functionsEqual, type Side } from './compare.js';
import { Correlation } from './correlate.js';
import type { ObjectPair } from './inputs.js';
import { ObjectModel } from './objects.js';

/** A NEW function chosen for the patch. */
export interface MarkedFunction {
  symbol: ElfSymbol;
  /** Its OLD counterpart (absent for an added function). */
  old?: ElfSymbol;
  /** A `.cold` part: copied with its parent, never redirected to. */
  cold: boolean;
}

/** What changed in one NEW object. */
export interface ObjectDiff {
  newSide: Side;
  oldSide?: Side;
  correlation: Correlation;
  functions: MarkedFunction[];
  /** OLD `.cold` parts of replaced functions: unsafe, not redirected. */
  oldColdParts: ElfSymbol[];
}

const COLD = /^(.+)\.cold(\.\d+)?$/;

/** Correlates and compares every object pair and marks what goes into the patch. */
export function mark(pairs: ObjectPair[]): ObjectDiff[] {
  const models = pairs.map((pair) => ({ newModel: new ObjectModel(pair.new), oldModel: pair.old ? new ObjectModel(pair.old) : undefined }));
  const discarded = discardedComdatCopies(models.map((m) => m.newModel));
  return models.map(({ newModel, oldModel }) => {
    const correlation = new Correlation(oldModel, newModel);
    const newSide: Side = { model: newModel, side: 'new', correlation };
    const oldSide: Side | undefined = oldModel ? { model: oldModel, side: 'old', correlation } : undefined;
    const differs = (f: ElfSymbol): boolean => {
      const old = correlation.oldOf(f);
      return !old || !oldSide || !functionsEqual(oldSide, old, newSide, f);
    };
    // One unit per parent: `foo`, `foo.cold` (and older gcc's `foo.cold.0`) share the key `foo`.
    const units = new Map<string, ElfSymbol[]>();
    for (const f of newModel.functions) {
      if (discarded.has(f)) continue;
      const key = COLD.exec(f.name)?.[1] ?? f.name;
      units.set(key, [...(units.get(key) ?? []), f]);
    }
    const functions: MarkedFunction[] = [];
    const oldColdParts: ElfSymbol[] = [];
    for (const [parent, members] of units) {
      if (!members.some(differs)) continue;
      for (const f of members) functions.push({ symbol: f, old: correlation.oldOf(f), cold: f.name !== parent });
      const oldParent = members.find((f) => f.name === parent);
      const oldName = oldParent ? correlation.oldOf(oldParent)?.name : undefined;
      if (oldModel && oldName) {
        oldColdParts.push(...oldModel.functions.filter((f) => COLD.exec(f.name)?.[1] === oldName));
      }
    }
    return { newSide, oldSide, correlation, functions, oldColdParts };
  });
}
