// The CFI of one object's functions, found in its .eh_frame so that the patch can carry it. In a
// gcc object, .eh_frame is a list of records (System V x86-64 psABI §4.2.4 / LSB "Exception Frames"):
// u32 length (0 ends the list, 0xffffffff announces a 64-bit length), u32 id (0 for a CIE; in an
// FDE, the distance from this field back to its CIE), then for an FDE its pc_begin, which an
// R_X86_64_PC32 relocation points at the function's section (`.text.f + 0` with
// -ffunction-sections). An FDE is found by that relocation's target, never by decoding pc_begin.
// Only self-contained CFI is copied: a CIE without relocations (no personality routine) and an FDE
// whose one relocation is its pc_begin (no LSDA); C++ code with exception tables is left without.
import type { ElfSymbol, Relocation } from '@katana/elf';
import type { ObjectModel } from './objects.js';

const EH_FRAME = '.eh_frame';
const EXTENDED_LENGTH = 0xffffffff;
/** Offset of pc_begin in an FDE: after the u32 length and the u32 CIE pointer. */
export const FDE_PC_BEGIN = 8;

/** An FDE copied from an object: its bytes and the CIE it refers to, with the pc_begin relocation. */
export interface FrameRecord {
  cie: Uint8Array;
  fde: Uint8Array;
  /** The relocation of pc_begin as the object has it (offset relative to the object's .eh_frame). */
  pcBegin: Relocation;
}

interface Fde {
  offset: number;
  size: number;
  cieOffset: number;
  relocations: Relocation[];
}

/** The FDEs of one object's .eh_frame, looked up by the function they describe. */
export class FrameTable {
  private readonly fdes: Fde[] = [];
  private readonly bytes: Uint8Array;
  private readonly relocations: Relocation[];

  constructor(private readonly model: ObjectModel) {
    const section = model.object.elf.section(EH_FRAME);
    this.bytes = section?.data() ?? new Uint8Array();
    this.relocations = section ? model.object.elf.relocationsFor(section) : [];
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    for (let at = 0; at + 8 <= this.bytes.length; ) {
      const length = view.getUint32(at, true);
      // A terminator, a 64-bit length (never emitted by gcc for an object) or a record past the end: stop.
      if (length === 0 || length === EXTENDED_LENGTH || at + 4 + length > this.bytes.length) break;
      const id = view.getUint32(at + 4, true);
      if (id !== 0) {
        const inside = this.relocations.filter((r) => r.offset >= BigInt(at) && r.offset < BigInt(at + 4 + length));
        this.fdes.push({ offset: at, size: 4 + length, cieOffset: at + 4 - id, relocations: inside });
      }
      at += 4 + length;
    }
  }

  /**
   * The CFI of function `fn`, or a reason why it cannot travel with the patch (undefined reason and
   * record: the compiler gave the function no CFI).
   */
  frameOf(fn: ElfSymbol): { record?: FrameRecord; problem?: string } {
    const symbols = this.model.symbols;
    const fde = this.fdes.find((f) => {
      const r = f.relocations.find((x) => x.offset === BigInt(f.offset + FDE_PC_BEGIN));
      const s = r === undefined ? undefined : symbols[r.symbolIndex];
      return s !== undefined && s.shndx === fn.shndx && s.value + r!.addend === fn.value;
    });
    if (fde === undefined) return {};
    const cie = this.cieAt(fde.cieOffset);
    if (cie === undefined) return { problem: `its FDE at .eh_frame+0x${fde.offset.toString(16)} names no CIE` };
    if (fde.relocations.length !== 1) return { problem: 'its FDE has an LSDA (exception table)' };
    if (this.relocations.some((r) => r.offset >= BigInt(fde.cieOffset) && r.offset < BigInt(fde.cieOffset + cie.length))) {
      return { problem: 'its CIE names a personality routine' };
    }
    return { record: { cie, fde: this.bytes.slice(fde.offset, fde.offset + fde.size), pcBegin: fde.relocations[0]! } };
  }

  private cieAt(offset: number): Uint8Array | undefined {
    if (offset < 0 || offset + 8 > this.bytes.length) return undefined;
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + offset, 8);
    const length = view.getUint32(0, true);
    if (view.getUint32(4, true) !== 0 || length === EXTENDED_LENGTH || offset + 4 + length > this.bytes.length) return undefined;
    return this.bytes.slice(offset, offset + 4 + length);
  }
}
