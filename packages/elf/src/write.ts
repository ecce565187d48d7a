// RelocatableWriter: builds an ET_REL EM_X86_64 file (the Patch Object and test fixtures). Layout:
// ELF header; section 0 (null); the added sections in order; one .rela<name> per relocated section
// (sh_link = .symtab, sh_info = target, SHF_INFO_LINK); .symtab; .strtab; .shstrtab; then the
// section header table. Each section's file offset is aligned to its sh_addralign.
// Symbol order follows gABI (locals before globals, sh_info = first global) and gcc's habit: the null
// symbol, locals added before any STT_FILE, each STT_FILE followed by its locals, the section
// symbols, then globals and weaks. Indices are final before section data functions run, so a data
// function may call symbolIndex() (for notes or tables that name symbols).
import {
  EI_CLASS, EI_DATA, EI_VERSION, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, ET_REL, EV_CURRENT, SHF_INFO_LINK,
  SHN_ABS, SHN_COMMON, SHN_LORESERVE, SHN_UNDEF, SHT_NOBITS, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, STB_LOCAL,
  STT_FILE, STT_SECTION, STV_DEFAULT,
} from './constants.js';
import { ElfWriteError } from './errors.js';
import { EHDR_SIZE, RELA_SIZE, SHDR_SIZE, SYM_SIZE, encodeRela, encodeShdr, encodeSym, type Elf64_Shdr } from './raw.js';
import { StringTableBuilder } from './strtab.js';

/** A section to write. */
export interface OutSection {
  name: string;
  /** SHT_* value. */
  type: number;
  /** SHF_* bits. */
  flags: bigint;
  /** Power of two, or 0/1 for none. */
  addralign: number;
  entsize?: number;
  /** Absent for SHT_NOBITS; a function is called inside write(), after symbol indices are final. */
  data?: Uint8Array | (() => Uint8Array);
  /** Required for SHT_NOBITS. */
  size?: number;
  /** sh_info for custom sections (RELA and SYMTAB fields are set by the writer). */
  info?: number;
  /** sh_link for custom sections (a section index returned by addSection). */
  link?: number;
}

/** An opaque handle on a symbol added to a RelocatableWriter. */
export type SymbolRef = { readonly __symbolRef: unique symbol };

/** A symbol to write. */
export interface OutSymbol {
  name: string;
  value: bigint;
  size: number;
  /** STT_* value. */
  type: number;
  /** STB_* value. */
  bind: number;
  /** STV_* value; STV_DEFAULT when absent. */
  visibility?: number;
  /** Index returned by addSection, or SHN_UNDEF / SHN_ABS / SHN_COMMON. */
  shndx: number;
}

/** One relocation to write against a section. */
export interface OutRelocation {
  offset: bigint;
  /** R_X86_64_* value. */
  type: number;
  symbol: SymbolRef;
  addend: bigint;
}

interface FileGroup {
  file: SymbolRef | undefined;
  locals: SymbolRef[];
}

/** Writer of ELF64 relocatable objects; see packages/elf/CONTRACT.md. */
export class RelocatableWriter {
  private readonly sections: OutSection[] = [];
  private readonly symbols = new Map<SymbolRef, OutSymbol>();
  private readonly groups: FileGroup[] = [{ file: undefined, locals: [] }];
  private readonly sectionSymbols: SymbolRef[] = [];
  private readonly globals: SymbolRef[] = [];
  private readonly relocations = new Map<number, OutRelocation[]>();
  private indices: Map<SymbolRef, number> | undefined;

  constructor(private readonly machine: number = EM_X86_64) {}

  /** Adds a section and returns its final section index (1, 2, ...). */
  addSection(s: OutSection): number {
    if (s.addralign !== 0 && (s.addralign & (s.addralign - 1)) !== 0) {
      throw new ElfWriteError(`section ${s.name} has alignment ${s.addralign}, which is not a power of two`);
    }
    if (s.type === SHT_NOBITS ? s.size === undefined || s.data !== undefined : s.size !== undefined) {
      throw new ElfWriteError(`section ${s.name} must give a size if and only if it is SHT_NOBITS`);
    }
    this.sections.push(s);
    this.indices = undefined;
    return this.sections.length;
  }

  /** Adds the STT_SECTION symbol of section `sectionIndex`. */
  addSectionSymbol(sectionIndex: number): SymbolRef {
    this.checkSection(sectionIndex, 'section symbol');
    const ref = this.newRef({ name: '', value: 0n, size: 0, type: STT_SECTION, bind: STB_LOCAL, shndx: sectionIndex });
    this.sectionSymbols.push(ref);
    return ref;
  }

  /** Adds an STT_FILE symbol; local symbols added after it belong to that file. */
  addFileSymbol(name: string): SymbolRef {
    const ref = this.newRef({ name, value: 0n, size: 0, type: STT_FILE, bind: STB_LOCAL, shndx: SHN_ABS });
    this.groups.push({ file: ref, locals: [] });
    return ref;
  }

  /** Adds a symbol; locals go after the current STT_FILE, globals and weaks after all locals. */
  addSymbol(s: OutSymbol): SymbolRef {
    if (s.shndx !== SHN_UNDEF && s.shndx !== SHN_ABS && s.shndx !== SHN_COMMON) this.checkSection(s.shndx, `symbol ${s.name}`);
    const ref = this.newRef({ ...s });
    if (s.bind !== STB_LOCAL) this.globals.push(ref);
    else if (s.type === STT_SECTION) this.sectionSymbols.push(ref);
    else this.groups[this.groups.length - 1]!.locals.push(ref);
    return ref;
  }

  /** Adds RELA entries applying to section `target` (written to .rela<target name>). */
  addRelocations(target: number, relocs: OutRelocation[]): void {
    this.checkSection(target, 'relocation target');
    for (const r of relocs) {
      if (!this.symbols.has(r.symbol)) throw new ElfWriteError(`a relocation against section ${target} names a symbol of another writer`);
    }
    const list = this.relocations.get(target) ?? [];
    list.push(...relocs);
    this.relocations.set(target, list);
  }

  /** The final .symtab index of `ref`; valid once write() has begun (inside data functions, or after). */
  symbolIndex(ref: SymbolRef): number {
    if (this.indices === undefined) throw new ElfWriteError('symbol indices are known only once write() has begun');
    const i = this.indices.get(ref);
    if (i === undefined) throw new ElfWriteError('the symbol was not added to this writer');
    return i;
  }

  /** Lays out and encodes the whole file. */
  write(): Uint8Array {
    const order = this.symbolOrder();
    this.indices = new Map(order.map((ref, i) => [ref, i + 1]));
    const firstGlobal = order.length + 1 - this.globals.length;

    const relaTargets = [...this.relocations.keys()];
    const symtabIndex = this.sections.length + relaTargets.length + 1;
    const count = symtabIndex + 3;
    if (count >= SHN_LORESERVE) throw new ElfWriteError(`${count} sections need extended section numbering, which this writer does not emit`);

    const strtab = new StringTableBuilder();
    const symtab = new Uint8Array((order.length + 1) * SYM_SIZE);
    const symView = new DataView(symtab.buffer);
    order.forEach((ref, i) => {
      const s = this.symbols.get(ref)!;
      encodeSym(symView, (i + 1) * SYM_SIZE, {
        st_name: strtab.add(s.name), st_info: (s.bind << 4) | (s.type & 0xf), st_other: (s.visibility ?? STV_DEFAULT) & 3,
        st_shndx: s.shndx, st_value: s.value, st_size: s.size,
      });
    });

    const out: { shdr: Omit<Elf64_Shdr, 'sh_offset' | 'sh_name'>; name: string; bytes: Uint8Array | undefined }[] = [];
    for (const s of this.sections) {
      const bytes = s.type === SHT_NOBITS ? undefined : typeof s.data === 'function' ? s.data() : s.data ?? new Uint8Array(0);
      out.push({
        name: s.name, bytes,
        shdr: {
          sh_type: s.type, sh_flags: s.flags, sh_addr: 0n, sh_size: bytes?.length ?? s.size!, sh_link: s.link ?? 0,
          sh_info: s.info ?? 0, sh_addralign: s.addralign, sh_entsize: s.entsize ?? 0,
        },
      });
    }
    for (const target of relaTargets) {
      const relocs = this.relocations.get(target)!;
      const bytes = new Uint8Array(relocs.length * RELA_SIZE);
      const v = new DataView(bytes.buffer);
      relocs.forEach((r, i) => encodeRela(v, i * RELA_SIZE, r.offset, this.symbolIndex(r.symbol), r.type, r.addend));
      out.push({
        name: `.rela${this.sections[target - 1]!.name}`, bytes,
        shdr: {
          sh_type: SHT_RELA, sh_flags: SHF_INFO_LINK, sh_addr: 0n, sh_size: bytes.length, sh_link: symtabIndex,
          sh_info: target, sh_addralign: 8, sh_entsize: RELA_SIZE,
        },
      });
    }
    out.push({
      name: '.symtab', bytes: symtab,
      shdr: {
        sh_type: SHT_SYMTAB, sh_flags: 0n, sh_addr: 0n, sh_size: symtab.length, sh_link: symtabIndex + 1,
        sh_info: firstGlobal, sh_addralign: 8, sh_entsize: SYM_SIZE,
      },
    });
    const strtabBytes = strtab.bytes();
    out.push({ name: '.strtab', bytes: strtabBytes, shdr: stringTableHeader(strtabBytes.length) });
    const shstrtab = new StringTableBuilder();
    const nameOffsets = out.map((s) => shstrtab.add(s.name));
    nameOffsets.push(shstrtab.add('.shstrtab'));
    const shstrBytes = shstrtab.bytes();
    out.push({ name: '.shstrtab', bytes: shstrBytes, shdr: stringTableHeader(shstrBytes.length) });

    // Layout: section bytes after the ELF header, each at its alignment; the header table last.
    let at = EHDR_SIZE;
    const offsets = out.map((s) => {
      at = alignUp(at, Math.max(1, s.shdr.sh_addralign));
      const offset = at;
      if (s.bytes !== undefined) at += s.bytes.length;
      return offset;
    });
    const shoff = alignUp(at, 8);
    const file = new Uint8Array(shoff + count * SHDR_SIZE);
    const view = new DataView(file.buffer);
    writeEhdr(file, view, this.machine, shoff, count, count - 1);
    out.forEach((s, i) => {
      if (s.bytes !== undefined) file.set(s.bytes, offsets[i]!);
      encodeShdr(view, shoff + (i + 1) * SHDR_SIZE, { ...s.shdr, sh_name: nameOffsets[i]!, sh_offset: offsets[i]! });
    });
    return file;
  }

  private symbolOrder(): SymbolRef[] {
    const order: SymbolRef[] = [];
    for (const g of this.groups) {
      if (g.file !== undefined) order.push(g.file);
      order.push(...g.locals);
    }
    order.push(...this.sectionSymbols, ...this.globals);
    return order;
  }

  private newRef(s: OutSymbol): SymbolRef {
    const ref = Object.freeze({}) as unknown as SymbolRef;
    this.symbols.set(ref, s);
    this.indices = undefined;
    return ref;
  }

  private checkSection(index: number, what: string): void {
    if (!Number.isInteger(index) || index < 1 || index > this.sections.length) {
      throw new ElfWriteError(`${what} names section ${index}, but only sections 1..${this.sections.length} were added`);
    }
  }
}

function stringTableHeader(size: number): Omit<Elf64_Shdr, 'sh_offset' | 'sh_name'> {
  return { sh_type: SHT_STRTAB, sh_flags: 0n, sh_addr: 0n, sh_size: size, sh_link: 0, sh_info: 0, sh_addralign: 1, sh_entsize: 0 };
}

function writeEhdr(file: Uint8Array, v: DataView, machine: number, shoff: number, shnum: number, shstrndx: number): void {
  file.set(ELFMAG, 0);
  file[EI_CLASS] = ELFCLASS64;
  file[EI_DATA] = ELFDATA2LSB;
  file[EI_VERSION] = EV_CURRENT;
  v.setUint16(16, ET_REL, true);
  v.setUint16(18, machine, true);
  v.setUint32(20, EV_CURRENT, true);
  v.setBigUint64(24, 0n, true); // e_entry
  v.setBigUint64(32, 0n, true); // e_phoff
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint32(48, 0, true); // e_flags
  v.setUint16(52, EHDR_SIZE, true);
  v.setUint16(54, 0, true); // e_phentsize
  v.setUint16(56, 0, true); // e_phnum
  v.setUint16(58, SHDR_SIZE, true);
  v.setUint16(60, shnum, true);
  v.setUint16(62, shstrndx, true);
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
