// Gathers the DWARF sections of an ELF file, relocated. In a relocatable object (.o) the debug
// sections are not final: .debug_info holds zeros where the linker will put string offsets
// (R_X86_64_32 against .debug_str's section symbol) and code addresses (R_X86_64_64 against
// .text.tick's section symbol), so reading .o DWARF without applying .rela.debug_* gives every name
// as the first string of .debug_str. We apply them to a copy (S + A), where S is the symbol's
// st_value: in a .o each section starts at 0, so a section symbol resolves to 0 and addresses read
// from a .o are relative to the section their relocation names. Each relocated offset keeps its
// RelocTarget so callers can map a DW_AT_low_pc to `.text.tick` or a DW_OP_addr to `counter`.
import {
  ElfFile, ET_REL, R_X86_64_NONE, R_X86_64_64, R_X86_64_32, R_X86_64_32S, R_X86_64_DTPOFF32,
  R_X86_64_DTPOFF64, SHN_UNDEF, SHN_COMMON, STT_SECTION, relocTypeName,
} from '@katana/elf';
import type { ElfSymbol, Section } from '@katana/elf';
import { DwarfFormatError } from './errors.js';

/** SHF_COMPRESSED (gABI "Section Attribute Flags"); compressed debug sections are not supported. */
const SHF_COMPRESSED = 0x800n;
/** SHN_LORESERVE (gABI "Special Section Indexes"): shndx values from here up name no section. */
const SHN_LORESERVE = 0xff00;

/** What a relocation in a debug section of a .o pointed at. */
export interface RelocTarget {
  /** The symbol's name; for a section symbol (STT_SECTION), the section's name ('.text.tick'). */
  symbol: string;
  /** True when the relocation names a section symbol rather than a named symbol. */
  sectionSymbol: boolean;
  /** Name of the section holding the symbol; undefined for undefined (SHN_UNDEF) and SHN_COMMON symbols. */
  section: string | undefined;
  /** The relocation addend (the offset within `symbol`). */
  addend: bigint;
}

/** One debug section's (relocated) bytes and, in a .o, the targets of its relocations by offset. */
export interface DebugSection {
  name: string;
  bytes: Uint8Array;
  /** Relocation targets keyed by the section offset they patch; empty outside relocatable objects. */
  relocations: Map<number, RelocTarget>;
}

/** The DWARF sections readDwarf uses; absent ones are undefined. */
export interface DebugSections {
  /** The ELF file's path, for messages. */
  path: string | undefined;
  /** True for ET_REL: addresses are section-relative and relocations carry their targets. */
  relocatable: boolean;
  info: DebugSection | undefined;
  abbrev: DebugSection | undefined;
  str: DebugSection | undefined;
  lineStr: DebugSection | undefined;
  strOffsets: DebugSection | undefined;
  addr: DebugSection | undefined;
  rnglists: DebugSection | undefined;
  ranges: DebugSection | undefined;
  line: DebugSection | undefined;
}

/** Loads and (for ET_REL) relocates the DWARF sections of `elf`. */
export function loadDebugSections(elf: ElfFile): DebugSections {
  const relocatable = elf.header.type === ET_REL;
  const load = (name: string): DebugSection | undefined => {
    const section = elf.section(name);
    if (!section) return undefined;
    if ((section.flags & SHF_COMPRESSED) !== 0n) {
      throw new DwarfFormatError(name, 0, 'compressed debug sections (SHF_COMPRESSED) are not supported');
    }
    return relocatable ? relocate(elf, section) : { name, bytes: section.data(), relocations: new Map() };
  };
  return {
    path: elf.path,
    relocatable,
    info: load('.debug_info'),
    abbrev: load('.debug_abbrev'),
    str: load('.debug_str'),
    lineStr: load('.debug_line_str'),
    strOffsets: load('.debug_str_offsets'),
    addr: load('.debug_addr'),
    rnglists: load('.debug_rnglists'),
    ranges: load('.debug_ranges'),
    line: load('.debug_line'),
  };
}

function targetOf(elf: ElfFile, symbol: ElfSymbol, addend: bigint): RelocTarget {
  const inSection = symbol.shndx !== SHN_UNDEF && symbol.shndx !== SHN_COMMON && symbol.shndx < SHN_LORESERVE
    ? elf.sections[symbol.shndx]?.name
    : undefined;
  const sectionSymbol = symbol.type === STT_SECTION;
  return { symbol: sectionSymbol ? (inSection ?? '') : symbol.name, sectionSymbol, section: inSection, addend };
}

/** A copy of `section`'s bytes with its RELA relocations applied, and their targets by offset. */
function relocate(elf: ElfFile, section: Section): DebugSection {
  const relocs = elf.relocationsFor(section);
  const original = section.data();
  if (relocs.length === 0) return { name: section.name, bytes: original, relocations: new Map() };
  // A copy: data() may be a view of the caller's file bytes (a Buffer's slice() would be one too).
  const bytes = new Uint8Array(original);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const symbols = elf.symbols();
  const relocations = new Map<number, RelocTarget>();
  for (const r of relocs) {
    if (r.type === R_X86_64_NONE) continue;
    const offset = Number(r.offset);
    const fail = (reason: string): never => {
      throw new DwarfFormatError(section.name, offset, reason);
    };
    const symbol = symbols[r.symbolIndex] ?? fail(`relocation names symbol index ${r.symbolIndex} beyond .symtab`);
    const s = symbol.shndx === SHN_UNDEF || symbol.shndx === SHN_COMMON ? 0n : symbol.value;
    const value = s + r.addend;
    switch (r.type) {
      case R_X86_64_64:
      case R_X86_64_DTPOFF64:
        if (offset + 8 > bytes.length) fail('relocation beyond the section');
        view.setBigUint64(offset, BigInt.asUintN(64, value), true);
        break;
      case R_X86_64_32:
      case R_X86_64_32S:
      case R_X86_64_DTPOFF32:
        if (offset + 4 > bytes.length) fail('relocation beyond the section');
        if (r.type === R_X86_64_32 ? value < 0n || value > 0xffffffffn : value < -0x80000000n || value > 0x7fffffffn) {
          fail(`${relocTypeName(r.type)} value 0x${value.toString(16)} does not fit`);
        }
        view.setUint32(offset, Number(BigInt.asUintN(32, value)), true);
        break;
      default:
        fail(`unsupported relocation ${relocTypeName(r.type)} in a debug section`);
    }
    relocations.set(offset, targetOf(elf, symbol, r.addend));
  }
  return { name: section.name, bytes, relocations };
}
