// Decodes and validates the ELF header, the section header table and the program header table from a
// ByteSource, which is either the bytes of a whole file (ElfFile) or an fd read at offsets
// (readBuildId). Algorithm: check e_ident (ELF64, little-endian, version 1) and e_machine (x86-64);
// resolve extended numbering from section 0 (e_shnum = 0 → sh_size, e_shstrndx = SHN_XINDEX →
// sh_link, e_phnum = PN_XNUM → sh_info); bounds-check both tables and every section and segment
// against the file size, so later readers may slice without checking again.
import { Cursor } from './cursor.js';
import {
  EI_CLASS, EI_DATA, EI_NIDENT, EI_VERSION, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB,
  ELFMAG, EM_X86_64, EV_CURRENT, PN_XNUM, SHN_XINDEX, SHT_NOBITS, SHT_NULL, emName,
} from './constants.js';
import { ElfFormatError } from './errors.js';
import type { ElfHeader } from './model.js';
import {
  EHDR_SIZE, PHDR_SIZE, SHDR_SIZE, decodeEhdr, decodePhdr, decodeShdr, type Elf64_Phdr, type Elf64_Shdr,
} from './raw.js';

/** Random access to a file's bytes. */
export interface ByteSource {
  /** Size of the file in bytes. */
  readonly size: number;
  /** `length` bytes at `offset`; callers have checked the range against `size`. */
  read(offset: number, length: number): Uint8Array;
}

/** The decoded header tables of one file. */
export interface Headers {
  header: ElfHeader;
  shdrs: Elf64_Shdr[];
  phdrs: Elf64_Phdr[];
}

/** Reads and validates the ELF header and both header tables; throws ElfFormatError. */
export function readHeaders(src: ByteSource, path: string | undefined): Headers {
  const site = { path, section: 'ELF header' };
  if (src.size < 4 || !startsWith(src.read(0, 4), ELFMAG)) {
    throw new ElfFormatError('not an ELF file (bad magic number)', { ...site, offset: 0 });
  }
  if (src.size < EHDR_SIZE) {
    throw new ElfFormatError(`file of ${src.size} bytes is too short for an ELF64 header`, { ...site, offset: 0 });
  }
  const ident = src.read(0, EHDR_SIZE);
  checkIdent(ident, site);
  const c = new Cursor(ident, EI_NIDENT, 0, site);
  const e = decodeEhdr(c);
  c.check();
  if (e.e_machine !== EM_X86_64) {
    throw new ElfFormatError(`machine ${emName(e.e_machine)} is not x86-64 (EM_X86_64)`, { ...site, offset: 18 });
  }

  let shnum = e.e_shnum;
  let shstrndx = e.e_shstrndx;
  let phnum = e.e_phnum;
  let sh0: Elf64_Shdr | undefined;
  if (e.e_shoff !== 0) {
    if (e.e_shentsize !== SHDR_SIZE) {
      throw new ElfFormatError(`e_shentsize ${e.e_shentsize} is not ${SHDR_SIZE}`, { ...site, offset: 58 });
    }
    sh0 = readTable(src, e.e_shoff, 1, SHDR_SIZE, 'section header table', path, decodeShdr)[0]!;
    if (shnum === 0) shnum = sh0.sh_size;
    if (shstrndx === SHN_XINDEX) shstrndx = sh0.sh_link;
    if (phnum === PN_XNUM) phnum = sh0.sh_info;
  } else {
    shnum = 0;
  }
  if (phnum !== 0 && e.e_phentsize !== PHDR_SIZE) {
    throw new ElfFormatError(`e_phentsize ${e.e_phentsize} is not ${PHDR_SIZE}`, { ...site, offset: 54 });
  }
  const shdrs = shnum === 0 ? [] : readTable(src, e.e_shoff, shnum, SHDR_SIZE, 'section header table', path, decodeShdr);
  const phdrs = phnum === 0 ? [] : readTable(src, e.e_phoff, phnum, PHDR_SIZE, 'program header table', path, decodePhdr);
  if (shnum !== 0 && shstrndx >= shnum) {
    throw new ElfFormatError(`section name table index ${shstrndx} is not below the ${shnum} sections`, { ...site, offset: 62 });
  }
  for (let i = 0; i < shdrs.length; i++) checkSectionBounds(shdrs[i]!, i, src.size, e.e_shoff, path);
  for (let i = 0; i < phdrs.length; i++) checkSegmentBounds(phdrs[i]!, i, src.size, e.e_phoff, path);

  const header: ElfHeader = {
    type: e.e_type, machine: e.e_machine, entry: e.e_entry, phoff: e.e_phoff, shoff: e.e_shoff,
    flags: e.e_flags, phnum, shnum, shstrndx,
  };
  return { header, shdrs, phdrs };
}

function checkIdent(ident: Uint8Array, site: { path: string | undefined; section: string }): void {
  const cls = ident[EI_CLASS];
  if (cls === ELFCLASS32) throw new ElfFormatError('ELF32 file; katana reads ELF64 only', { ...site, offset: EI_CLASS });
  if (cls !== ELFCLASS64) throw new ElfFormatError(`unknown ELF class ${cls}`, { ...site, offset: EI_CLASS });
  const data = ident[EI_DATA];
  if (data === ELFDATA2MSB) throw new ElfFormatError('big-endian ELF file; katana reads little-endian only', { ...site, offset: EI_DATA });
  if (data !== ELFDATA2LSB) throw new ElfFormatError(`unknown ELF data encoding ${data}`, { ...site, offset: EI_DATA });
  if (ident[EI_VERSION] !== EV_CURRENT) {
    throw new ElfFormatError(`unknown ELF version ${ident[EI_VERSION]}`, { ...site, offset: EI_VERSION });
  }
}

function readTable<T>(
  src: ByteSource, offset: number, count: number, entsize: number, what: string, path: string | undefined,
  decode: (c: Cursor) => T,
): T[] {
  const size = count * entsize;
  if (offset > src.size || size > src.size - offset) {
    throw new ElfFormatError(`${count} entries of ${entsize} bytes run past the end of the file (${src.size} bytes)`, {
      path, section: what, offset,
    });
  }
  const bytes = src.read(offset, size);
  const c = new Cursor(bytes, 0, offset, { path, section: what });
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(decode(c));
  c.check();
  return out;
}

function checkSectionBounds(s: Elf64_Shdr, index: number, fileSize: number, shoff: number, path: string | undefined): void {
  if (s.sh_type === SHT_NOBITS || s.sh_type === SHT_NULL) return;
  if (s.sh_offset > fileSize || s.sh_size > fileSize - s.sh_offset) {
    throw new ElfFormatError(
      `section ${index} (offset 0x${s.sh_offset.toString(16)}, size 0x${s.sh_size.toString(16)}) extends past the end of the file`,
      { path, section: 'section header table', offset: shoff + index * SHDR_SIZE },
    );
  }
}

function checkSegmentBounds(p: Elf64_Phdr, index: number, fileSize: number, phoff: number, path: string | undefined): void {
  if (p.p_offset > fileSize || p.p_filesz > fileSize - p.p_offset) {
    throw new ElfFormatError(
      `program header ${index} (offset 0x${p.p_offset.toString(16)}, filesz 0x${p.p_filesz.toString(16)}) extends past the end of the file`,
      { path, section: 'program header table', offset: phoff + index * PHDR_SIZE },
    );
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}
