// The layout of the patch area, decided before anything is mapped. Code pages first (R+X): .text.new,
// then the jump table, then .rodata.new and .eh_frame (the CFI of the new code); then, from the next page boundary, data pages (R+W): the GOT,
// .data.new, .bss.new. Each PO section starts at its PO_SECTION_ALIGN. The jump table has one 16-byte
// entry (`jmp *0(%rip)` = ff 25 00 00 00 00, an 8-byte absolute address, 2 bytes of int3) for every
// call target outside the patch (R_X86_64_PLT32, or PC32 against a function): on a non-PIE exe libc
// lies far beyond the ±2 GiB a rel32 reaches, and relocate() sends out-of-reach calls through it. The
// GOT has one 8-byte slot per symbol used through GOTPCREL/GOTPCRELX/REX_GOTPCRELX (its address) or
// GOTTPOFF (its offset from the thread pointer); instructions are never rewritten.
import { R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_GOTTPOFF, R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX } from '@katana/elf';
import { PO_SECTION_ALIGN, type PatchObject, type PoSectionKind } from '@katana/po';
import type { ResolvedSymbol } from './symbols.js';

/** Page size of x86-64 Linux. */
export const PAGE_SIZE = 0x1000;
/** Bytes per jump-table entry. */
export const JUMP_ENTRY_SIZE = 16;
/** Bytes per GOT slot. */
export const GOT_SLOT_SIZE = 8;

const GOT_TYPES = new Set([R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX, R_X86_64_GOTTPOFF]);

/** Offsets (from the start of the area) of everything the patch area holds. */
export interface PatchPlan {
  sections: Record<PoSectionKind, { offset: number; size: number }>;
  /** Jump table start and, per PO symbol index, the offset of its entry. */
  jumpTable: { offset: number; entries: Map<number, number> };
  /** GOT start and, per PO symbol index, the offset of its slot. */
  got: { offset: number; slots: Map<number, number> };
  /** Bytes of code pages (text, jump table, rodata, eh_frame), a multiple of PAGE_SIZE. */
  codeSize: number;
  /** Bytes of the whole area, a multiple of PAGE_SIZE. */
  size: number;
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** True when a relocation of `type` against the resolved symbol is a call that a jump-table entry may serve. */
export function isCallTarget(type: number, resolved: ResolvedSymbol | undefined): boolean {
  if (resolved === undefined || resolved.kind !== 'address') return false;
  return type === R_X86_64_PLT32 || (type === R_X86_64_PC32 && resolved.isFunction);
}

/**
 * Lays out the patch area of `po`, given its resolved target symbols (indexed like po.symbols).
 * `jumpTable: false` plans none, for callers whose every call target is within rel32 reach (a PIE
 * patched on disk, where the table's absolute addresses would sit in pages the loader cannot relocate).
 */
export function planArea(po: PatchObject, resolved: readonly (ResolvedSymbol | undefined)[], options: { jumpTable?: boolean } = {}): PatchPlan {
  const jumpSymbols = new Set<number>();
  const gotSymbols = new Set<number>();
  for (const r of po.relocations) {
    if (GOT_TYPES.has(r.type)) gotSymbols.add(r.symbol);
    else if (options.jumpTable !== false && isCallTarget(r.type, resolved[r.symbol])) jumpSymbols.add(r.symbol);
  }
  const text = { offset: 0, size: po.text.length };
  const jumpOffset = alignUp(text.offset + text.size, JUMP_ENTRY_SIZE);
  const entries = new Map([...jumpSymbols].sort((a, b) => a - b).map((s, i) => [s, jumpOffset + i * JUMP_ENTRY_SIZE]));
  const rodata = { offset: alignUp(jumpOffset + entries.size * JUMP_ENTRY_SIZE, PO_SECTION_ALIGN.rodata), size: po.rodata.length };
  const ehFrame = { offset: alignUp(rodata.offset + rodata.size, PO_SECTION_ALIGN.ehFrame), size: po.ehFrame?.length ?? 0 };
  const codeSize = alignUp(ehFrame.offset + ehFrame.size, PAGE_SIZE);
  const gotOffset = codeSize;
  const slots = new Map([...gotSymbols].sort((a, b) => a - b).map((s, i) => [s, gotOffset + i * GOT_SLOT_SIZE]));
  const data = { offset: alignUp(gotOffset + slots.size * GOT_SLOT_SIZE, PO_SECTION_ALIGN.data), size: po.data.length };
  const bss = { offset: alignUp(data.offset + data.size, PO_SECTION_ALIGN.bss), size: po.bssSize };
  const dataEnd = slots.size === 0 && data.size === 0 && bss.size === 0 ? codeSize : bss.offset + bss.size;
  return {
    sections: { text, rodata, data, bss, ehFrame },
    jumpTable: { offset: jumpOffset, entries },
    got: { offset: gotOffset, slots },
    codeSize,
    size: Math.max(alignUp(dataEnd, PAGE_SIZE), PAGE_SIZE),
  };
}
