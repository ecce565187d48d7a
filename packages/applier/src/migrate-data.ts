// Data patching in the applier (Katana §3 "Patch Application", §5 step 2): every variable the PO
// transforms is moved from the target's storage into its new storage in the patch area, inside the
// stop window that switches the code, so that no update can land between the read of an old value
// and the switch. prepareMigrations runs before the stop (addresses, programs, the new objects'
// initial bytes from the relocated image); migrateData runs in the window: it reads EVERY old
// object first, then computes and writes every new one, so no write can change what another
// transformation reads. The new storage is fresh memory of the patch area that nothing runs
// against yet: a failed apply unmaps it, nothing needs undoing.
import type { PatchObject, TransformedType } from '@katana/po';
import type { ProcessMemory } from '@katana/ptrace';
import { DataTransformError } from './errors.js';
import { symbolAddress, type RelocateInput } from './relocate.js';
import { runTransformProgram } from './transform-vm.js';

/** One variable ready to be moved in the stop window. */
export interface PreparedMigration {
  variable: string;
  file: string;
  type: TransformedType;
  count: number;
  /** Run-time addresses of the target's storage and of the new storage in the patch area. */
  oldAddress: bigint;
  newAddress: bigint;
  /** Bytes read from the old storage (count old objects) and written to the new (the whole new variable). */
  oldSize: number;
  newSize: number;
  /** The new variable's bytes before the move: its relocated initializer (zeros in .bss.new). */
  initial: Uint8Array;
}

/** Resolves every transformed variable of `input.po` against the relocated `image` of the area. */
export function prepareMigrations(input: RelocateInput, image: Uint8Array): PreparedMigration[] {
  const po: PatchObject = input.po;
  return (po.dataTransforms ?? []).map((d) => {
    const type = po.types?.[d.type];
    if (!type) throw new DataTransformError(`variable ${d.variable} of ${d.file} names transformed type ${d.type}, which the patch does not have`);
    const newAddress = symbolAddress(input, d.newSymbol);
    const newSize = (d.elements ?? 1) * type.newSize;
    const at = Number(newAddress - input.base);
    const initial = at + newSize <= image.length ? Uint8Array.from(image.subarray(at, at + newSize)) : new Uint8Array(newSize);
    return {
      variable: d.variable, file: d.file, type, count: d.count, oldAddress: symbolAddress(input, d.oldSymbol), newAddress,
      oldSize: d.count * type.oldSize, newSize, initial,
    };
  });
}

/** Moves every prepared variable: all old objects read first, then every new one written. Call with all threads stopped. */
export function migrateData(memory: ProcessMemory, migrations: readonly PreparedMigration[]): void {
  const snapshots = migrations.map((m) => memory.read(m.oldAddress, m.oldSize));
  // Phase boundary: from here on the old storage is no longer read.
  migrations.forEach((m, i) => {
    const image = Uint8Array.from(m.initial);
    const old = snapshots[i]!;
    for (let e = 0; e < m.count; e++) {
      runTransformProgram(
        m.type.rows,
        old.subarray(e * m.type.oldSize, (e + 1) * m.type.oldSize),
        image.subarray(e * m.type.newSize, (e + 1) * m.type.newSize),
        m.count > 1 ? `${m.variable}[${e}] (${m.type.name})` : `${m.variable} (${m.type.name})`,
      );
    }
    memory.write(m.newAddress, image);
  });
}
