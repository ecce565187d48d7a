// The data half of a rollback: what an apply transformed is transformed back with the same
// machinery (migrate-data.ts), from the registry entry alone (the PO is not needed, so any later
// katana can do it). Each type's reverse program (NEW → OLD, its FDE instructions in the entry's
// data block) runs on the objects in the patch's layout: a variable's "old" storage is the patch's
// new storage and its destination the storage it had before the patch (the target's own, or an
// earlier patch's), memory the process has, so every write there is undo-logged; pointers are
// followed through the reverse programs, and each heap block in the patch's layout gets a new block
// in the old layout from the target's malloc. What the old layout lacks is dropped, and said. A
// composed patch's stages are reversed last first: its last stage's storage back into the one
// before, and so on down to the target's own.
import { decodeTransformProgram, type TransformRow } from '@katana/po';
import { DataTransformError } from './errors.js';
import { stageOrder, type PreparedData, type PreparedMigration } from './migrate-data.js';
import type { RegistryEntry } from './registry-format.js';
import { patchLabel } from './rollback-select.js';
import { TransformProgram } from './transform-vm.js';

/** The stop window's work for transforming back the data of `entry`'s patch; undefined when it transformed none. */
export function prepareRollbackData(entry: RegistryEntry): PreparedData | undefined {
  const data = entry.data;
  if (data === undefined || data.variables.length === 0) return undefined;
  const label = patchLabel(entry);
  let follows = false;
  const programs = data.types.map((t) => {
    // selectRollback refuses an entry with a type that has no reverse program.
    if (t.rollback === undefined) throw new DataTransformError(`${t.name} of patch ${label} has no reverse program`);
    const rows: TransformRow[] | string = decodeTransformProgram(t.rollback, t.oldSize);
    if (typeof rows === 'string') throw new DataTransformError(`the reverse program of ${t.name} in the registry entry of patch ${label} is malformed: ${rows}`);
    for (const r of rows) {
      if (r.rule.kind !== 'follow') continue;
      follows = true;
      if (r.rule.type >= data.types.length) throw new DataTransformError(`the reverse program of ${t.name} of patch ${label} follows a pointer to type ${r.rule.type}, but the entry has ${data.types.length}`);
    }
    // Reversed: the objects it reads are in the new layout, the ones it fills in the old.
    return new TransformProgram(rows, t.newSize, t.oldSize, t.name);
  });
  const migrations = data.variables.map((v): PreparedMigration => {
    if (v.type >= data.types.length) throw new DataTransformError(`variable ${v.name} of patch ${label} names type ${v.type}, but the entry has ${data.types.length}`);
    return {
      variable: v.name,
      file: v.file,
      type: v.type,
      count: v.count,
      oldAddress: v.newAddress,
      newAddress: v.oldAddress,
      oldStride: v.newStride,
      newStride: v.oldStride,
      destination: { kind: 'existing' },
      array: v.count > 1,
      inPlace: v.inPlace,
      pointer: v.pointer,
      stage: v.stage,
    };
  });
  return {
    migrations,
    names: data.types.map((t) => t.name),
    programs,
    transformers: data.types.map(() => undefined),
    callsTarget: follows || migrations.some((m) => m.pointer),
    stages: stageOrder(migrations, 'last'),
  };
}

/** What a rollback of `entry` drops, one phrase each: "member 'weight' of struct node". */
export function droppedMembers(entry: RegistryEntry): string[] {
  return (entry.data?.types ?? []).flatMap((t) => t.dropped.map((path) => `member '${path}' of ${t.name}`));
}
