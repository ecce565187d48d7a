// Building the PatchObject value (kpatch's "create"): sections grow by appending aligned pieces
// (functions 16-aligned in .text.new, padded with int3), symbols are interned by a key so that each
// function, variable, copied section or target symbol appears once, and relocations are collected in
// PO coordinates. write.ts of @katana/po turns the result into an ELF relocatable.
import {
  PO_SECTION_ALIGN, PO_SECTION_NAMES, type PatchFunction, type PatchObject, type PoRelocation, type PoSectionKind, type PoSymbol,
  type UnsafeFunction,
} from '@katana/po';

const INT3 = 0xcc;

/** Accumulates the sections, symbols and relocations of a Patch Object. */
export class PoBuilder {
  readonly symbols: PoSymbol[] = [];
  readonly relocations: PoRelocation[] = [];
  readonly functions: PatchFunction[] = [];
  readonly unsafe: UnsafeFunction[] = [];
  readonly warnings: string[] = [];
  private readonly keys = new Map<string, number>();
  private readonly pieces: Record<Exclude<PoSectionKind, 'bss'>, Uint8Array[]> = { text: [], rodata: [], data: [] };
  private readonly sizes: Record<PoSectionKind, number> = { text: 0, rodata: 0, data: 0, bss: 0 };

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
  build(targetBuildId: string, targetName: string): PatchObject {
    return {
      targetBuildId,
      targetName,
      text: concat(this.pieces.text),
      rodata: concat(this.pieces.rodata),
      data: concat(this.pieces.data),
      bssSize: this.sizes.bss,
      symbols: this.symbols,
      relocations: this.relocations,
      functions: this.functions,
      unsafe: this.unsafe,
    };
  }
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
