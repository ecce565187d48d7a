// relocate(): hand-computed relocation results for every type the applier supports, with a small
// hand-made PatchObject and fixed addresses (no process involved).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  R_X86_64_32, R_X86_64_32S, R_X86_64_64, R_X86_64_GOTPCRELX, R_X86_64_GOTTPOFF, R_X86_64_PC32, R_X86_64_PC64,
  R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX, R_X86_64_TPOFF32, R_X86_64_SIZE32,
} from '@katana/elf';
import type { PatchObject, PoRelocation, PoSymbol } from '@katana/po';
import { planArea, relocate, RelocationError, type ResolvedSymbol } from '../src/index.js';

const BASE = 0x10000000n;

function po(relocations: PoRelocation[], symbols: PoSymbol[], text = new Uint8Array(64), rodata = new Uint8Array(16)): PatchObject {
  return {
    targetBuildId: 'ab', targetName: 'prog', text, rodata, data: new Uint8Array(8), bssSize: 8,
    symbols, relocations, functions: [], unsafe: [],
  };
}

const local: PoSymbol = { name: 'msg', type: 'object', bind: 'local', size: 4, defined: { section: 'rodata', offset: 4 } };
const near: PoSymbol = { name: 'counter', type: 'object', bind: 'global', size: 4, target: { value: 0x1000n } };
const far: PoSymbol = { name: 'puts', type: 'notype', bind: 'global', size: 0, target: {} };
const tls: PoSymbol = { name: 'tvar', type: 'tls', bind: 'global', size: 4, target: { value: 0n } };
const NEAR_ADDR = BASE - 0x1000n;
const FAR_ADDR = 0x7f0000001230n;

function build(relocations: PoRelocation[]): { image: Uint8Array; view: DataView; plan: ReturnType<typeof planArea> } {
  const p = po(relocations, [local, near, far, tls]);
  const r: (ResolvedSymbol | undefined)[] = [
    undefined,
    { kind: 'address', address: NEAR_ADDR, isFunction: false },
    { kind: 'address', address: FAR_ADDR, isFunction: true },
    { kind: 'tpoff', tpoff: -16n },
  ];
  const plan = planArea(p, r);
  const image = relocate({ po: p, plan, base: BASE, resolved: r });
  return { image, view: new DataView(image.buffer), plan };
}

const reloc = suite('relocate');

reloc('R_X86_64_64 stores S+A as 8 bytes', () => {
  const { view, plan } = build([{ section: 'text', offset: 8, type: R_X86_64_64, symbol: 0, addend: 2n }]);
  assert.is(view.getBigUint64(8, true), BASE + BigInt(plan.sections.rodata.offset) + 4n + 2n);
});

reloc('R_X86_64_PC32 to a near data symbol stores S+A-P', () => {
  const { view } = build([{ section: 'text', offset: 3, type: R_X86_64_PC32, symbol: 1, addend: -4n }]);
  assert.is(view.getInt32(3, true), Number(NEAR_ADDR - 4n - (BASE + 3n)));
});

reloc('R_X86_64_PLT32 out of rel32 reach goes through the jump-table entry', () => {
  const { image, view, plan } = build([{ section: 'text', offset: 1, type: R_X86_64_PLT32, symbol: 2, addend: -4n }]);
  const entry = plan.jumpTable.entries.get(2)!;
  assert.ok(entry !== undefined && entry >= 64);
  assert.is(view.getInt32(1, true), entry - 4 - 1);
  assert.equal([...image.subarray(entry, entry + 6)], [0xff, 0x25, 0, 0, 0, 0]);
  assert.is(view.getBigUint64(entry + 6, true), FAR_ADDR);
});

reloc('R_X86_64_PLT32 within reach calls directly', () => {
  const { view } = build([{ section: 'text', offset: 1, type: R_X86_64_PLT32, symbol: 1, addend: -4n }]);
  assert.is(view.getInt32(1, true), Number(NEAR_ADDR - 4n - (BASE + 1n)));
});

reloc('R_X86_64_REX_GOTPCRELX points at a GOT slot holding S', () => {
  const { view, plan } = build([
    { section: 'text', offset: 3, type: R_X86_64_REX_GOTPCRELX, symbol: 2, addend: -4n },
    { section: 'text', offset: 13, type: R_X86_64_GOTPCRELX, symbol: 2, addend: -4n },
  ]);
  const slot = plan.got.slots.get(2)!;
  assert.is(plan.got.slots.size, 1);
  assert.is(slot % 4096, 0, 'the GOT starts the data pages');
  assert.is(view.getInt32(3, true), slot - 4 - 3);
  assert.is(view.getInt32(13, true), slot - 4 - 13);
  assert.is(view.getBigUint64(slot, true), FAR_ADDR);
});

reloc('R_X86_64_GOTTPOFF slot holds the thread-pointer offset; TPOFF32 stores it directly', () => {
  const { view, plan } = build([
    { section: 'text', offset: 3, type: R_X86_64_GOTTPOFF, symbol: 3, addend: -4n },
    { section: 'text', offset: 20, type: R_X86_64_TPOFF32, symbol: 3, addend: 4n },
  ]);
  const slot = plan.got.slots.get(3)!;
  assert.is(view.getInt32(3, true), slot - 4 - 3);
  assert.is(view.getBigInt64(slot, true), -16n);
  assert.is(view.getInt32(20, true), -12);
});

reloc('R_X86_64_32 and 32S store absolute addresses that fit', () => {
  const { view, plan } = build([
    { section: 'text', offset: 4, type: R_X86_64_32, symbol: 0, addend: 0n },
    { section: 'text', offset: 12, type: R_X86_64_32S, symbol: 0, addend: 1n },
  ]);
  const msg = Number(BASE) + plan.sections.rodata.offset + 4;
  assert.is(view.getUint32(4, true), msg);
  assert.is(view.getInt32(12, true), msg + 1);
});

reloc('R_X86_64_32 overflow names the symbol', () => {
  try {
    build([{ section: 'text', offset: 4, type: R_X86_64_32, symbol: 2, addend: 0n }]);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, RelocationError);
    assert.match((error as Error).message, /R_X86_64_32 against puts/);
  }
});

reloc('R_X86_64_PC32 to far data without a jump-table entry is an overflow error', () => {
  const p = po([{ section: 'text', offset: 4, type: R_X86_64_PC32, symbol: 0, addend: -4n }], [{ ...near, name: 'environ' }]);
  const r: ResolvedSymbol[] = [{ kind: 'address', address: FAR_ADDR, isFunction: false }];
  assert.throws(() => relocate({ po: p, plan: planArea(p, r), base: BASE, resolved: r }), (e: unknown) => e instanceof RelocationError && /environ/.test((e as Error).message));
});

reloc('R_X86_64_PC64 stores a 64-bit S+A-P; relocations in .rodata.new apply too', () => {
  const { view, plan } = build([{ section: 'rodata', offset: 8, type: R_X86_64_PC64, symbol: 2, addend: 0n }]);
  const P = BASE + BigInt(plan.sections.rodata.offset + 8);
  assert.is(view.getBigInt64(plan.sections.rodata.offset + 8, true), FAR_ADDR - P);
});

reloc('an unsupported relocation type is refused by name', () => {
  assert.throws(() => build([{ section: 'text', offset: 4, type: R_X86_64_SIZE32, symbol: 1, addend: 0n }]), /R_X86_64_SIZE32/);
});

reloc('section bytes are copied to their planned offsets', () => {
  const text = new Uint8Array(64).fill(0x90);
  const rodata = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  const p = po([], [], text, rodata);
  const plan = planArea(p, []);
  const image = relocate({ po: p, plan, base: BASE, resolved: [] });
  assert.equal([...image.subarray(0, 64)], [...text]);
  assert.equal([...image.subarray(plan.sections.rodata.offset, plan.sections.rodata.offset + 16)], [...rodata]);
  assert.is(plan.sections.rodata.offset % 32, 0);
  assert.is(plan.sections.data.offset % 4096, 0);
});

reloc.run();
