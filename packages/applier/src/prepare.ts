// Phase 1 of an apply, shared with `katana check`: everything decided with nothing stopped. Finds
// the module the PO changes, the patches already applied (the registry, or before any live apply
// the record of an executable patched on disk), checks the PO's base against them, resolves the
// patch's symbols (newest patch definitions first), lists the trampoline sites (with the copies
// earlier patches made of a function this one replaces: stack.ts), and loads the safety check's
// CFI for every module and applied patch.
import type { PatchObject } from '@katana/po';
import { type Allocator, findAllocator } from './allocator.js';
import { callsTarget } from './migrate-data.js';
import type { ProcessMemory } from '@katana/ptrace';
import { checkBase } from './base.js';
import { readFileRegistry } from './persist/file-registry.js';
import type { Module, ProcessModel } from './process.js';
import type { RegistryEntry } from './registry-format.js';
import { findRegistry, patchCfiOf, type Registry } from './registry-read.js';
import { SafetyCheck, unsafeRanges } from './safety.js';
import { stackedSites } from './stack.js';
import { resolveSymbols, type ResolvedSymbol } from './symbols.js';
import { findTargetModule } from './target-module.js';
import { trampolineSites, type TrampolineSite } from './write.js';

/** What phase 1 found and decided. */
export interface PreparedPatch {
  /** The module the PO changes (the executable or a shared library). */
  target: Module;
  /** The process's registry; undefined before its first live apply. */
  registry: Registry | undefined;
  /** File-record patches of an executable patched on disk, not yet in a registry (they seed it). */
  inherited: RegistryEntry[];
  /** Every patch the process has, oldest first. */
  applied: RegistryEntry[];
  resolved: (ResolvedSymbol | undefined)[];
  /** Every site a trampoline goes to: the PO's own, then earlier patches' copies. */
  sites: TrampolineSite[];
  safety: SafetyCheck;
  /** The target's malloc and free, when the patch calls code in the target (it follows pointers or has transformers). */
  allocator: Allocator | undefined;
}

/** Phase 1 for `po` (id `id`, named `poName` in messages) on the process `model` describes. */
export function preparePatch(model: ProcessModel, memory: ProcessMemory, po: PatchObject, poName: string, id: string): PreparedPatch {
  const target = findTargetModule(model, po, poName);
  const registry = findRegistry(model.pid, memory, model.maps);
  const inherited = registry === undefined ? readFileRegistry(model.exe.file, model.exe.bias) : [];
  const applied = registry?.entries ?? inherited;
  checkBase(model.pid, poName, id, po.basePatches ?? [], { entries: applied });
  const resolved = resolveSymbols(model, po, memory, applied, target);
  const ownSites = trampolineSites(po, target.bias);
  const stacked = stackedSites(ownSites, applied);
  // No thread may be inside the allocator when the stop window calls it: it would deadlock on its lock.
  const allocator = callsTarget(po) ? findAllocator(model, memory, providedAllocator(po, resolved)) : undefined;
  const allocatorRanges = (allocator?.ranges ?? []).map((r) => ({ ...r, why: 'calls' as const }));
  const safety = new SafetyCheck([...unsafeRanges(po, target.bias), ...stacked.unsafe, ...allocatorRanges], memory, model, patchCfiOf(applied, memory));
  return { target, registry, inherited, applied, resolved, sites: [...ownSites, ...stacked.sites], safety, allocator };
}

/** malloc and free as the PO names them (the emitter adds them, with their values for a static target). */
function providedAllocator(po: PatchObject, resolved: readonly (ResolvedSymbol | undefined)[]): { name: string; address: bigint; size: number }[] {
  const provided: { name: string; address: bigint; size: number }[] = [];
  po.symbols.forEach((s, i) => {
    const r = resolved[i];
    if ((s.name === 'malloc' || s.name === 'free') && s.target?.value !== undefined && r?.kind === 'address') provided.push({ name: s.name, address: r.address, size: s.size });
  });
  return provided;
}
