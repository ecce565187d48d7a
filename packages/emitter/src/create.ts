// Building the PatchObject value (kpatch's "create"): sections grow by appending aligned pieces
// (functions 16-aligned in .text.new, padded with int3), symbols are interned by a key so that each
// function, variable, copied section or target symbol appears once, and relocations are collected in
// PO coordinates. .eh_frame grows by whole records: each distinct CIE once, then FDEs whose CIE
// pointer is rewritten for their new place, ended by a zero terminator in build(). write.ts of
// @katana/po turns the result into an ELF relocatable.
import { concatBytes, R_X86_64_PC32 } from '@katana/elf';
import {
  type DataTransform, PO_SECTION_ALIGN, PO_SECTION_NAMES, type PatchFunction, type PatchObject, type PoRelocation, type PoSectionKind,
  type PoSymbol, type TransformedType, type UnsafeFunction,
} from '@katana/po';
import { FDE_PC_BEGIN, type FrameRecord } from './eh-frame.js';

const INT3 = 0xcc;

/** Accumulates the sections, symbols and relocations of a Patch Object. */
export class PoBuilder {
  readonly symbols: PoSymbol[] = [];
  readonly relocations: PoRelocation[] = [];
  readonly functions: PatchFunction[] = [];
  readonly unsafe: UnsafeFunction[] = [];
  /** Changed struct types and the variables moved to new storage through them (data patching). */
  readonly types: TransformedType[] = [];
  readonly dataTransforms: DataTransform[] = [];
  readonly warnings: string[] = [];
  private readonly keys = new Map<string, number>();
  private readonly pieces: Record<Exclude<PoSectionKind, 'bss'>, Uint8Array[]> = { text: [], rodata: [], data: [], ehFrame: [] };
  private readonly sizes: Record<PoSectionKind, number> = { text: 0, rodata: 0, data: 0, bss: 0, ehFrame: 0 };
  /** Offset in .eh_frame of each CIE copied so far, by its bytes in hex. */
  private readonly cies = new Map<string, number>();
  /** Relocations of .eh_frame, kept apart so that the PO lists them after those of the other sections, as a reader sees them. */
  private readonly frameRelocations: PoRelocation[] = [];

  /**
   * Appends `content` (bytes, or a size for .bss.new) to section `kind` at a multiple of `align`
   * and returns its offset there; `what` names it in a warning.
   */
  place(kind: PoSectionKind, content: Uint8Array | number, align: number, what: () => string): number {
    const limit = PO_SECTION_ALIGN[kind];
    if (align > limit) this.warnings.push(`${what()} wants ${align}-byte alignment; ${PO_SECTION_NAMES[kind]} only guarantees ${limit}`);
    const step = Math.max(1, Math.min(align, limit));
    const offset = Math.ceil(this.sizes[kind] / step) * step;
    const size = typeof content === 'number' ? content : content.length;
    if (kind !== 'bss' && typeof content !== 'number') {
      if (offset > this.sizes[kind]) this.pieces[kind].push(new Uint8Array(offset - this.sizes[kind]).fill(kind === 'text' ? INT3 : 0));
      this.pieces[kind].push(content);
    }
    this.sizes[kind] = offset + size;
    return offset;
  }

  /** Appends the CFI of the function whose PO symbol is `symbol`: its CIE (once) and its FDE. */
  addFrame(record: FrameRecord, symbol: number): void {
    const key = Buffer.from(record.cie).toString('hex');
    let cieOffset = this.cies.get(key);
    if (cieOffset === undefined) {
      cieOffset = this.appendFrameBytes(record.cie);
      this.cies.set(key, cieOffset);
    }
    const fde = Uint8Array.from(record.fde);
    const at = this.sizes.ehFrame;
    // The CIE pointer counts back from its own field (FDE + 4) to the CIE.
    new DataView(fde.buffer).setUint32(4, at + 4 - cieOffset, true);
    this.appendFrameBytes(fde);
    // pc_begin: the function's start, pc-relative (the CIE's 'R' encoding DW_EH_PE_pcrel|sdata4).
    this.frameRelocations.push({ section: 'ehFrame', offset: at + FDE_PC_BEGIN, type: R_X86_64_PC32, symbol, addend: 0n });
  }

  private appendFrameBytes(bytes: Uint8Array): number {
    const at = this.sizes.ehFrame;
    this.pieces.ehFrame.push(bytes);
    this.sizes.ehFrame += bytes.length;
    return at;
  }

  /** The index of the symbol known as `key`, made by `make` the first time. */
  symbol(key: string, make: () => PoSymbol): number {
    let index = this.keys.get(key);
    if (index === undefined) {
      index = this.symbols.push(make()) - 1;
      this.keys.set(key, index);
    }
    return index;
  }

  /** The index of the symbol known as `key`, if it was made. */
  lookup(key: string): number | undefined {
    return this.keys.get(key);
  }

  /** The finished PatchObject. */
  build(targetBuildId: string, targetName: string, basePatches: string[]): PatchObject {
    const frames = this.pieces.ehFrame.length === 0 ? [] : [...this.pieces.ehFrame, new Uint8Array(4)]; // + zero terminator
    return {
      targetBuildId,
      targetName,
      text: concatBytes(this.pieces.text),
      rodata: concatBytes(this.pieces.rodata),
      data: concatBytes(this.pieces.data),
      bssSize: this.sizes.bss,
      symbols: this.symbols,
      relocations: [...this.relocations, ...this.frameRelocations],
      functions: this.functions,
      unsafe: this.unsafe,
      ehFrame: concatBytes(frames),
      basePatches,
      types: this.types,
      dataTransforms: this.dataTransforms,
    };
  }
}

