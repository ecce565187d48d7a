// The sticky-error cursor on hand-made bytes: LEB128 vectors from DWARF 5 §7.6 (Tables 7.7, 7.8),
// fixed-size integers, strings, and the first-error-sticks behaviour decoders rely on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Cursor, DwarfFormatError } from '@katana/dwarf';
import { Bytes } from './bytes.js';

const leb = suite('Cursor LEB128');

leb('decodes the unsigned examples of DWARF 5 Table 7.7', () => {
  const cases: [number[], bigint][] = [[[0x02], 2n], [[0x7f], 127n], [[0x80, 0x01], 128n], [[0x81, 0x01], 129n], [[0x82, 0x01], 130n], [[0xb9, 0x64], 12857n]];
  for (const [bytes, value] of cases) {
    const c = new Cursor('.test', Uint8Array.from(bytes));
    assert.is(c.uleb(), value);
    assert.is(c.offset, bytes.length);
    c.check();
  }
});

leb('decodes the signed examples of DWARF 5 Table 7.8', () => {
  const cases: [number[], bigint][] = [[[0x02], 2n], [[0x7e], -2n], [[0xff, 0x00], 127n], [[0x81, 0x7f], -127n], [[0x80, 0x01], 128n], [[0x80, 0x7f], -128n], [[0x81, 0x01], 129n], [[0xff, 0x7e], -129n]];
  for (const [bytes, value] of cases) assert.is(new Cursor('.test', Uint8Array.from(bytes)).sleb(), value);
});

leb('round-trips 64-bit values and rejects an 11-byte LEB128', () => {
  const big = 0xfedcba9876543210n;
  assert.is(new Cursor('.test', new Bytes().uleb(big).bytes()).uleb(), big);
  assert.is(new Cursor('.test', new Bytes().sleb(-(1n << 62n)).bytes()).sleb(), -(1n << 62n));
  const c = new Cursor('.test', Uint8Array.from([...new Array(11).fill(0x80), 0x01]));
  c.uleb();
  assert.throws(() => c.check(), (e: unknown) => e instanceof DwarfFormatError && /LEB128/.test(e.message));
});

const sticky = suite('Cursor sticky errors');

sticky('reads little-endian integers and strings', () => {
  const c = new Cursor('.test', new Bytes().u8(1).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fn).cstr('héllo').u8(1, 2, 3).bytes());
  assert.is(c.u8(), 1);
  assert.is(c.u16(), 0x0203);
  assert.is(c.u32(), 0x04050607);
  assert.is(c.u64(), 0x08090a0b0c0d0e0fn);
  assert.is(c.cstring(), 'héllo');
  assert.is(c.u24(), 0x030201);
  assert.not.ok(c.more);
  c.check();
});

sticky('keeps the first error, returns zeros after it, and names section and offset', () => {
  const c = new Cursor('.debug_info', Uint8Array.from([1, 2, 3]));
  c.u16();
  assert.is(c.u32(), 0);
  assert.is(c.u8(), 0);
  assert.is(c.cstring(), '');
  const error = c.error;
  assert.instance(error, DwarfFormatError);
  assert.is(error!.code, 'E_DWARF_FORMAT');
  assert.is(error!.section, '.debug_info');
  assert.is(error!.offset, 2);
  assert.is(error!.message, 'decoding .debug_info at offset 0x2: unexpected end of data reading 4 bytes');
  assert.throws(() => c.check(), (e: unknown) => e === error);
});

sticky('rejects an unterminated string within the window', () => {
  const c = new Cursor('.debug_str', Uint8Array.from([0x61, 0x62, 0, 0x63]), 0, 2);
  c.cstring();
  assert.match(c.error!.message, /unterminated string/);
});

leb.run();
sticky.run();
