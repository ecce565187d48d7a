// The data-patching VM (transform-vm.ts) on hand-made old objects: copies, sign and zero extension,
// narrowing (low bytes kept), rows kept at the new initializer, and refusals of programs that read
// outside the old object, always as DataTransformError.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { convertExpression, copyExpression, type TransformRow } from '@katana/po';
import { DataTransformError } from '../src/errors.js';
import { runTransformProgram } from '../src/transform-vm.js';

const vm = suite('runTransformProgram');

/** An old `struct { int a; unsigned short b; long c; }` = { -2, 0xfffe, 0x1122334455667788 } (16 bytes). */
function oldObject(): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, -2, true);
  view.setUint16(4, 0xfffe, true);
  view.setBigInt64(8, 0x1122334455667788n, true);
  return bytes;
}

vm('copies, sign-extends, zero-extends and narrows per row, keeping the initializer elsewhere', () => {
  // new struct { long a; int b; int c; short init; } with init's initializer 7
  const rows: TransformRow[] = [
    { offset: 0, size: 8, rule: { kind: 'val-expression', expression: convertExpression(0, 4, true) } },
    { offset: 8, size: 4, rule: { kind: 'val-expression', expression: convertExpression(4, 2, false) } },
    { offset: 12, size: 4, rule: { kind: 'val-expression', expression: convertExpression(8, 8, true) } },
    { offset: 16, size: 2, rule: { kind: 'keep' } },
    { offset: 18, size: 6, rule: { kind: 'expression', expression: copyExpression(10) } },
  ];
  const target = new Uint8Array(24);
  target[16] = 7;
  runTransformProgram(rows, oldObject(), target, 'x');
  const view = new DataView(target.buffer);
  assert.is(view.getBigInt64(0, true), -2n, 'int -2 sign-extended to long');
  assert.is(view.getInt32(8, true), 0xfffe, 'unsigned short zero-extended');
  assert.is(view.getUint32(12, true), 0x55667788, 'long narrowed to its low 4 bytes');
  assert.is(view.getUint16(16, true), 7, 'new member keeps its initializer');
  assert.equal([...target.subarray(18, 24)], [0x66, 0x55, 0x44, 0x33, 0x22, 0x11], 'bytes copied');
});

vm('refuses a program that reads or copies outside the old object', () => {
  const outside = (rule: TransformRow['rule'], size: number) => () => runTransformProgram([{ offset: 0, size, rule }], oldObject(), new Uint8Array(8), 'stats');
  assert.throws(outside({ kind: 'val-expression', expression: convertExpression(14, 4, false) }, 4), (e: unknown) => e instanceof DataTransformError && /stats at offset 0 reads outside the 16-byte old object/.test((e as Error).message));
  assert.throws(outside({ kind: 'expression', expression: copyExpression(12) }, 8), (e: unknown) => e instanceof DataTransformError && /copies 8 bytes from offset 12, outside the 16-byte old object/.test((e as Error).message));
  assert.throws(outside({ kind: 'val-expression', expression: Uint8Array.of(0x99) }, 4), (e: unknown) => e instanceof DataTransformError && e.code === 'E_DATA_TRANSFORM');
});

vm.run();
