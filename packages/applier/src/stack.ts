// Stacking a patch on patches already applied (Katana §5: "the symbol definition from the most
// recent patch takes precedence"). Three things follow from the registry of earlier patches:
// - patchSymbols: what this patch defines, at run-time addresses, for the registry entry, so that a
//   later patch can bind to it;
// - definedByPatches: the newest earlier definition of a symbol the PO references (symbols.ts
//   consults it before the executable);
// - stackedSites: a function patched again gets its new trampoline at its ORIGINAL entry (which
//   overwrites the earlier patch's jmp: no chain of jumps), and one more at the entry of each
//   earlier patch's copy, because code of that patch, or a function pointer taken there, still
//   calls it directly. Those copies are code the new patch replaces: no thread may be in one or
//   return into one.
import { shortPatchId, type PatchObject, type PoSymbol } from '@katana/po';
import type { PatchPlan } from './plan.js';
import type { RegisteredSymbol, RegistryEntry } from './registry-format.js';
import type { UnsafeRange } from './safety.js';
import { JMP_REL32_SIZE, type TrampolineSite } from './write.js';

/** The functions and variables `po` defines, once its area is at `base` (0n while only sizes matter). */
export function patchSymbols(po: PatchObject, plan: PatchPlan, base: bigint): RegisteredSymbol[] {
  const out: RegisteredSymbol[] = [];
  for (const s of po.symbols) {
    // Copies of anonymous sections (`.rodata.str1.1`) are named after their section; no later patch refers to them by name.
    if (s.defined === undefined || (s.type !== 'func' && s.type !== 'object') || s.name.startsWith('.')) continue;
    out.push({
      name: s.name,
      ...(s.bind === 'local' && s.file !== undefined ? { file: s.file } : {}),
      kind: s.type,
      bind: s.bind,
      address: base + BigInt(plan.sections[s.defined.section].offset + s.defined.offset),
      size: s.size,
    });
  }
  return out;
}

/** The newest definition among the applied patches `entries` (oldest first) of the PO symbol, if any. */
export function definedByPatches(symbol: PoSymbol, entries: readonly RegistryEntry[]): RegisteredSymbol | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const found = entries[i]!.symbols.find((s) =>
      s.name === symbol.name && (symbol.bind === 'local' ? s.bind === 'local' && s.file === symbol.file : s.bind !== 'local'),
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The extra trampolines and unsafe ranges a patch needs on top of `entries`. */
export interface StackedSites {
  sites: TrampolineSite[];
  unsafe: UnsafeRange[];
}

/**
 * For each site of the new patch that earlier patches already redirected, a site at each earlier
 * patch's copy of the function, jumping straight to the same new code.
 */
export function stackedSites(sites: readonly TrampolineSite[], entries: readonly RegistryEntry[]): StackedSites {
  const out: StackedSites = { sites: [], unsafe: [] };
  for (const site of sites) {
    for (const entry of entries) {
      const redirect = entry.functions.find((f) => f.address === site.site);
      if (redirect === undefined || out.sites.some((s) => s.site === redirect.to)) continue;
      const copy = entry.symbols.find((s) => s.kind === 'func' && s.address === redirect.to);
      const name = `${site.name} (patch ${shortPatchId(entry.id)})`;
      out.sites.push({ name, site: redirect.to, symbol: site.symbol });
      const size = BigInt(Math.max(copy?.size ?? 0, JMP_REL32_SIZE));
      out.unsafe.push({ name, start: redirect.to, end: redirect.to + size, why: 'replaces' });
    }
  }
  return out;
}
