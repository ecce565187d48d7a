// The PO's .debug_frame (DWARF 5 §6.4.1): one CIE, then one FDE per transformed type whose
// instructions are the type's transformation program (transform-program.ts), then one FDE per type
// that has a reverse program (new → old, for rollback). A forward FDE's address range is
// [0, newSize), a reverse one's [0, oldSize): byte offsets in one object, not code addresses, so
// the initial location is 0 and needs no relocation; each CIE pointer (a .debug_frame offset) gets
// an R_X86_64_32 against the section, as in any compiler's object.
import { Bytes } from './bytes.js';
import type { TransformedType, TransformRow } from './model.js';
import { encodeTransformProgram } from './transform-program.js';

/** CIE version of DWARF 5 .debug_frame. */
const CIE_VERSION = 4;
const ADDRESS_SIZE = 8;
/** The return-address column of x86-64 (rip); transformations never give it a rule. */
const RETURN_ADDRESS_COLUMN = 16;

/** The encoded section and what the writer must relocate or point at. */
export interface EncodedDebugFrame {
  bytes: Uint8Array;
  /** .debug_frame offset of each type's FDE (what its DIE's DW_AT_MIPS_fde holds). */
  fdeOffsets: number[];
  /** .debug_frame offset of each type's reverse FDE (DW_AT_KATANA_rollback_fde); undefined without one. */
  rollbackFdeOffsets: (number | undefined)[];
  /** Offsets of the CIE pointers (each relative to the section: R_X86_64_32, addend `cie`). */
  ciePointers: { at: number; cie: number }[];
}

/** Encodes the CIE and one FDE per type. */
export function encodeDebugFrame(types: TransformedType[]): EncodedDebugFrame {
  const b = new Bytes();
  const cie = b.length;
  record(b, () => {
    b.u32(0xffffffff).u8(CIE_VERSION).cstring('').u8(ADDRESS_SIZE).u8(0); // id, version, augmentation, sizes
    b.uleb(1).u8(0x78).uleb(RETURN_ADDRESS_COLUMN); // code alignment 1, data alignment -8 (sleb)
  });
  const fdeOffsets: number[] = [];
  const ciePointers: EncodedDebugFrame['ciePointers'] = [];
  const unitIndex = unitIndices(types);
  const fde = (size: number, rows: TransformRow[]): number => {
    const at = b.length;
    record(b, () => {
      ciePointers.push({ at: b.length, cie });
      b.u32(0).u64(0n).u64(BigInt(size)).u8s(encodeTransformProgram(rows, (t) => unitIndex[t]!));
    });
    return at;
  };
  for (const type of types) fdeOffsets.push(fde(type.newSize, type.rows));
  const rollbackFdeOffsets = types.map((type) => (type.rollbackRows === undefined ? undefined : fde(type.oldSize, type.rollbackRows)));
  return { bytes: b.bytes(), fdeOffsets, rollbackFdeOffsets, ciePointers };
}

/** Each type's index among the types of its own file (compile unit), the numbering of follow registers. */
export function unitIndices(types: readonly TransformedType[]): number[] {
  const seen = new Map<string, number>();
  return types.map((t) => {
    const k = seen.get(t.file) ?? 0;
    seen.set(t.file, k + 1);
    return k;
  });
}

/** Writes a length-prefixed record whose body `body` writes, padded with DW_CFA_nop to the address size. */
function record(b: Bytes, body: () => void): void {
  const start = b.length;
  b.u32(0);
  body();
  while ((b.length - start) % ADDRESS_SIZE !== 0) b.u8(0);
  b.setU32(start, b.length - start - 4);
}
