// The registry entry an apply records (registry-format.ts): the patch's id and name, its area, the
// CFI of its code, the functions it redirected with their original bytes, the symbols it defines
// (for stacking) and, for a patch that transforms data, the data block a rollback transforms it
// back with. Shared by the live applier and `katana apply --file`.
import { encodeTransformProgram, type PatchObject } from '@katana/po';
import type { Allocator } from './allocator.js';
import type { PreparedMigration } from './migrate-data.js';
import type { PatchPlan } from './plan.js';
import type { RegisteredData, RegistryEntry } from './registry-format.js';
import { patchSymbols } from './stack.js';

/** The registry entry of an apply, for an area at `base` (0n while only its size matters). */
export function registryEntry(
  id: string, name: string, base: bigint, plan: PatchPlan, po: PatchObject, functions: RegistryEntry['functions'], data?: RegisteredData,
): RegistryEntry {
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
    ...(data === undefined ? {} : { data }),
  };
}

/**
 * The data block of `po`'s entry: every transformed type with its reverse program (follow registers
 * numbering the PO's types, which the block keeps in order) and what a rollback drops, and every
 * transformed variable at the run-time addresses `migrations` resolved (prepareData, in the PO's
 * order; without them, addresses are 0: a draft whose size is right). Undefined when `po`
 * transforms no data.
 */
export function registeredData(po: PatchObject, migrations?: readonly PreparedMigration[], allocator?: Allocator): RegisteredData | undefined {
  const transforms = po.dataTransforms ?? [];
  if (transforms.length === 0) return undefined;
  const types = po.types ?? [];
  return {
    ...(allocator === undefined ? {} : { allocator: { malloc: functionRange(allocator, allocator.malloc), free: functionRange(allocator, allocator.free) } }),
    types: types.map((t) => ({
      name: t.name,
      oldSize: t.oldSize,
      newSize: t.newSize,
      ...(t.rollbackRows === undefined ? {} : { rollback: encodeTransformProgram(t.rollbackRows) }),
      dropped: t.rollbackRows === undefined ? [] : t.droppedOnRollback ?? [],
    })),
    variables: transforms.map((d, i) => {
      const type = types[d.type]!;
      const m = migrations?.[i];
      return {
        name: d.variable,
        file: d.file,
        type: d.type,
        oldAddress: m?.oldAddress ?? 0n,
        newAddress: m?.newAddress ?? 0n,
        count: d.count,
        oldStride: d.pointer ? 8 : type.oldSize,
        newStride: d.pointer ? 8 : type.newSize,
        inPlace: d.inPlace === true,
        pointer: d.pointer === true,
        stage: d.stage ?? 0,
      };
    }),
  };
}

/** The code range of the allocator function at `address`, as findAllocator found it (its size 0 when it has none). */
function functionRange(allocator: Allocator, address: bigint): { address: bigint; size: number } {
  const range = allocator.ranges.find((r) => r.start === address);
  return { address, size: range === undefined ? 0 : Number(range.end - range.start) };
}
