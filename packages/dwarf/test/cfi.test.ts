// Call frame information: the .eh_frame/.debug_frame parser and the CFA interpreter, cross-checked
// cell by cell against `readelf --debug-dump=frames-interp` on libc.so.6 and on real gcc executables
// (-O0/-O2, with and without frame pointers, static, .debug_frame only); hand-made sections for what
// gcc does not emit (64-bit lengths, CIE versions 3 and 4, every pointer encoding); the expression
// evaluator on the .plt CFA expression of ld's output.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfFile } from '@katana/elf';
import {
  CallFrameTable, DwarfFormatError, FrameSection, evaluateExpression, unwindRows, rowAt,
  DW_EH_PE_absptr, DW_EH_PE_datarel, DW_EH_PE_indirect, DW_EH_PE_pcrel, DW_EH_PE_sdata2, DW_EH_PE_sdata4,
  DW_EH_PE_sdata8, DW_EH_PE_sleb128, DW_EH_PE_udata2, DW_EH_PE_udata4, DW_EH_PE_udata8, DW_EH_PE_uleb128,
  type ExpressionContext,
} from '../src/index.js';
import { Bytes } from './bytes.js';
import { fixtures, run, tempDir } from './helpers.js';
import { parseFramesInterp, rowDifference, cfaText, type DumpedEntry } from './readelf-frames.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

/** Checks every FDE and every row of `path` against readelf; returns how many rows were compared. */
function crossCheck(path: string): number {
  const elf = ElfFile.open(path);
  const table = CallFrameTable.fromElf(elf);
  const dumped = parseFramesInterp(run('readelf', ['-wN', '--debug-dump=frames-interp', path]));
  let compared = 0;
  for (const section of table.sections) {
    const theirs = dumped.filter((e) => e.section === section.kind);
    const cies = new Map<number, DumpedEntry>(theirs.filter((e) => e.kind === 'CIE').map((e) => [e.offset, e]));
    const theirFdes = theirs.filter((e) => e.kind === 'FDE' && e.end! > e.start!);
    assert.is(section.fdes.length, theirFdes.length, `${path} ${section.kind}: number of FDEs`);
    const ours = new Map(section.fdes.map((f) => [f.offset, f]));
    for (const entry of theirFdes) {
      const fde = ours.get(entry.offset);
      const where = `${path} ${section.kind} FDE at 0x${entry.offset.toString(16)}`;
      assert.ok(fde !== undefined, `${where}: missing`);
      assert.is(fde!.start, entry.start, `${where}: start`);
      assert.is(fde!.end, entry.end, `${where}: end`);
      assert.is(fde!.cie.augmentation, cies.get(fde!.cie.offset)?.augmentation, `${where}: CIE augmentation`);
      // readelf prints no table for an FDE without instructions: the CIE's row then holds.
      const rows = entry.rows.length > 0 ? entry.rows : cies.get(entry.cie!)!.rows.map((r) => ({ ...r, loc: entry.start! }));
      const last = new Map(rows.map((r) => [r.loc, r])); // a zero-length advance repeats a LOC; the last one holds
      for (const [loc, row] of last) {
        const mine = rowAt(section, fde!, loc);
        assert.ok(mine !== undefined, `${where}: no row at 0x${loc.toString(16)}`);
        const difference = rowDifference(mine!, row, fde!.cie.returnAddressRegister);
        assert.is(difference, undefined, `${where} at 0x${loc.toString(16)}: ${difference}`);
        compared++;
      }
      // Our rows tile the FDE's range without gaps.
      const all = unwindRows(section, fde!);
      assert.is(all[0]!.start, fde!.start, `${where}: first row starts at the FDE`);
      assert.is(all[all.length - 1]!.end, fde!.end, `${where}: last row ends at the FDE's end`);
      for (let i = 1; i < all.length; i++) assert.is(all[i]!.start, all[i - 1]!.end, `${where}: rows are contiguous`);
    }
  }
  return compared;
}

const readelf = suite('CallFrameTable against readelf --debug-dump=frames-interp');
const temp = tempDir(); // removed after the last suite

readelf('every FDE and row of libc.so.6 (zR, zPLR and the zRS signal trampoline)', () => {
  const compared = crossCheck(LIBC);
  assert.ok(compared > 10_000, `compared ${compared} rows`);
  const table = CallFrameTable.fromElf(ElfFile.open(LIBC));
  const augmentations = new Set(table.sections[0]!.cies.map((c) => c.augmentation));
  assert.equal([...augmentations].sort(), ['zPLR', 'zR', 'zRS']);
  assert.ok(table.sections[0]!.cies.find((c) => c.augmentation === 'zRS')!.signalFrame, "'S' marks a signal frame");
});

const builds: { label: string; flags: string[] }[] = [
  { label: '-O0', flags: ['-O0'] },
  { label: '-O2 -fomit-frame-pointer', flags: ['-O2', '-fomit-frame-pointer'] },
  { label: '-O2 -fno-omit-frame-pointer', flags: ['-O2', '-fno-omit-frame-pointer'] },
  { label: '-O2 -static', flags: ['-O2', '-static'] },
  { label: '-O0 -fno-pie -no-pie (the .plt expression FDE)', flags: ['-O0', '-fno-pie', '-no-pie'] },
  { label: '-g -fno-asynchronous-unwind-tables (.debug_frame)', flags: ['-O2', '-g', '-fno-asynchronous-unwind-tables'] },
];
for (const build of builds) {
  readelf(`every FDE and row of the fixture built ${build.label}`, () => {
    const exe = join(temp.dir, `frames${build.label.replace(/[^a-z0-9]+/gi, '_')}`);
    run('gcc', [...build.flags, join(fixtures, 'frames.c'), '-o', exe]);
    assert.ok(crossCheck(exe) > 10, 'rows compared');
    const table = CallFrameTable.fromElf(ElfFile.open(exe));
    if (build.label.includes('.debug_frame')) assert.ok(table.sections.some((s) => s.kind === '.debug_frame'), 'has a .debug_frame');
  });
}

readelf.run();

const plt = suite('the .plt CFA expression');

plt('DW_OP_breg7 8; breg16 0; lit15; and; lit11; ge; lit3; shl; plus = rsp + 8 (+8 past the push)', () => {
  const expression = Uint8Array.from([0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22]);
  const at = (rip: bigint): bigint | undefined => evaluateExpression(expression, {
    register: (n) => (n === 7 ? 0x7ffe0000n : n === 16 ? rip : undefined),
    memory: () => undefined,
  });
  assert.is(at(0x401020n), 0x7ffe0008n, 'at the jmp *GOT of an entry');
  assert.is(at(0x40102an), 0x7ffe0008n, 'at the push');
  assert.is(at(0x40102bn), 0x7ffe0010n, 'after the push');
  const exe = join(temp.dir, 'plt-check');
  run('gcc', ['-O0', '-fno-pie', '-no-pie', join(fixtures, 'frames.c'), '-o', exe]);
  const table = CallFrameTable.fromElf(ElfFile.open(exe));
  const pltSection = ElfFile.open(exe).section('.plt')!;
  const found = table.rowFor(pltSection.addr + 0x10n);
  assert.ok(found !== undefined, 'an FDE covers .plt');
  assert.is(cfaText(found!.row.cfa), 'exp');
});

plt('an unreadable register or memory makes the value unknown, not wrong', () => {
  const context: ExpressionContext = { register: () => undefined, memory: () => undefined };
  assert.is(evaluateExpression(Uint8Array.from([0x77, 0x08]), context), undefined);
  assert.is(evaluateExpression(Uint8Array.from([0x30, 0x06]), { register: () => 0n, memory: () => undefined }), undefined);
});

plt('arithmetic, comparisons, stack operations and branches', () => {
  const context: ExpressionContext = { register: (n) => BigInt(n * 100), memory: (address, size) => (size === 4 ? address + 1n : address * 2n) };
  const value = (...ops: number[]): bigint | undefined => evaluateExpression(Uint8Array.from(ops), context);
  assert.is(value(0x35, 0x32, 0x1c), 3n, '5 - 2');
  assert.is(value(0x32, 0x35, 0x1c), 0xfffffffffffffffdn, '2 - 5 wraps');
  assert.is(value(0x32, 0x1f, 0x30, 0x2d), 1n, '-2 < 0 is signed');
  assert.is(value(0x35, 0x12, 0x1e), 25n, 'dup; mul');
  assert.is(value(0x31, 0x32, 0x16, 0x1c), 1n, 'swap');
  assert.is(value(0x31, 0x32, 0x33, 0x17, 0x13, 0x13), 3n, 'rot: 1 2 3 → 3 1 2, drop twice');
  assert.is(value(0x72, 0x05), 205n, 'breg2 5');
  assert.is(value(0x92, 0x03, 0x7f), 299n, 'bregx 3 -1');
  assert.is(value(0x34, 0x06), 8n, 'deref');
  assert.is(value(0x34, 0x94, 0x04), 5n, 'deref_size 4');
  assert.is(value(0x0d, 0xfe, 0xff, 0xff, 0xff, 0x30, 0x22), 0xfffffffffffffffen, 'const4s -2');
  assert.is(value(0x0b, 0xfe, 0xff), 0xfffffffffffffffen, 'const2s -2');
  assert.is(value(0x31, 0x28, 0x01, 0x00, 0x39, 0x3a), 10n, 'bra over lit9 when the top is not zero');
  assert.is(value(0x30, 0x28, 0x01, 0x00, 0x39), 9n, 'no branch when the top is zero');
  assert.is(value(0x2f, 0x01, 0x00, 0x39, 0x3a), 10n, 'skip over lit9');
  assert.is(value(0x10, 0xe5, 0x8e, 0x26, 0x23, 0x05), 624490n, 'constu 624485; plus_uconst 5');
  assert.throws(() => value(0x22), (e: unknown) => e instanceof DwarfFormatError, 'underflow is a format error');
  assert.throws(() => value(0xe0), (e: unknown) => e instanceof DwarfFormatError, 'an unsupported operation is a format error');
  assert.throws(() => value(0x2f, 0xfd, 0xff), (e: unknown) => e instanceof DwarfFormatError, 'an endless loop is stopped');
});

plt.run();

const handMade = suite('FrameSection on hand-made sections');

/** A .debug_frame CIE + FDE in the 64-bit format, CIE version `version`. */
function debugFrame64(version: number): Uint8Array {
  const b = new Bytes();
  const cieBody = new Bytes().u64(0xffffffffffffffffn).u8(version).cstr('');
  if (version === 4) cieBody.u8(8, 0);
  cieBody.uleb(1).sleb(-8);
  if (version === 1) cieBody.u8(16);
  else cieBody.uleb(16);
  cieBody.u8(0x0c, 7, 8, 0x90, 1); // def_cfa rsp+8; offset r16 at cfa-8
  const cie = cieBody.bytes();
  b.u32(0xffffffff).u64(BigInt(cie.length)).u8(...cie);
  const fdeBody = new Bytes().u64(0n).u64(0x401000n).u64(0x40n)
    .u8(0x41, 0x0e, 16, 0x86, 2) // advance 1; def_cfa_offset 16; rbp at cfa-16
    .u8(0x0a, 0x43, 0x0d, 6) // remember_state; advance 3; def_cfa_register rbp
    .u8(0x02, 0x20, 0x0b, 0xc6); // advance_loc1 32; restore_state; restore rbp
  const fde = fdeBody.bytes();
  b.u32(0xffffffff).u64(BigInt(fde.length)).u8(...fde);
  return b.bytes();
}

handMade('64-bit .debug_frame with CIE versions 1, 3 and 4', () => {
  for (const version of [1, 3, 4]) {
    const section = FrameSection.parse('.debug_frame', debugFrame64(version), { section: 0n });
    assert.is(section.fdes.length, 1);
    const fde = section.fdes[0]!;
    assert.is(fde.cie.format, 64);
    assert.is(fde.cie.version, version);
    assert.is(fde.start, 0x401000n);
    assert.is(fde.end, 0x401040n);
    const rows = unwindRows(section, fde).map((r) => `${r.start.toString(16)} ${cfaText(r.cfa)} rbp=${r.registers.get(6)?.kind ?? '-'}`);
    assert.equal(rows, ['401000 rsp+8 rbp=-', '401001 rsp+16 rbp=offset', '401004 rbp+16 rbp=offset', '401024 rsp+16 rbp=-']);
  }
});

/** An .eh_frame with a zPLR CIE and one FDE whose pc is encoded as `encoding`. */
function ehFrame(encoding: number, writePc: (b: Bytes, fieldAddress: bigint) => void, address: bigint): Uint8Array {
  const b = new Bytes();
  const cie = new Bytes().u32(0).u8(1).cstr('zPLRS').uleb(1).sleb(-8).u8(16);
  const augmentation = new Bytes().u8(DW_EH_PE_indirect | DW_EH_PE_pcrel | DW_EH_PE_sdata4).u32(0x100).u8(DW_EH_PE_pcrel | DW_EH_PE_sdata4).u8(encoding).bytes();
  cie.uleb(augmentation.length).u8(...augmentation).u8(0x0c, 7, 8, 0x90, 1);
  const cieBytes = cie.bytes();
  b.u32(cieBytes.length).u8(...cieBytes);
  const fdeStart = b.offset;
  const fde = new Bytes().u32(fdeStart + 4); // CIE pointer: back to offset 0
  writePc(fde, address + BigInt(fdeStart + 8));
  fde.uleb(4).u32(0x40).u8(0x41, 0x0e, 16).u8(0, 0);
  const fdeBytes = fde.bytes();
  b.u32(fdeBytes.length).u8(...fdeBytes).u32(0);
  return b.bytes();
}

handMade('every DW_EH_PE format, pcrel and datarel, indirect personality, the S augmentation', () => {
  const address = 0x7f0000001000n;
  const target = 0x7f0000000400n;
  const cases: [string, number, (b: Bytes, field: bigint) => void, number][] = [
    ['absptr', DW_EH_PE_absptr, (b) => void b.u64(target).u64(0x10n), 8],
    ['udata2 datarel', DW_EH_PE_datarel | DW_EH_PE_udata2, (b) => void b.u16(0x400).u16(0x10), 2],
    ['udata4', DW_EH_PE_udata4, (b) => void b.u32(0x400).u32(0x10), 4],
    ['udata8', DW_EH_PE_udata8, (b) => void b.u64(target).u64(0x10n), 8],
    ['sdata2 datarel', DW_EH_PE_datarel | DW_EH_PE_sdata2, (b) => void b.u16(0x400).u16(0x10), 2],
    ['sdata4 pcrel', DW_EH_PE_pcrel | DW_EH_PE_sdata4, (b, field) => void b.u32(Number(BigInt.asUintN(32, target - field))).u32(0x10), 4],
    ['sdata8 pcrel', DW_EH_PE_pcrel | DW_EH_PE_sdata8, (b, field) => void b.u64(BigInt.asUintN(64, target - field)).u64(0x10n), 8],
    ['uleb128', DW_EH_PE_uleb128, (b) => void b.uleb(target).uleb(0x10), 0],
    ['sleb128 pcrel', DW_EH_PE_pcrel | DW_EH_PE_sleb128, (b, field) => void b.sleb(target - field).sleb(0x10), 0],
  ];
  for (const [label, encoding, write] of cases) {
    const bases = { section: address, data: encoding & DW_EH_PE_datarel ? 0x7f0000000000n : undefined };
    const bytes = ehFrame(encoding, write, address);
    const section = FrameSection.parse('.eh_frame', bytes, { section: address, ...(bases.data === undefined ? {} : { data: bases.data }) });
    const expected = (encoding & 0x0f) === 2 || (encoding & 0x0f) === 3 || (encoding & 0x0f) === 0x0a ? (bases.data ?? 0n) + 0x400n : target;
    assert.is(section.fdes.length, 1, label);
    const fde = section.fdes[0]!;
    assert.is(fde.start, expected, `${label}: start`);
    assert.is(fde.end, expected + 0x10n, `${label}: end`);
    assert.ok(fde.cie.signalFrame, `${label}: S`);
    assert.ok(fde.cie.personality!.indirect, `${label}: indirect personality`);
    assert.is(fde.lsda!.value, address + BigInt(fde.instructionsStart - 4) + 0x40n, `${label}: pcrel LSDA (relative to its field)`);
    assert.is(rowAt(section, fde, fde.start + 1n)?.cfa.kind, 'register', `${label}: a row`);
  }
});

handMade('malformed sections give DwarfFormatError only', () => {
  const good = debugFrame64(4);
  for (let cut = 1; cut < good.length; cut += 3) {
    try {
      const section = FrameSection.parse('.debug_frame', good.subarray(0, cut), { section: 0n });
      for (const fde of section.fdes) unwindRows(section, fde);
    } catch (error) {
      assert.ok(error instanceof DwarfFormatError, `cut at ${cut}: ${String(error)}`);
    }
  }
  for (let i = 0; i < good.length; i++) {
    const bad = good.slice();
    bad[i] = bad[i]! ^ 0xff;
    try {
      const section = FrameSection.parse('.debug_frame', bad, { section: 0n });
      for (const fde of section.fdes) unwindRows(section, fde);
    } catch (error) {
      assert.ok(error instanceof DwarfFormatError, `byte ${i} flipped: ${String(error)}`);
    }
  }
  assert.throws(() => FrameSection.parse('.eh_frame', ehFrame(DW_EH_PE_datarel | DW_EH_PE_sdata4, (b) => void b.u32(0).u32(1), 0n), { section: 0n }),
    (e: unknown) => e instanceof DwarfFormatError && /datarel/.test(e.message), 'datarel without a data base');
});

handMade.after(() => {
  try {
    temp.remove();
  } catch (error) {
    console.error('cleanup failed:', error);
  }
});
handMade.run();
