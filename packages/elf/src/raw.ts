// On-disk ELF64 records with their C field names (gABI "Object Files"), and their decoders and
// encoders. Decoders read through a sticky-error Cursor and leave validation of what the fields mean
// (bounds, links) to read.ts; encoders write into a DataView for the writer.
import type { Cursor } from './cursor.js';

export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const PHDR_SIZE = 56;
export const SYM_SIZE = 24;
export const RELA_SIZE = 24;

/** Elf64_Ehdr after e_ident. Sizes and offsets are numbers (checked by the cursor). */
export interface Elf64_Ehdr {
  e_type: number;
  e_machine: number;
  e_version: number;
  e_entry: bigint;
  e_phoff: number;
  e_shoff: number;
  e_flags: number;
  e_ehsize: number;
  e_phentsize: number;
  e_phnum: number;
  e_shentsize: number;
  e_shnum: number;
  e_shstrndx: number;
}

export interface Elf64_Shdr {
  sh_name: number;
  sh_type: number;
  sh_flags: bigint;
  sh_addr: bigint;
  sh_offset: number;
  sh_size: number;
  sh_link: number;
  sh_info: number;
  sh_addralign: number;
  sh_entsize: number;
}

export interface Elf64_Phdr {
  p_type: number;
  p_flags: number;
  p_offset: number;
  p_vaddr: bigint;
  p_paddr: bigint;
  p_filesz: number;
  p_memsz: number;
  p_align: number;
}

export interface Elf64_Sym {
  st_name: number;
  st_info: number;
  st_other: number;
  st_shndx: number;
  st_value: bigint;
  st_size: number;
}

/** Decodes the ELF header fields after the 16 bytes of e_ident (cursor at offset 16). */
export function decodeEhdr(c: Cursor): Elf64_Ehdr {
  return {
    e_type: c.u16('e_type'),
    e_machine: c.u16('e_machine'),
    e_version: c.u32('e_version'),
    e_entry: c.u64('e_entry'),
    e_phoff: c.u64n('e_phoff'),
    e_shoff: c.u64n('e_shoff'),
    e_flags: c.u32('e_flags'),
    e_ehsize: c.u16('e_ehsize'),
    e_phentsize: c.u16('e_phentsize'),
    e_phnum: c.u16('e_phnum'),
    e_shentsize: c.u16('e_shentsize'),
    e_shnum: c.u16('e_shnum'),
    e_shstrndx: c.u16('e_shstrndx'),
  };
}

/** Decodes one section header. */
export function decodeShdr(c: Cursor): Elf64_Shdr {
  return {
    sh_name: c.u32('sh_name'),
    sh_type: c.u32('sh_type'),
    sh_flags: c.u64('sh_flags'),
    sh_addr: c.u64('sh_addr'),
    sh_offset: c.u64n('sh_offset'),
    sh_size: c.u64n('sh_size'),
    sh_link: c.u32('sh_link'),
    sh_info: c.u32('sh_info'),
    sh_addralign: c.u64n('sh_addralign'),
    sh_entsize: c.u64n('sh_entsize'),
  };
}

/** Decodes one program header. */
export function decodePhdr(c: Cursor): Elf64_Phdr {
  return {
    p_type: c.u32('p_type'),
    p_flags: c.u32('p_flags'),
    p_offset: c.u64n('p_offset'),
    p_vaddr: c.u64('p_vaddr'),
    p_paddr: c.u64('p_paddr'),
    p_filesz: c.u64n('p_filesz'),
    p_memsz: c.u64n('p_memsz'),
    p_align: c.u64n('p_align'),
  };
}

/** Decodes one symbol. */
export function decodeSym(c: Cursor): Elf64_Sym {
  return {
    st_name: c.u32('st_name'),
    st_info: c.u8('st_info'),
    st_other: c.u8('st_other'),
    st_shndx: c.u16('st_shndx'),
    st_value: c.u64('st_value'),
    st_size: c.u64n('st_size'),
  };
}

/** Encodes a section header at `at`. */
export function encodeShdr(v: DataView, at: number, s: Elf64_Shdr): void {
  v.setUint32(at, s.sh_name, true);
  v.setUint32(at + 4, s.sh_type, true);
  v.setBigUint64(at + 8, s.sh_flags, true);
  v.setBigUint64(at + 16, s.sh_addr, true);
  v.setBigUint64(at + 24, BigInt(s.sh_offset), true);
  v.setBigUint64(at + 32, BigInt(s.sh_size), true);
  v.setUint32(at + 40, s.sh_link, true);
  v.setUint32(at + 44, s.sh_info, true);
  v.setBigUint64(at + 48, BigInt(s.sh_addralign), true);
  v.setBigUint64(at + 56, BigInt(s.sh_entsize), true);
}

/** Encodes a symbol at `at`. */
export function encodeSym(v: DataView, at: number, s: Elf64_Sym): void {
  v.setUint32(at, s.st_name, true);
  v.setUint8(at + 4, s.st_info);
  v.setUint8(at + 5, s.st_other);
  v.setUint16(at + 6, s.st_shndx, true);
  v.setBigUint64(at + 8, s.st_value, true);
  v.setBigUint64(at + 16, BigInt(s.st_size), true);
}

/** Encodes one RELA entry at `at`. */
export function encodeRela(v: DataView, at: number, offset: bigint, sym: number, type: number, addend: bigint): void {
  v.setBigUint64(at, offset, true);
  v.setBigUint64(at + 8, (BigInt(sym) << 32n) | BigInt(type), true);
  v.setBigInt64(at + 16, addend, true);
}
