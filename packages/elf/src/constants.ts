// ELF64 identifiers with their spec spelling (System V gABI "Object Files" chapter, the x86-64 psABI
// §4 and §4.4 for relocations, and the GNU extensions from binutils' include/elf/common.h), plus one
// `xxxName(value)` lookup per family that prints 'SHT_PROGBITS' or 'SHT_? (0x6ffffff6)'.
// Each lookup table is built once from the constants below, so a name and its value cannot drift.

// e_ident (gABI "ELF Identification")
export const ELFMAG = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46);
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const EI_VERSION = 6;
export const EI_OSABI = 7;
export const EI_NIDENT = 16;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

// e_type
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

// e_machine (the few katana names in messages)
export const EM_386 = 3;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;

// Special section indices
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;
/** e_phnum value saying the real count is in section 0's sh_info. */
export const PN_XNUM = 0xffff;

// sh_type
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SHLIB = 10;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_RELR = 19;
export const SHT_GNU_ATTRIBUTES = 0x6ffffff5;
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_GNU_LIBLIST = 0x6ffffff7;
export const SHT_GNU_verdef = 0x6ffffffd;
export const SHT_GNU_verneed = 0x6ffffffe;
export const SHT_GNU_versym = 0x6fffffff;
export const SHT_X86_64_UNWIND = 0x70000001;
export const SHT_LOUSER = 0x80000000;
export const SHT_HIUSER = 0xffffffff;

// sh_flags (bigint: sh_flags is 64 bits wide)
export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;
export const SHF_MERGE = 0x10n;
export const SHF_STRINGS = 0x20n;
export const SHF_INFO_LINK = 0x40n;
export const SHF_LINK_ORDER = 0x80n;
export const SHF_OS_NONCONFORMING = 0x100n;
export const SHF_GROUP = 0x200n;
export const SHF_TLS = 0x400n;
export const SHF_COMPRESSED = 0x800n;
export const SHF_GNU_RETAIN = 0x200000n;
export const SHF_X86_64_LARGE = 0x10000000n;
export const SHF_EXCLUDE = 0x80000000n;

// p_type
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_SHLIB = 5;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;

// p_flags
export const PF_X = 0x1;
export const PF_W = 0x2;
export const PF_R = 0x4;

// ELF64_ST_TYPE
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

// ELF64_ST_BIND
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;

// ELF64_ST_VISIBILITY
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

// Note types (owner "GNU")
export const NT_GNU_ABI_TAG = 1;
export const NT_GNU_HWCAP = 2;
export const NT_GNU_BUILD_ID = 3;
export const NT_GNU_GOLD_VERSION = 4;
export const NT_GNU_PROPERTY_TYPE_0 = 5;

// Symbol versioning (GNU): .gnu.version entries
export const VER_NDX_LOCAL = 0;
export const VER_NDX_GLOBAL = 1;
/** Bit of a .gnu.version entry marking a hidden (non-default, `name@VER`) version. */
export const VERSYM_HIDDEN = 0x8000;
export const VERSYM_VERSION = 0x7fff;
export const VER_FLG_BASE = 0x1;

// x86-64 psABI §4.4.1, Table 4.9 (and the TLS and GOTPCRELX additions)
export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_GOT32 = 3;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_COPY = 5;
export const R_X86_64_GLOB_DAT = 6;
export const R_X86_64_JUMP_SLOT = 7;
export const R_X86_64_RELATIVE = 8;
export const R_X86_64_GOTPCREL = 9;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_DTPMOD64 = 16;
export const R_X86_64_DTPOFF64 = 17;
export const R_X86_64_TPOFF64 = 18;
export const R_X86_64_TLSGD = 19;
export const R_X86_64_TLSLD = 20;
export const R_X86_64_DTPOFF32 = 21;
export const R_X86_64_GOTTPOFF = 22;
export const R_X86_64_TPOFF32 = 23;
export const R_X86_64_PC64 = 24;
export const R_X86_64_GOTOFF64 = 25;
export const R_X86_64_GOTPC32 = 26;
export const R_X86_64_GOT64 = 27;
export const R_X86_64_GOTPCREL64 = 28;
export const R_X86_64_GOTPC64 = 29;
export const R_X86_64_GOTPLT64 = 30;
export const R_X86_64_PLTOFF64 = 31;
export const R_X86_64_SIZE32 = 32;
export const R_X86_64_SIZE64 = 33;
export const R_X86_64_GOTPC32_TLSDESC = 34;
export const R_X86_64_TLSDESC_CALL = 35;
export const R_X86_64_TLSDESC = 36;
export const R_X86_64_IRELATIVE = 37;
export const R_X86_64_RELATIVE64 = 38;
export const R_X86_64_GOTPCRELX = 41;
export const R_X86_64_REX_GOTPCRELX = 42;

/** Builds a value → name lookup from `prefix`ed names, printing `prefix? (0x..)` for unknown values. */
function lookup(prefix: string, table: Record<string, number>): (value: number) => string {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(table)) if (!names.has(value)) names.set(value, prefix + name);
  return (value) => names.get(value) ?? `${prefix}? (0x${value.toString(16)})`;
}

/** 'SHT_PROGBITS', or 'SHT_? (0x6ffffff1)' for an unknown sh_type. */
export const shtName = lookup('SHT_', {
  NULL: SHT_NULL, PROGBITS: SHT_PROGBITS, SYMTAB: SHT_SYMTAB, STRTAB: SHT_STRTAB, RELA: SHT_RELA,
  HASH: SHT_HASH, DYNAMIC: SHT_DYNAMIC, NOTE: SHT_NOTE, NOBITS: SHT_NOBITS, REL: SHT_REL,
  SHLIB: SHT_SHLIB, DYNSYM: SHT_DYNSYM, INIT_ARRAY: SHT_INIT_ARRAY, FINI_ARRAY: SHT_FINI_ARRAY,
  PREINIT_ARRAY: SHT_PREINIT_ARRAY, GROUP: SHT_GROUP, SYMTAB_SHNDX: SHT_SYMTAB_SHNDX, RELR: SHT_RELR,
  GNU_ATTRIBUTES: SHT_GNU_ATTRIBUTES, GNU_HASH: SHT_GNU_HASH, GNU_LIBLIST: SHT_GNU_LIBLIST,
  GNU_verdef: SHT_GNU_verdef, GNU_verneed: SHT_GNU_verneed, GNU_versym: SHT_GNU_versym,
  X86_64_UNWIND: SHT_X86_64_UNWIND, LOUSER: SHT_LOUSER, HIUSER: SHT_HIUSER,
});

/** 'STT_FUNC', or 'STT_? (0xc)'. */
export const sttName = lookup('STT_', {
  NOTYPE: STT_NOTYPE, OBJECT: STT_OBJECT, FUNC: STT_FUNC, SECTION: STT_SECTION, FILE: STT_FILE,
  COMMON: STT_COMMON, TLS: STT_TLS, GNU_IFUNC: STT_GNU_IFUNC,
});

/** 'STB_GLOBAL', or 'STB_? (0x5)'. */
export const stbName = lookup('STB_', {
  LOCAL: STB_LOCAL, GLOBAL: STB_GLOBAL, WEAK: STB_WEAK, GNU_UNIQUE: STB_GNU_UNIQUE,
});

/** 'STV_HIDDEN', or 'STV_? (0x..)'. */
export const stvName = lookup('STV_', {
  DEFAULT: STV_DEFAULT, INTERNAL: STV_INTERNAL, HIDDEN: STV_HIDDEN, PROTECTED: STV_PROTECTED,
});

/** 'PT_LOAD', or 'PT_? (0x6474e554)'. */
export const ptName = lookup('PT_', {
  NULL: PT_NULL, LOAD: PT_LOAD, DYNAMIC: PT_DYNAMIC, INTERP: PT_INTERP, NOTE: PT_NOTE,
  SHLIB: PT_SHLIB, PHDR: PT_PHDR, TLS: PT_TLS, GNU_EH_FRAME: PT_GNU_EH_FRAME,
  GNU_STACK: PT_GNU_STACK, GNU_RELRO: PT_GNU_RELRO, GNU_PROPERTY: PT_GNU_PROPERTY,
});

/** 'ET_DYN', or 'ET_? (0xfe00)'. */
export const etName = lookup('ET_', {
  NONE: ET_NONE, REL: ET_REL, EXEC: ET_EXEC, DYN: ET_DYN, CORE: ET_CORE,
});

/** 'EM_X86_64', or 'EM_? (0x..)'. */
export const emName = lookup('EM_', {
  '386': EM_386, ARM: EM_ARM, X86_64: EM_X86_64, AARCH64: EM_AARCH64, RISCV: EM_RISCV,
});

/** 'NT_GNU_BUILD_ID', or 'NT_? (0x..)' (names of notes whose owner is "GNU"). */
export const ntGnuName = lookup('NT_', {
  GNU_ABI_TAG: NT_GNU_ABI_TAG, GNU_HWCAP: NT_GNU_HWCAP, GNU_BUILD_ID: NT_GNU_BUILD_ID,
  GNU_GOLD_VERSION: NT_GNU_GOLD_VERSION, GNU_PROPERTY_TYPE_0: NT_GNU_PROPERTY_TYPE_0,
});

/** 'R_X86_64_PC32', or 'R_X86_64_? (0x2b)'. */
export const relocTypeName = lookup('R_X86_64_', {
  NONE: R_X86_64_NONE, '64': R_X86_64_64, PC32: R_X86_64_PC32, GOT32: R_X86_64_GOT32,
  PLT32: R_X86_64_PLT32, COPY: R_X86_64_COPY, GLOB_DAT: R_X86_64_GLOB_DAT,
  JUMP_SLOT: R_X86_64_JUMP_SLOT, RELATIVE: R_X86_64_RELATIVE, GOTPCREL: R_X86_64_GOTPCREL,
  '32': R_X86_64_32, '32S': R_X86_64_32S, '16': R_X86_64_16, PC16: R_X86_64_PC16, '8': R_X86_64_8,
  PC8: R_X86_64_PC8, DTPMOD64: R_X86_64_DTPMOD64, DTPOFF64: R_X86_64_DTPOFF64,
  TPOFF64: R_X86_64_TPOFF64, TLSGD: R_X86_64_TLSGD, TLSLD: R_X86_64_TLSLD,
  DTPOFF32: R_X86_64_DTPOFF32, GOTTPOFF: R_X86_64_GOTTPOFF, TPOFF32: R_X86_64_TPOFF32,
  PC64: R_X86_64_PC64, GOTOFF64: R_X86_64_GOTOFF64, GOTPC32: R_X86_64_GOTPC32,
  GOT64: R_X86_64_GOT64, GOTPCREL64: R_X86_64_GOTPCREL64, GOTPC64: R_X86_64_GOTPC64,
  GOTPLT64: R_X86_64_GOTPLT64, PLTOFF64: R_X86_64_PLTOFF64, SIZE32: R_X86_64_SIZE32,
  SIZE64: R_X86_64_SIZE64, GOTPC32_TLSDESC: R_X86_64_GOTPC32_TLSDESC,
  TLSDESC_CALL: R_X86_64_TLSDESC_CALL, TLSDESC: R_X86_64_TLSDESC, IRELATIVE: R_X86_64_IRELATIVE,
  RELATIVE64: R_X86_64_RELATIVE64, GOTPCRELX: R_X86_64_GOTPCRELX,
  REX_GOTPCRELX: R_X86_64_REX_GOTPCRELX,
});
