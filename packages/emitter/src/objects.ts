// One relocatable object seen as the emitter needs it: its functions and variables (named
// STT_FUNC / STT_OBJECT / STT_TLS symbols), their bytes, the relocations inside them, and which named
// symbol covers an offset of a section (gas turns `count.0` and static functions into "section symbol
// + addend", so a relocation target is found again by offset).
import {
  type ElfSymbol, type Relocation, type Section, SHF_EXECINSTR, SHF_TLS, SHF_WRITE, SHN_ABS, SHN_COMMON,
  SHN_UNDEF, SHT_NOBITS, STB_LOCAL, STT_FILE, STT_FUNC, STT_GNU_IFUNC, STT_OBJECT, STT_TLS,
} from '@katana/elf';
import { InstructionMap } from './decode.js';
import type { BuildObject } from './inputs.js';

/** The functions, variables and relocations of one object file. */
export class ObjectModel {
  readonly symbols: ElfSymbol[];
  /** STT_FUNC symbols defined in a section. */
  readonly functions: ElfSymbol[];
  /** STT_OBJECT / STT_TLS symbols defined in a section or as SHN_COMMON. */
  readonly variables: ElfSymbol[];
  /** The source name gcc wrote into the first STT_FILE symbol ("main.c"). */
  readonly sttFile: string | undefined;
  private readonly entities = new Map<number, ElfSymbol[]>();
  private readonly relocs = new Map<number, Relocation[]>();
  private readonly decoded = new Map<number, InstructionMap>();

  constructor(readonly object: BuildObject) {
    this.symbols = object.elf.symbols();
    this.sttFile = this.symbols.find((s) => s.type === STT_FILE)?.name;
    this.functions = this.symbols.filter((s) => isFunction(s) && isInSection(s));
    this.variables = this.symbols.filter(
      (s) => (s.type === STT_OBJECT || s.type === STT_TLS) && (isInSection(s) || s.shndx === SHN_COMMON),
    );
    for (const s of this.symbols) {
      if (!isNamedEntity(s) || !isInSection(s)) continue;
      const list = this.entities.get(s.shndx) ?? [];
      list.push(s);
      this.entities.set(s.shndx, list);
    }
    for (const list of this.entities.values()) list.sort((a, b) => Number(a.value - b.value));
  }

  /** Source file relative to the project root. */
  get file(): string {
    return this.object.file;
  }

  /** The section with index `index`. */
  section(index: number): Section {
    return this.object.elf.sections[index]!;
  }

  /** The bytes of a function or variable (zeros for .bss and SHN_COMMON). */
  bytesOf(symbol: ElfSymbol): Uint8Array {
    if (symbol.shndx === SHN_COMMON) return new Uint8Array(symbol.size);
    const section = this.section(symbol.shndx);
    if (section.type === SHT_NOBITS) return new Uint8Array(symbol.size);
    const start = Number(symbol.value);
    return section.data().subarray(start, start + symbol.size);
  }

  /** Relocations of section `index` whose offset lies in [start, end), sorted by offset. */
  relocationsIn(index: number, start: number, end: number): Relocation[] {
    let all = this.relocs.get(index);
    if (!all) {
      all = [...this.object.elf.relocationsFor(this.section(index))].sort((a, b) => Number(a.offset - b.offset));
      this.relocs.set(index, all);
    }
    return all.filter((r) => r.offset >= BigInt(start) && r.offset < BigInt(end));
  }

  /** Relocations inside a function or variable. */
  relocationsOf(symbol: ElfSymbol): Relocation[] {
    if (!isInSection(symbol)) return [];
    const start = Number(symbol.value);
    return this.relocationsIn(symbol.shndx, start, start + Math.max(symbol.size, 1));
  }

  /**
   * The named function or variable a section offset refers to: the last one starting at or before
   * `offset`, else the first of the section (an addend of -4 before a lone variable still means it).
   */
  entityAt(index: number, offset: number): ElfSymbol | undefined {
    const list = this.entities.get(index);
    if (!list) return undefined;
    let found: ElfSymbol | undefined;
    for (const s of list) if (Number(s.value) <= offset) found = s;
    return found ?? list[0];
  }

  /** Section offset where the instruction of function `fn` containing section offset `offset` ends. */
  instructionEnd(fn: ElfSymbol, offset: number): number | undefined {
    let map = this.decoded.get(fn.index);
    if (!map) {
      map = new InstructionMap(this.bytesOf(fn));
      this.decoded.set(fn.index, map);
    }
    const end = map.endOf(offset - Number(fn.value));
    return end === undefined ? undefined : end + Number(fn.value);
  }

  /** Names of the local functions and variables (to find this object's STT_FILE group in an executable). */
  localNames(): string[] {
    return this.symbols.filter((s) => s.bind === STB_LOCAL && isNamedEntity(s) && isInSection(s)).map((s) => s.name);
  }

  /**
   * True for a variable whose storage the program cannot write: in .rodata.* (no SHF_WRITE), or in
   * .data.rel.ro* — a const object holding addresses (`const struct level levels[] = {{ "low", 1 }}`
   * in PIC/PIE code), which gcc marks writable for the dynamic linker's relocations and the linker
   * places in the RELRO segment, read-only once relocated.
   */
  isReadOnly(symbol: ElfSymbol): boolean {
    if (symbol.shndx === SHN_COMMON) return false;
    const section = this.section(symbol.shndx);
    return (section.flags & SHF_WRITE) === 0n || RELRO_SECTION.test(section.name);
  }

  /** True for a thread-local variable. */
  isTls(symbol: ElfSymbol): boolean {
    if (symbol.type === STT_TLS) return true;
    return isInSection(symbol) && (this.section(symbol.shndx).flags & SHF_TLS) !== 0n;
  }

  /** True when section `index` holds code. */
  isCode(index: number): boolean {
    return (this.section(index).flags & SHF_EXECINSTR) !== 0n;
  }
}

/** `.data.rel.ro`, `.data.rel.ro.local` and their -fdata-sections forms (`.data.rel.ro.levels`). */
const RELRO_SECTION = /^\.data\.rel\.ro(\.|$)/;

/** STT_FUNC or STT_GNU_IFUNC. */
export function isFunction(s: ElfSymbol): boolean {
  return s.type === STT_FUNC || s.type === STT_GNU_IFUNC;
}

/** A symbol with a name the programmer (or gcc, for `count.0`, `CSWTCH.9`) gave a function or variable. */
export function isNamedEntity(s: ElfSymbol): boolean {
  return (isFunction(s) || s.type === STT_OBJECT || s.type === STT_TLS) && s.name !== '' && !s.name.startsWith('.L');
}

/** True when the symbol is defined in a real section of its object. */
export function isInSection(s: ElfSymbol): boolean {
  return s.shndx !== SHN_UNDEF && s.shndx !== SHN_ABS && s.shndx !== SHN_COMMON && s.shndx < 0xff00;
}
