// The registry entry an apply records (registry-format.ts): the patch's id and name, its area, the
// CFI of its code, the functions it redirected with their original bytes, and the symbols it
// defines (for stacking). Shared by the live applier and `katana apply --file`.
import type { PatchObject } from '@katana/po';
import type { PatchPlan } from './plan.js';
import type { RegistryEntry } from './registry-format.js';
import { patchSymbols } from './stack.js';

/** The registry entry of an apply, for an area at `base` (0n while only its size matters). */
export function registryEntry(id: string, name: string, base: bigint, plan: PatchPlan, po: PatchObject, functions: RegistryEntry['functions']): RegistryEntry {
  const { text, ehFrame } = plan.sections;
  const start = base + BigInt(text.offset);
  return {
    id,
    name,
    // Written just before the stop window that switches the patch, milliseconds before the switch.
    appliedAt: Date.now(),
    area: { start: base, size: plan.size },
    ...(ehFrame.size === 0
      ? {}
      : { cfi: { start, end: start + BigInt(text.size), ehFrameAddress: base + BigInt(ehFrame.offset), ehFrameSize: ehFrame.size } }),
    functions,
    symbols: patchSymbols(po, plan, base),
    movedVariables: po.dataTransforms?.length ?? 0,
  };
}
