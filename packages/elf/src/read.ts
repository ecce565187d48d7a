// ElfFile: a parsed ELF64 little-endian x86-64 file held in memory. parse() decodes and bounds-checks
// the headers (headers.ts) and names the sections from the section name table; everything else
// (symbols, versions, relocations, notes) is decoded on first use and cached, and any malformed
// byte raises ElfFormatError. Works on relocatable objects, PIE and non-PIE executables, static
// executables, shared libraries and stripped files.
import { readFileSync } from 'node:fs';
import { PT_LOAD, PT_NOTE, SHT_DYNSYM, SHT_NOBITS, SHT_NOTE, SHT_NULL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB } from './constants.js';
import { ElfFormatError, ElfIoError } from './errors.js';
import { readHeaders, type ByteSource } from './headers.js';
import type { ElfHeader, ElfNote, ElfSymbol, Relocation, Section, Segment } from './model.js';
import { buildIdOf, parseNotes } from './notes.js';
import type { Elf64_Phdr, Elf64_Shdr } from './raw.js';
import { readRelocations } from './relocations.js';
import { StringTable } from './strtab.js';
import { readSymbols } from './symbols.js';
import { applyVersions } from './versions.js';

/** A parsed ELF file; see packages/elf/CONTRACT.md. */
export class ElfFile {
  readonly sections: Section[];
  readonly segments: Segment[];
  private symtab: ElfSymbol[] | undefined;
  private dynsym: ElfSymbol[] | undefined;
  private noteList: ElfNote[] | undefined;
  private readonly relocationCache = new Map<number, Relocation[]>();

  private constructor(
    readonly bytes: Uint8Array,
    readonly path: string | undefined,
    readonly header: ElfHeader,
    shdrs: Elf64_Shdr[],
    phdrs: Elf64_Phdr[],
  ) {
    this.sections = nameSections(bytes, path, header, shdrs);
    this.segments = phdrs.map((p) => ({
      type: p.p_type, flags: p.p_flags, offset: p.p_offset, vaddr: p.p_vaddr, paddr: p.p_paddr,
      filesz: p.p_filesz, memsz: p.p_memsz, align: p.p_align,
    }));
  }

  /** Parses an ELF64 x86-64 file from memory; throws ElfFormatError on anything malformed. */
  static parse(bytes: Uint8Array, path?: string): ElfFile {
    const src: ByteSource = { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
    const { header, shdrs, phdrs } = readHeaders(src, path);
    return new ElfFile(bytes, path, header, shdrs, phdrs);
  }

  /** Reads the whole file at `path` and parses it; throws ElfIoError or ElfFormatError. */
  static open(path: string): ElfFile {
    let bytes: Uint8Array;
    try {
      const buffer = readFileSync(path);
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (cause) {
      throw new ElfIoError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
    }
    return ElfFile.parse(bytes, path);
  }

  /** The first section named `name`. */
  section(name: string): Section | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The symbols of .symtab (the first SHT_SYMTAB), [] when stripped; locals carry `file`. */
  symbols(): ElfSymbol[] {
    if (this.symtab === undefined) {
      const table = this.sections.find((s) => s.type === SHT_SYMTAB);
      this.symtab = table === undefined ? [] : readSymbols(this.sections, table, this.path);
    }
    return this.symtab;
  }

  /** The symbols of .dynsym with their GNU versions, [] when there is none. */
  dynamicSymbols(): ElfSymbol[] {
    if (this.dynsym === undefined) {
      const table = this.sections.find((s) => s.type === SHT_DYNSYM);
      const symbols = table === undefined ? [] : readSymbols(this.sections, table, this.path);
      if (table !== undefined) applyVersions(this.sections, table, symbols, this.path);
      this.dynsym = symbols;
    }
    return this.dynsym;
  }

  /** RELA entries of the SHT_RELA section `rela` (cached; do not mutate). */
  relocations(rela: Section): Relocation[] {
    let out = this.relocationCache.get(rela.index);
    if (out === undefined) {
      out = readRelocations(this.sections, this.own(rela), this.path);
      this.relocationCache.set(rela.index, out);
    }
    return out;
  }

  /** RELA entries that apply to `target` (from SHT_RELA sections whose sh_info is its index), [] if none. */
  relocationsFor(target: Section): Relocation[] {
    if (target.index === 0) return [];
    const relas = this.sections.filter((s) => s.type === SHT_RELA && s.info === target.index);
    if (relas.length === 1) return this.relocations(relas[0]!);
    return relas.flatMap((s) => this.relocations(s));
  }

  /** Notes of every SHT_NOTE section, or of the PT_NOTE segments when the file has no sections. */
  notes(): ElfNote[] {
    if (this.noteList === undefined) {
      const noteSections = this.sections.filter((s) => s.type === SHT_NOTE);
      this.noteList = this.sections.length > 1
        ? noteSections.flatMap((s) => parseNotes(s.data(), s.offset, s.addralign, { path: this.path, section: s.name }))
        : this.segments.filter((p) => p.type === PT_NOTE).flatMap((p) =>
          parseNotes(this.bytes.subarray(p.offset, p.offset + p.filesz), p.offset, p.align, { path: this.path, section: 'PT_NOTE' }));
    }
    return this.noteList;
  }

  /** Lowercase hex of the GNU build-id note, if the file has one. */
  buildId(): string | undefined {
    return buildIdOf(this.notes());
  }

  /** The PT_LOAD segment whose memory image contains `addr`, if any. */
  segmentAt(addr: bigint): Segment | undefined {
    return this.segments.find((p) => p.type === PT_LOAD && addr >= p.vaddr && addr < p.vaddr + BigInt(p.memsz));
  }

  /** `length` bytes at link-time address `addr` from the PT_LOAD segment holding it (zeros past filesz). */
  readAt(addr: bigint, length: number): Uint8Array {
    const seg = this.segmentAt(addr);
    if (seg === undefined) {
      throw new ElfFormatError(`no PT_LOAD segment holds address 0x${addr.toString(16)}`, { path: this.path });
    }
    const start = Number(addr - seg.vaddr);
    if (length < 0 || start + length > seg.memsz) {
      throw new ElfFormatError(
        `${length} bytes at 0x${addr.toString(16)} run past the end of the PT_LOAD segment at 0x${seg.vaddr.toString(16)}`,
        { path: this.path },
      );
    }
    const out = new Uint8Array(length);
    const inFile = Math.max(0, Math.min(length, seg.filesz - start));
    out.set(this.bytes.subarray(seg.offset + start, seg.offset + start + inFile));
    return out;
  }

  /** `s` as this file's own section object (callers may pass a copy). */
  private own(s: Section): Section {
    const mine = this.sections[s.index];
    if (mine === undefined) throw new ElfFormatError(`no section with index ${s.index}`, { path: this.path });
    return mine;
  }
}

/** Builds the Section models, with names from the section name table. */
function nameSections(bytes: Uint8Array, path: string | undefined, header: ElfHeader, shdrs: Elf64_Shdr[]): Section[] {
  const shstr = shdrs[header.shstrndx];
  let names: StringTable | undefined;
  if (header.shstrndx !== 0 && shstr !== undefined) {
    if (shstr.sh_type !== SHT_STRTAB) {
      throw new ElfFormatError(`section name table ${header.shstrndx} is not SHT_STRTAB`, { path, section: 'section header table', offset: header.shoff });
    }
    names = new StringTable(bytes.subarray(shstr.sh_offset, shstr.sh_offset + shstr.sh_size), 'the section name table', {
      path, section: 'section header table',
    });
  }
  return shdrs.map((h, index) => {
    const at = header.shoff + index * 64;
    const start = h.sh_offset;
    const end = h.sh_type === SHT_NOBITS || h.sh_type === SHT_NULL ? start : start + h.sh_size;
    return {
      index,
      name: names === undefined || index === 0 ? '' : names.get(h.sh_name, at),
      type: h.sh_type, flags: h.sh_flags, addr: h.sh_addr, offset: h.sh_offset, size: h.sh_size,
      link: h.sh_link, info: h.sh_info, addralign: h.sh_addralign, entsize: h.sh_entsize,
      data: () => bytes.subarray(start, end),
    };
  });
}
