// The transformation program of a changed struct type, as the DW_CFA instructions of its FDE in the
// PO's .debug_frame (docs/po-format.md, "Data transformations"). The FDE's address range is the
// byte range [0, newSize) of one NEW object (CURR_TARG_NEW); each row of the CFI table covers the
// bytes of one new member (or a padding gap), and the rule of register TRANSFORM_REGISTER in that row
// says where those bytes come from, with CURR_TARG_OLD (the old object's address) as the "CFA" that
// DW_CFA_expression and DW_CFA_val_expression push first:
//   DW_CFA_same_value r0                  keep the new object's bytes (the new initializer)
//   DW_CFA_expression r0 [plus_uconst N]  copy the row's bytes from CURR_TARG_OLD + N
//   DW_CFA_val_expression r0 [...]        store the low bytes of a computed value (integer conversion)
//   DW_CFA_expression r0 [plus_uconst N]  a pointer to follow: r0 copies the 8 bytes at
//   DW_CFA_expression rK [plus_uconst N]  CURR_TARG_OLD + N, and rK (K ≥ 1) says that they are a
//                                         pointer to an object of the (K−1)-th transformed type of
//                                         the same compile unit, transformed too and the pointer
//                                         rewritten; the next row starts with DW_CFA_undefined rK
// CFI rules hold until changed, so that reset keeps every row of the CFI table exact for any reader.
// Rows advance with DW_CFA_advance_loc* (code alignment 1). Only these instructions are valid.
import {
  DW_CFA_advance_loc, DW_CFA_advance_loc1, DW_CFA_advance_loc2, DW_CFA_advance_loc4, DW_CFA_expression, DW_CFA_nop,
  DW_CFA_same_value, DW_CFA_undefined, DW_CFA_val_expression, DW_OP_constu, DW_OP_deref_size, DW_OP_plus_uconst, DW_OP_shl, DW_OP_shra,
  Cursor,
} from '@katana/dwarf';
import { equalBytes } from '@katana/elf';
import { Bytes } from './bytes.js';
import type { TransformRow } from './model.js';

/** The DWARF register whose rule each row gives: the row's bytes of CURR_TARG_NEW. */
export const TRANSFORM_REGISTER = 0;
/**
 * Register FOLLOW_REGISTER_BASE + k: a pointer to follow, to the k-th transformed type of the unit.
 * dwarfdump rejects registers above 188, which bounds k.
 */
export const FOLLOW_REGISTER_BASE = 1;
export const MAX_FOLLOW_REGISTER = 188;

/** The expression of a plain copy: the address CURR_TARG_OLD + `from`. */
export function copyExpression(from: number): Uint8Array {
  return new Bytes().u8(DW_OP_plus_uconst).uleb(from).bytes();
}

/**
 * The expression of an integer conversion: the `size`-byte integer at CURR_TARG_OLD + `from`,
 * zero-extended (DW_OP_deref_size) or, when `signed`, sign-extended to 64 bits (shift left, then
 * arithmetic shift right). Storing its low bytes into a narrower member truncates.
 */
export function convertExpression(from: number, size: number, signed: boolean): Uint8Array {
  const b = new Bytes().u8(DW_OP_plus_uconst).uleb(from).u8(DW_OP_deref_size).u8(size);
  if (signed && size < 8) {
    const shift = 64 - 8 * size;
    b.u8(DW_OP_constu).uleb(shift).u8(DW_OP_shl).u8(DW_OP_constu).uleb(shift).u8(DW_OP_shra);
  }
  return b.bytes();
}

/**
 * Encodes rows (contiguous from 0, in offset order) as FDE instructions; `unitIndexOf` maps a
 * follow row's type (an index into PatchObject.types) to its index among its unit's types.
 */
export function encodeTransformProgram(rows: TransformRow[], unitIndexOf: (type: number) => number = (t) => t): Uint8Array {
  const b = new Bytes();
  let at = 0;
  let following: number | undefined;
  for (const row of rows) {
    if (row.offset !== at) throw new RangeError(`transformation rows must be contiguous: a row starts at ${row.offset}, expected ${at}`);
    if (row.size <= 0) throw new RangeError(`a transformation row at ${row.offset} is empty`);
    if (following !== undefined) b.u8(DW_CFA_undefined).uleb(following);
    following = undefined;
    if (row.rule.kind === 'keep') b.u8(DW_CFA_same_value).uleb(TRANSFORM_REGISTER);
    else if (row.rule.kind === 'follow') {
      const register = FOLLOW_REGISTER_BASE + unitIndexOf(row.rule.type);
      if (register > MAX_FOLLOW_REGISTER) throw new RangeError(`a transformation follows pointers to type ${row.rule.type}, past the ${MAX_FOLLOW_REGISTER - FOLLOW_REGISTER_BASE} types a unit may have`);
      b.u8(DW_CFA_expression).uleb(TRANSFORM_REGISTER).uleb(row.rule.expression.length).u8s(row.rule.expression);
      b.u8(DW_CFA_expression).uleb(register).uleb(row.rule.expression.length).u8s(row.rule.expression);
      following = register;
    } else {
      b.u8(row.rule.kind === 'expression' ? DW_CFA_expression : DW_CFA_val_expression).uleb(TRANSFORM_REGISTER);
      b.uleb(row.rule.expression.length).u8s(row.rule.expression);
    }
    at += row.size;
    // The next row starts where this one ends; the last one ends at the FDE's range end.
    if (row !== rows[rows.length - 1]) advance(b, row.size);
  }
  return b.bytes();
}

function advance(b: Bytes, delta: number): void {
  if (delta < 0x40) b.u8(DW_CFA_advance_loc | delta);
  else if (delta <= 0xff) b.u8(DW_CFA_advance_loc1).u8(delta);
  else if (delta <= 0xffff) b.u8(DW_CFA_advance_loc2).u16(delta);
  else b.u8(DW_CFA_advance_loc4).u32(delta);
}

/**
 * Decodes FDE instructions back into rows covering [0, size); returns a reason string instead when
 * they are not a valid transformation program. A follow row's `type` is its index among the unit's
 * transformed types (the caller maps it to PatchObject.types).
 */
export function decodeTransformProgram(instructions: Uint8Array, size: number): TransformRow[] | string {
  const c = new Cursor('.debug_frame', instructions);
  const starts: { offset: number; rule: TransformRow['rule'] }[] = [];
  let loc = 0;
  // The row's r0 rule, and the follow register it sets (which holds until DW_CFA_undefined).
  let pending: TransformRow['rule'] | undefined;
  let follow: { register: number; expression: Uint8Array; offset: number } | undefined;
  let problem: string | undefined;
  const flush = (): void => {
    if (!pending) return;
    if (follow?.offset === loc) {
      if (pending.kind !== 'expression' || !equalBytes(pending.expression, follow.expression)) problem ??= `the pointer followed at offset ${loc} is not copied by register ${TRANSFORM_REGISTER}`;
      starts.push({ offset: loc, rule: { kind: 'follow', expression: follow.expression, type: follow.register - FOLLOW_REGISTER_BASE } });
    } else if (follow) problem ??= `register ${follow.register} still follows a pointer at offset ${loc}`;
    else starts.push({ offset: loc, rule: pending });
    pending = undefined;
  };
  while (c.more) {
    const op = c.u8();
    let delta: number | undefined;
    if ((op & 0xc0) === DW_CFA_advance_loc) delta = op & 0x3f;
    else if (op === DW_CFA_advance_loc1) delta = c.u8();
    else if (op === DW_CFA_advance_loc2) delta = c.u16();
    else if (op === DW_CFA_advance_loc4) delta = c.u32();
    if (delta !== undefined) {
      if (!pending) return `an advance at offset ${loc} follows no rule`;
      flush();
      loc += delta;
      continue;
    }
    if (op === DW_CFA_nop) continue;
    if (op !== DW_CFA_same_value && op !== DW_CFA_expression && op !== DW_CFA_val_expression && op !== DW_CFA_undefined) return `instruction 0x${op.toString(16)} is not part of a transformation`;
    const register = c.ulebNumber();
    const isFollow = register >= FOLLOW_REGISTER_BASE && register <= MAX_FOLLOW_REGISTER;
    if (register !== TRANSFORM_REGISTER && !isFollow) return `a rule names register ${register}, which is not part of a transformation`;
    if (op === DW_CFA_undefined) {
      if (!isFollow || follow?.register !== register) return `DW_CFA_undefined at offset ${loc} names register ${register}, which follows no pointer`;
      follow = undefined;
      continue;
    }
    if (isFollow) {
      if (op !== DW_CFA_expression) return `register ${register} must be given by DW_CFA_expression`;
      if (follow) return `two pointers followed at offset ${loc}`;
      follow = { register, expression: Uint8Array.from(c.bytesOf(c.ulebNumber())), offset: loc };
    } else {
      if (pending) return `two rules for the row at offset ${loc}`;
      if (op === DW_CFA_same_value) pending = { kind: 'keep' };
      else pending = { kind: op === DW_CFA_expression ? 'expression' : 'val-expression', expression: Uint8Array.from(c.bytesOf(c.ulebNumber())) };
    }
    if (c.error) break;
  }
  if (c.error) return 'the instructions are truncated';
  flush();
  if (problem) return problem;
  const rows: TransformRow[] = starts.map((s, i) => ({ offset: s.offset, size: (starts[i + 1]?.offset ?? size) - s.offset, rule: s.rule }));
  if (rows.length === 0 || rows[0]!.offset !== 0) return 'the first row does not start at offset 0';
  if (rows.some((r) => r.size <= 0)) return `a row lies past the end of the ${size}-byte object`;
  const pointer = rows.find((r) => r.rule.kind === 'follow' && r.size !== 8);
  if (pointer) return `the pointer followed at offset ${pointer.offset} is ${pointer.size} bytes, not 8`;
  return rows;
}

