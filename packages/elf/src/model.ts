// The ELF64 domain model shared by every katana package: what the reader returns and what the
// writer accepts. Raw on-disk records keep C field names (see raw.ts); these models use camelCase.
// Addresses are bigint; sizes and file offsets are number (checked by toSafeNumber on the way in).

/** The ELF header, decoded (ELF64 little-endian only). */
export interface ElfHeader {
  /** ET_REL, ET_EXEC, ET_DYN, ET_CORE. */
  type: number;
  /** EM_X86_64 for every file katana accepts. */
  machine: number;
  entry: bigint;
  phoff: number;
  shoff: number;
  flags: number;
  phnum: number;
  shnum: number;
  shstrndx: number;
}

/** One section header plus lazy access to its bytes. */
export interface Section {
  index: number;
  name: string;
  /** SHT_* value. */
  type: number;
  /** SHF_* bits. */
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** The section's file bytes (a view, not a copy); empty for SHT_NOBITS. */
  data(): Uint8Array;
}

/** One program header. */
export interface Segment {
  /** PT_* value. */
  type: number;
  /** PF_* bits. */
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  align: number;
}

/** A symbol from .symtab or .dynsym. */
export interface ElfSymbol {
  /** Index in its symbol table. */
  index: number;
  name: string;
  value: bigint;
  size: number;
  /** STT_* value. */
  type: number;
  /** STB_* value. */
  bind: number;
  /** STV_* value. */
  visibility: number;
  /** Section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON. */
  shndx: number;
  /**
   * For .symtab local symbols: the name of the nearest preceding STT_FILE symbol (the source file
   * the local came from, as the compiler wrote it). Undefined for globals and for .dynsym.
   */
  file?: string;
  /** For .dynsym with .gnu.version: the version name ("GLIBC_2.2.5"), if any. */
  version?: string;
  /** For .dynsym: true when the version is hidden (not the default `@@` version). */
  versionHidden?: boolean;
  /**
   * For .dynsym versions needed from another object (.gnu.version_r): that object's name as the
   * linker recorded it (vn_file, e.g. "libc.so.6"). Undefined for versions this file defines.
   */
  versionFile?: string;
}

/** One RELA entry, with its symbol resolved (index 0 gives the null symbol). */
export interface Relocation {
  offset: bigint;
  /** R_X86_64_* value. */
  type: number;
  symbolIndex: number;
  addend: bigint;
}

/** One note from a SHT_NOTE section or PT_NOTE segment. */
export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}
