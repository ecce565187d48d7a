// The virtual machine of data patching: runs a transformed type's FDE program (its rows, see
// transform-program.ts of @katana/po) on one old object to fill one new object. CURR_TARG_OLD is
// pushed first, as the CFA is for DW_CFA_expression / DW_CFA_val_expression, and the expressions
// read the old object through @katana/dwarf's evaluator; the old object is an in-memory snapshot
// taken while every thread was stopped, so the program never reads the process. Per row:
//   keep            the new object's bytes stay (the new initializer, or zeros in .bss.new)
//   expression      copy the row's bytes from the address computed (inside the old object)
//   val-expression  store the low row-size bytes of the computed value (integer conversion)
import { evaluateExpression } from '@katana/dwarf';
import { isKatanaError } from '@katana/errors';
import type { TransformRow } from '@katana/po';
import { DataTransformError } from './errors.js';

/** Fills `target` (one new object, holding the new initializer) from `source` (one old object) by `rows`; `what` names it in errors. */
export function runTransformProgram(rows: readonly TransformRow[], source: Uint8Array, target: Uint8Array, what: string): void {
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const memory = (address: bigint, size: number): bigint | undefined => {
    if (address < 0n || address + BigInt(size) > BigInt(source.length)) return undefined;
    const at = Number(address);
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(view.getUint8(at + i));
    return value;
  };
  for (const row of rows) {
    if (row.offset + row.size > target.length) throw new DataTransformError(`the transformation of ${what} writes past its ${target.length}-byte new object`);
    if (row.rule.kind === 'keep') continue;
    let value: bigint | undefined;
    try {
      // CURR_TARG_OLD is address 0 of the snapshot.
      value = evaluateExpression(row.rule.expression, { register: () => undefined, memory }, [0n]);
    } catch (error) {
      if (isKatanaError(error)) throw new DataTransformError(`the transformation of ${what} at offset ${row.offset} is malformed: ${error.message}`, { cause: error });
      throw error;
    }
    if (value === undefined) throw new DataTransformError(`the transformation of ${what} at offset ${row.offset} reads outside the ${source.length}-byte old object`);
    if (row.rule.kind === 'expression') {
      if (value + BigInt(row.size) > BigInt(source.length)) {
        throw new DataTransformError(`the transformation of ${what} copies ${row.size} bytes from offset ${value}, outside the ${source.length}-byte old object`);
      }
      target.set(source.subarray(Number(value), Number(value) + row.size), row.offset);
    } else {
      if (row.size > 8) throw new DataTransformError(`the transformation of ${what} stores a value into ${row.size} bytes at offset ${row.offset}`);
      for (let i = 0; i < row.size; i++) target[row.offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
  }
}
