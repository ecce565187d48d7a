// Pairs the symbols of an OLD object with those of the NEW one (kpatch's "correlate"). Globals and
// file statics pair by name. Local functions pair by name, then gcc clones whose number changed
// (`work.constprop.0` → `work.constprop.1`) by their name with numbers stripped, when that is
// unique on both sides. Static locals are renamed by gcc at will (`count.0` in v1 is `count.1` in
// v2), so they pair by the function that references them plus their base name (`count`).
import { type ElfSymbol, STB_LOCAL } from '@katana/elf';
import type { ObjectModel } from './objects.js';
import { resolveReference } from './reference.js';

const NUMBERED = /^(.+)\.(\d+)$/;

/** The symbol pairs of one OLD/NEW object pair. */
export class Correlation {
  private readonly pairs = new Map<number, ElfSymbol>();

  /** Correlates `newModel` against `oldModel` (undefined for an object that is new as a whole). */
  constructor(readonly oldModel: ObjectModel | undefined, readonly newModel: ObjectModel) {
    if (!oldModel) return;
    this.correlateFunctions(oldModel, newModel);
    this.correlateVariables(oldModel, newModel);
  }

  /** The OLD counterpart of NEW symbol `symbol`, if any. */
  oldOf(symbol: ElfSymbol): ElfSymbol | undefined {
    return this.pairs.get(symbol.index);
  }

  /**
   * A name that is equal for a NEW local symbol and its OLD counterpart, for comparing references:
   * the OLD name when correlated, and a name no OLD symbol can have otherwise.
   */
  identity(side: 'old' | 'new', symbol: ElfSymbol): string {
    if (side === 'old' || symbol.bind !== STB_LOCAL) return symbol.name;
    return this.oldOf(symbol)?.name ?? `${symbol.name} (new)`;
  }

  private correlateFunctions(oldModel: ObjectModel, newModel: ObjectModel): void {
    const oldByName = new Map(oldModel.functions.map((f) => [f.name, f]));
    const unmatched: ElfSymbol[] = [];
    for (const f of newModel.functions) {
      const old = oldByName.get(f.name);
      if (old) {
        this.pairs.set(f.index, old);
        oldByName.delete(f.name);
      } else if (f.bind === STB_LOCAL) unmatched.push(f);
    }
    const oldByStripped = groupBy([...oldByName.values()].filter((f) => f.bind === STB_LOCAL), (f) => stripNumbers(f.name));
    const newByStripped = groupBy(unmatched, (f) => stripNumbers(f.name));
    for (const [stripped, news] of newByStripped) {
      const olds = oldByStripped.get(stripped);
      if (news.length === 1 && olds?.length === 1) this.pairs.set(news[0]!.index, olds[0]!);
    }
  }

  private correlateVariables(oldModel: ObjectModel, newModel: ObjectModel): void {
    const oldByName = new Map(oldModel.variables.map((v) => [v.name, v]));
    const oldStatics = new Map<string, ElfSymbol>();
    for (const [variable, users] of referrers(oldModel)) {
      const base = NUMBERED.exec(variable.name)?.[1];
      if (base) for (const user of users) oldStatics.set(`${user.name}/${base}`, variable);
    }
    const newUsers = referrers(newModel);
    const taken = new Set<ElfSymbol>();
    for (const v of newModel.variables) {
      const base = v.bind === STB_LOCAL ? NUMBERED.exec(v.name)?.[1] : undefined;
      const users = newUsers.get(v) ?? [];
      let old: ElfSymbol | undefined;
      // A numbered static local used by code pairs through its users only: the same number in OLD
      // may well be another function's variable.
      if (base && users.length > 0) {
        for (const user of users) old ??= oldStatics.get(`${this.identity('new', user)}/${base}`);
      } else old = oldByName.get(v.name);
      if (!old || taken.has(old) || (old.bind === STB_LOCAL) !== (v.bind === STB_LOCAL)) continue;
      taken.add(old);
      this.pairs.set(v.index, old);
    }
  }
}

/** `work.constprop.0` → `work.constprop.N`. */
function stripNumbers(name: string): string {
  return name.replace(/\.\d+/g, '.N');
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    map.set(k, [...(map.get(k) ?? []), item]);
  }
  return map;
}

/** For each local variable, the functions whose code refers to it. */
function referrers(model: ObjectModel): Map<ElfSymbol, ElfSymbol[]> {
  const users = new Map<ElfSymbol, ElfSymbol[]>();
  for (const fn of model.functions) {
    for (const r of model.relocationsOf(fn)) {
      const ref = resolveReference(model, r, fn);
      if (ref.kind !== 'symbol' || ref.symbol.bind !== STB_LOCAL || !model.variables.includes(ref.symbol)) continue;
      const list = users.get(ref.symbol) ?? [];
      if (!list.includes(fn)) list.push(fn);
      users.set(ref.symbol, list);
    }
  }
  return users;
}
