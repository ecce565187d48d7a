// composePatchObjects on two small hand-made patches (A: report() changed, bump() and counter new;
// B, made after A: report() changed again, calling A's bump() and reading A's counter): B's
// definitions win, B's references to A's definitions become internal, sections follow each other
// at their alignment with one .eh_frame terminator, A's base is kept, and a B not made on top of A
// is refused with ComposeError. The result survives a write → read round trip.
import { R_X86_64_PC32, R_X86_64_PLT32 } from '@katana/elf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComposeError, composePatchObjects, patchObjectId, readPatchObject, writePatchObject, type PatchObject } from '../src/index.js';

const BUILD_ID = 'ab'.repeat(20);
const REPORT = { address: 0x1159n, size: 54 };
// A CIE-less stand-in for FDE bytes: compose only moves .eh_frame, it never parses it.
const frame = (n: number) => new Uint8Array(n).fill(0x11);

const a: PatchObject = {
  targetBuildId: BUILD_ID,
  targetName: 'prog',
  text: new Uint8Array(40).fill(0x90),
  rodata: Uint8Array.from([0x41, 0]),
  data: new Uint8Array(),
  bssSize: 4,
  symbols: [
    { name: 'report', type: 'func', bind: 'global', size: 20, defined: { section: 'text', offset: 0 } },
    { name: 'bump', type: 'func', bind: 'global', size: 8, defined: { section: 'text', offset: 32 } },
    { name: 'counter', type: 'object', bind: 'global', size: 4, defined: { section: 'bss', offset: 0 } },
    { name: 'printf', type: 'func', bind: 'global', size: 0, target: {} },
  ],
  relocations: [
    { section: 'text', offset: 4, type: R_X86_64_PLT32, symbol: 1, addend: -4n },
    { section: 'text', offset: 10, type: R_X86_64_PLT32, symbol: 3, addend: -4n },
    { section: 'ehFrame', offset: 8, type: R_X86_64_PC32, symbol: 0, addend: 0n },
  ],
  functions: [
    { symbol: 0, name: 'report', file: 'main.c', size: 20, replaces: REPORT },
    { symbol: 1, name: 'bump', file: 'main.c', size: 8 },
  ],
  unsafe: [{ name: 'report', address: REPORT.address, size: REPORT.size, redirectTo: 0 }],
  ehFrame: Uint8Array.from([...frame(20), 0, 0, 0, 0]),
  basePatches: [],
};
const idA = patchObjectId(writePatchObject(a));

const b: PatchObject = {
  targetBuildId: BUILD_ID,
  targetName: 'prog',
  text: new Uint8Array(24).fill(0xc3),
  rodata: Uint8Array.from([0x42, 0]),
  data: new Uint8Array(),
  bssSize: 0,
  symbols: [
    { name: 'report', type: 'func', bind: 'global', size: 24, defined: { section: 'text', offset: 0 } },
    { name: 'bump', type: 'func', bind: 'global', size: 8, target: {} },
    { name: 'counter', type: 'object', bind: 'global', size: 4, target: {} },
    { name: 'printf', type: 'func', bind: 'global', size: 0, target: {} },
  ],
  relocations: [
    { section: 'text', offset: 2, type: R_X86_64_PLT32, symbol: 1, addend: -4n },
    { section: 'text', offset: 8, type: R_X86_64_PC32, symbol: 2, addend: -4n },
    { section: 'text', offset: 14, type: R_X86_64_PLT32, symbol: 3, addend: -4n },
    { section: 'ehFrame', offset: 8, type: R_X86_64_PC32, symbol: 0, addend: 0n },
  ],
  functions: [{ symbol: 0, name: 'report', file: 'main.c', size: 24, replaces: REPORT }],
  unsafe: [{ name: 'report', address: REPORT.address, size: REPORT.size, redirectTo: 0 }],
  ehFrame: Uint8Array.from([...frame(28), 0, 0, 0, 0]),
  basePatches: [idA],
};

const compose = suite('composePatchObjects');

compose('B\'s report wins; A\'s bump and counter serve B\'s references; A\'s base is kept', () => {
  const ab = composePatchObjects(a, b, { idA });
  assert.equal(ab.basePatches, []);
  assert.is(ab.targetBuildId, BUILD_ID);
  const named = (name: string) => ab.symbols.flatMap((s, i) => (s.name === name ? [i] : []));
  assert.is(named('report').length, 1, 'one report: B\'s');
  const report = ab.symbols[named('report')[0]!]!;
  assert.equal(report.defined, { section: 'text', offset: 48 }, 'B\'s text starts at A\'s end rounded up to 16');
  assert.is(named('bump').length, 1);
  assert.equal(ab.symbols[named('bump')[0]!]!.defined, { section: 'text', offset: 32 });
  assert.is(named('counter').length, 1);
  assert.is(named('printf').length, 1, 'the same library symbol once');
  // B's relocations moved with its text, against A's definitions.
  const bRelocs = ab.relocations.filter((r) => r.section === 'text' && r.offset >= 48);
  assert.equal(bRelocs.map((r) => [r.offset, ab.symbols[r.symbol]!.name]), [[50, 'bump'], [56, 'counter'], [62, 'printf']]);
  // One redirect of report, to B's code; bump stays a new function.
  assert.equal(ab.functions.map((f) => [f.name, ab.symbols[f.symbol]!.defined?.offset, f.replaces !== undefined]), [['bump', 32, false], ['report', 48, true]]);
  assert.equal(ab.unsafe.map((u) => [u.name, ab.symbols[u.redirectTo!]!.defined?.offset]), [['report', 48]]);
});

compose('sections follow each other at their alignment; .eh_frame has one terminator and A\'s FDE keeps its code', () => {
  const ab = composePatchObjects(a, b, { idA });
  assert.is(ab.text.length, 48 + 24);
  assert.equal([...ab.text.subarray(40, 48)], new Array(8).fill(0xcc), 'int3 padding');
  assert.equal([...ab.rodata.subarray(32, 34)], [0x42, 0]);
  assert.is(ab.bssSize, 32 + 0);
  assert.is(ab.ehFrame!.length, 20 + 28 + 4);
  assert.equal([...ab.ehFrame!.subarray(20, 48)], [...frame(28)]);
  const frames = ab.relocations.filter((r) => r.section === 'ehFrame');
  assert.equal(frames.map((r) => [r.offset, ab.symbols[r.symbol]!.type, ab.symbols[r.symbol]!.name, r.addend]), [
    [8, 'section', '.text.new', 0n],
    [28, 'func', 'report', 0n],
  ]);
});

compose('the result round-trips through the PO writer and reader', () => {
  const ab = composePatchObjects(a, b, { idA });
  const back = readPatchObject(writePatchObject(ab), 'ab.po');
  assert.equal(back.functions.map((f) => f.name).sort(), ['bump', 'report']);
  assert.equal(back.unsafe.length, 1);
  assert.equal(back.basePatches, []);
});

compose('a B not made on top of A is refused, naming both bases', () => {
  assert.throws(() => composePatchObjects(b, a, { idA: patchObjectId(writePatchObject(b)), names: { a: 'b.po', b: 'a.po' } }), (e: unknown) =>
    e instanceof ComposeError && e.code === 'E_COMPOSE' && /^a\.po expects no patches applied, but b\.po leaves patches \[/.test(e.message));
  assert.throws(() => composePatchObjects(a, { ...b, targetBuildId: 'cd'.repeat(20) }, { idA }), (e: unknown) => e instanceof ComposeError && /build-id/.test((e as Error).message));
});

compose.run();
