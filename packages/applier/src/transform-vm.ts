// The virtual machine of data patching: runs a transformed type's FDE program (its rows, see
// transform-program.ts of @katana/po) on one old object to fill one new object. CURR_TARG_OLD is
// pushed first, as the CFA is for DW_CFA_expression / DW_CFA_val_expression, and the expressions
// read the old object through @katana/dwarf's evaluator; the old object is an in-memory snapshot
// taken while every thread was stopped, so the program never reads the process. Per row:
//   keep            the new object's bytes stay (the new initializer, zeros, or for an object
//                   updated in place its own bytes)
//   expression      copy the row's bytes from the address computed (inside the old object)
//   val-expression  store the low row-size bytes of the computed value (integer conversion)
//   follow          copy the 8-byte pointer like `expression`, and hand it to the caller, which
//                   transforms what it points at and overwrites it with the new address
// A heap of a million objects runs the same program a million times: TransformProgram checks each
// row once and turns the plain copies (an expression that is only DW_OP_plus_uconst N, the
// emitter's copyExpression) into byte moves; any other expression runs in the evaluator per object.
import { Cursor, DW_OP_plus_uconst, evaluateExpression } from '@katana/dwarf';
import { isKatanaError } from '@katana/errors';
import type { TransformRow } from '@katana/po';
import { DataTransformError } from './errors.js';

/**
 * Called for each followed pointer: its offset in the new object, its old value (a number: exact
 * below 2^53, which every user-space address is) and the pointee's type index.
 */
export type PointerVisitor = (offset: number, value: number, type: number) => void;

type CompiledRow =
  | { kind: 'keep' }
  | { kind: 'copy'; offset: number; size: number; from: number }
  | { kind: 'follow'; offset: number; from: number; type: number }
  | { kind: 'evaluate'; row: TransformRow };

/** One type's program, checked once, run on many objects. */
export class TransformProgram {
  private readonly compiled: CompiledRow[];

  constructor(rows: readonly TransformRow[], readonly oldSize: number, readonly newSize: number, readonly name: string) {
    this.compiled = rows.map((row) => {
      if (row.offset + row.size > newSize) throw new DataTransformError(`the transformation of ${name} writes past its ${newSize}-byte new object`);
      if (row.rule.kind === 'keep') return { kind: 'keep' };
      const from = constantOffset(row.rule.expression);
      if (row.rule.kind === 'follow') {
        if (from === undefined || row.size !== 8 || from + 8 > oldSize) throw new DataTransformError(`the transformation of ${name} follows a pointer at offset ${row.offset} it cannot locate in the ${oldSize}-byte old object`);
        return { kind: 'follow', offset: row.offset, from, type: row.rule.type };
      }
      if (row.rule.kind === 'expression' && from !== undefined) {
        if (from + row.size > oldSize) throw new DataTransformError(`the transformation of ${name} copies ${row.size} bytes from offset ${from}, outside the ${oldSize}-byte old object`);
        return { kind: 'copy', offset: row.offset, size: row.size, from };
      }
      return { kind: 'evaluate', row };
    });
  }

  /** Whether objects keep their place: the same size, and every byte that is not kept is copied from where it is. */
  get isIdentity(): boolean {
    return this.oldSize === this.newSize && this.compiled.every((r) => r.kind === 'keep' || ((r.kind === 'copy' || r.kind === 'follow') && r.from === r.offset));
  }

  /**
   * Fills `target` at `at` (one new object, holding its initial bytes) from the old object at
   * `sourceAt` of `source`; `what` names it in errors; `visit` receives each followed pointer.
   */
  run(source: Uint8Array, sourceAt: number, target: Uint8Array, at: number, what: string, visit?: PointerVisitor): void {
    for (const r of this.compiled) {
      switch (r.kind) {
        case 'keep':
          break;
        case 'copy':
          copyBytes(source, sourceAt + r.from, target, at + r.offset, r.size);
          break;
        case 'follow': {
          copyBytes(source, sourceAt + r.from, target, at + r.offset, 8);
          visit?.(r.offset, readAddress(source, sourceAt + r.from), r.type);
          break;
        }
        case 'evaluate':
          evaluateRow(r.row, source.subarray(sourceAt, sourceAt + this.oldSize), target.subarray(at, at + this.newSize), what);
      }
    }
  }
}

/** Runs `rows` once: fills `target` (one new object) from `source` (one old object); `what` names it in errors. */
export function runTransformProgram(rows: readonly TransformRow[], source: Uint8Array, target: Uint8Array, what: string): void {
  new TransformProgram(rows, source.length, target.length, what).run(source, 0, target, 0, what);
}

function evaluateRow(row: TransformRow, source: Uint8Array, target: Uint8Array, what: string): void {
  if (row.rule.kind === 'keep') return;
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const memory = (address: bigint, size: number): bigint | undefined => {
    if (address < 0n || address + BigInt(size) > BigInt(source.length)) return undefined;
    const at = Number(address);
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(view.getUint8(at + i));
    return value;
  };
  let value: bigint | undefined;
  try {
    // CURR_TARG_OLD is address 0 of the snapshot.
    value = evaluateExpression(row.rule.expression, { register: () => undefined, memory }, [0n]);
  } catch (error) {
    if (isKatanaError(error)) throw new DataTransformError(`the transformation of ${what} at offset ${row.offset} is malformed: ${error.message}`, { cause: error });
    throw error;
  }
  if (value === undefined) throw new DataTransformError(`the transformation of ${what} at offset ${row.offset} reads outside the ${source.length}-byte old object`);
  if (row.rule.kind === 'expression' || row.rule.kind === 'follow') {
    if (value + BigInt(row.size) > BigInt(source.length)) {
      throw new DataTransformError(`the transformation of ${what} copies ${row.size} bytes from offset ${value}, outside the ${source.length}-byte old object`);
    }
    target.set(source.subarray(Number(value), Number(value) + row.size), row.offset);
  } else {
    if (row.size > 8) throw new DataTransformError(`the transformation of ${what} stores a value into ${row.size} bytes at offset ${row.offset}`);
    for (let i = 0; i < row.size; i++) target[row.offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
  }
}

/** N when `expression` is exactly DW_OP_plus_uconst N (a plain copy from CURR_TARG_OLD + N). */
function constantOffset(expression: Uint8Array): number | undefined {
  if (expression[0] !== DW_OP_plus_uconst) return undefined;
  const c = new Cursor('expression', expression, 1);
  const n = c.ulebNumber();
  return !c.error && !c.more ? n : undefined;
}

function copyBytes(source: Uint8Array, from: number, target: Uint8Array, to: number, size: number): void {
  if (size > 32) target.set(source.subarray(from, from + size), to);
  else for (let i = 0; i < size; i++) target[to + i] = source[from + i]!;
}

/** The little-endian 64-bit value at `at` as a number (exact below 2^53). */
export function readAddress(bytes: Uint8Array, at: number): number {
  const low = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
  const high = (bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16)) + bytes[at + 7]! * 0x1000000;
  return low + high * 0x100000000;
}
