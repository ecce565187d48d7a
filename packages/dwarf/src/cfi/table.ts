// The call frame table of one piece of code: its .eh_frame, plus its .debug_frame when present (the
// .eh_frame wins where both cover a pc, as in gdb). Built once, then `rowFor(pc)` finds the FDE by
// binary search and runs its program up to pc. Addresses are those the sections were read at:
// link-time for an ELF file (add the load bias yourself), run-time for bytes read from a process.
import { ET_REL, SHT_NOBITS, type ElfFile } from '@katana/elf';
import { DwarfFormatError } from '../errors.js';
import { FrameSection, type FrameDescriptionEntry } from './entries.js';
import { rowAt, type UnwindRow } from './rows.js';

/** SHF_COMPRESSED (gABI): such a .debug_frame is left out; .eh_frame is never compressed. */
const SHF_COMPRESSED = 0x800n;

/** What `rowFor` found for a pc. */
export interface CfiRow {
  section: FrameSection;
  fde: FrameDescriptionEntry;
  row: UnwindRow;
}

/** Call frame information of one file or code blob, looked up by pc. */
export class CallFrameTable {
  constructor(readonly sections: readonly FrameSection[]) {}

  /**
   * The .eh_frame and .debug_frame of a linked ELF file (executable or shared object), at link-time
   * addresses. A relocatable object's sections are not final and are refused.
   */
  static fromElf(elf: ElfFile): CallFrameTable {
    if (elf.header.type === ET_REL) throw new DwarfFormatError('.eh_frame', 0, `${elf.path ?? 'the file'} is a relocatable object: its CFI addresses are not final`);
    const sections: FrameSection[] = [];
    const ehFrame = elf.section('.eh_frame');
    if (ehFrame !== undefined && ehFrame.type !== SHT_NOBITS /* as in a separate debug file */) {
      const got = elf.section('.got.plt') ?? elf.section('.got');
      const text = elf.section('.text');
      sections.push(FrameSection.parse('.eh_frame', ehFrame.data(), {
        section: ehFrame.addr,
        ...(got === undefined ? {} : { data: got.addr }),
        ...(text === undefined ? {} : { text: text.addr }),
      }));
    }
    const debugFrame = elf.section('.debug_frame');
    if (debugFrame !== undefined && (debugFrame.flags & SHF_COMPRESSED) === 0n) {
      sections.push(FrameSection.parse('.debug_frame', debugFrame.data(), { section: 0n }));
    }
    return new CallFrameTable(sections);
  }

  /** An .eh_frame copy sitting at run-time address `address` (pcrel pointers relative to it). */
  static fromEhFrame(bytes: Uint8Array, address: bigint): CallFrameTable {
    return new CallFrameTable([FrameSection.parse('.eh_frame', bytes, { section: address })]);
  }

  /** The FDE covering `pc` in the first section that has one. */
  findFde(pc: bigint): { section: FrameSection; fde: FrameDescriptionEntry } | undefined {
    for (const section of this.sections) {
      const fde = section.findFde(pc);
      if (fde !== undefined) return { section, fde };
    }
    return undefined;
  }

  /** The unwind row in effect at `pc`, or undefined when no FDE covers it. Throws DwarfFormatError on a malformed program. */
  rowFor(pc: bigint): CfiRow | undefined {
    const found = this.findFde(pc);
    if (found === undefined) return undefined;
    const row = rowAt(found.section, found.fde, pc);
    return row === undefined ? undefined : { ...found, row };
  }
}
