// Builds the bytes of the patch area: the PO sections copied to their planned offsets, every
// relocation applied for the final addresses, the GOT slots and jump-table entries filled in. Pure: it
// reads no process, so it runs while the target keeps running and is unit-tested on its own.
// Formulas (System V x86-64 psABI §4.4): S symbol, A addend, P place, G GOT slot, T thread offset.
//   64: S+A   PC64: S+A−P   PC32/PLT32: S+A−P (a call out of rel32 reach uses its jump-table entry as S)
//   32: S+A (zero-extends)   32S: S+A (sign-extends)   GOTPCREL/GOTPCRELX/REX_GOTPCRELX: G+A−P, slot=S
//   GOTTPOFF: G+A−P, slot=T   TPOFF32: T+A
// A value that does not fit its field is an error naming the symbol, never a silent truncation.
import {
  R_X86_64_32, R_X86_64_32S, R_X86_64_64, R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_GOTTPOFF, R_X86_64_NONE,
  R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX, R_X86_64_TPOFF32, relocTypeName,
} from '@katana/elf';
import type { PatchObject, PoRelocation, PoSectionKind } from '@katana/po';
import { RelocationError } from './errors.js';
import { JUMP_ENTRY_SIZE, type PatchPlan } from './plan.js';
import type { ResolvedSymbol } from './symbols.js';

const S32_MIN = -(1n << 31n);
const S32_END = 1n << 31n;
const U32_END = 1n << 32n;

/** Everything relocate() needs: the patch, its layout, where the area is, and the target's symbols. */
export interface RelocateInput {
  po: PatchObject;
  plan: PatchPlan;
  /** Run-time address of the first byte of the area. */
  base: bigint;
  /** Indexed like po.symbols; undefined for symbols the patch defines. */
  resolved: readonly (ResolvedSymbol | undefined)[];
}

/** Run-time address of PO symbol `index` once the area is at input.base. */
export function symbolAddress(input: RelocateInput, index: number): bigint {
  const symbol = input.po.symbols[index];
  if (symbol === undefined) throw new RelocationError(`relocation names symbol #${index}, but the patch has ${input.po.symbols.length} symbols`);
  if (symbol.defined !== undefined) {
    return input.base + BigInt(input.plan.sections[symbol.defined.section].offset + symbol.defined.offset);
  }
  const resolved = input.resolved[index];
  if (resolved?.kind !== 'address') throw new RelocationError(`symbol ${symbol.name} is thread-local, but a relocation uses it as an address`);
  return resolved.address;
}

function threadOffset(input: RelocateInput, index: number): bigint {
  const resolved = input.resolved[index];
  const name = input.po.symbols[index]?.name ?? `#${index}`;
  if (resolved?.kind !== 'tpoff') throw new RelocationError(`symbol ${name} is used as thread-local, but it is not`);
  return resolved.tpoff;
}

function put32(view: DataView, at: number, value: bigint, signed: boolean, what: () => string): void {
  const fits = signed ? value >= S32_MIN && value < S32_END : value >= 0n && value < U32_END;
  if (!fits) throw new RelocationError(`${what()}: value 0x${value.toString(16)} does not fit a ${signed ? 'signed' : 'unsigned'} 32-bit field`);
  view.setUint32(at, Number(BigInt.asUintN(32, value)), true);
}

function fitsS32(value: bigint): boolean {
  return value >= S32_MIN && value < S32_END;
}

function gotSlot(input: RelocateInput, r: PoRelocation): bigint {
  const slot = input.plan.got.slots.get(r.symbol);
  if (slot === undefined) throw new RelocationError(`no GOT slot planned for symbol ${input.po.symbols[r.symbol]?.name ?? r.symbol}`);
  return input.base + BigInt(slot);
}

function applyOne(input: RelocateInput, view: DataView, r: PoRelocation): void {
  const at = input.plan.sections[r.section].offset + r.offset;
  const P = input.base + BigInt(at);
  const A = r.addend;
  const what = (): string =>
    `${relocTypeName(r.type)} against ${input.po.symbols[r.symbol]?.name ?? `#${r.symbol}`} at ${r.section}+0x${r.offset.toString(16)}`;
  switch (r.type) {
    case R_X86_64_NONE:
      return;
    case R_X86_64_64:
      view.setBigUint64(at, BigInt.asUintN(64, symbolAddress(input, r.symbol) + A), true);
      return;
    case R_X86_64_PC64:
      view.setBigUint64(at, BigInt.asUintN(64, symbolAddress(input, r.symbol) + A - P), true);
      return;
    case R_X86_64_PC32:
    case R_X86_64_PLT32: {
      let value = symbolAddress(input, r.symbol) + A - P;
      const entry = input.plan.jumpTable.entries.get(r.symbol);
      if (!fitsS32(value) && entry !== undefined) value = input.base + BigInt(entry) + A - P;
      put32(view, at, value, true, what);
      return;
    }
    case R_X86_64_32:
      put32(view, at, symbolAddress(input, r.symbol) + A, false, what);
      return;
    case R_X86_64_32S:
      put32(view, at, symbolAddress(input, r.symbol) + A, true, what);
      return;
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX:
    case R_X86_64_GOTTPOFF:
      put32(view, at, gotSlot(input, r) + A - P, true, what);
      return;
    case R_X86_64_TPOFF32:
      put32(view, at, threadOffset(input, r.symbol) + A, true, what);
      return;
    default:
      throw new RelocationError(`${what()}: relocation type ${relocTypeName(r.type)} is not supported by the applier`);
  }
}

/** The bytes of the whole patch area (plan.size long) for an area mapped at input.base. */
export function relocate(input: RelocateInput): Uint8Array {
  const { po, plan } = input;
  const image = new Uint8Array(plan.size);
  const view = new DataView(image.buffer);
  const contents: [PoSectionKind, Uint8Array][] = [['text', po.text], ['rodata', po.rodata], ['data', po.data], ['ehFrame', po.ehFrame ?? new Uint8Array()]];
  for (const [kind, bytes] of contents) image.set(bytes, plan.sections[kind].offset);
  for (const r of po.relocations) {
    const size = r.section === 'bss' ? po.bssSize : contents.find(([k]) => k === r.section)![1].length;
    const width = r.type === R_X86_64_64 || r.type === R_X86_64_PC64 ? 8 : 4;
    if (r.section === 'bss' || r.offset < 0 || r.offset + width > size) {
      throw new RelocationError(`relocation at ${r.section}+0x${r.offset.toString(16)} lies outside the section (${size} bytes)`);
    }
    applyOne(input, view, r);
  }
  for (const [symbol, offset] of plan.jumpTable.entries) {
    image.set([0xff, 0x25, 0, 0, 0, 0], offset); // jmp *0(%rip): the address follows the instruction
    view.setBigUint64(offset + 6, BigInt.asUintN(64, symbolAddress(input, symbol)), true);
    image.fill(0xcc, offset + 14, offset + JUMP_ENTRY_SIZE);
  }
  for (const [symbol, offset] of plan.got.slots) {
    const resolved = input.resolved[symbol];
    const value = resolved?.kind === 'tpoff' ? resolved.tpoff : symbolAddress(input, symbol);
    view.setBigUint64(offset, BigInt.asUintN(64, value), true);
  }
  return image;
}
