// The dynamic relocation table of a PIE patched on disk, grown by the patch's R_X86_64_RELATIVE
// entries. The old table (DT_RELA, DT_RELASZ) has no room, so a copy with the new entries goes into
// the new region and the dynamic section is pointed at it; the old bytes stay as dead bytes. With
// DT_RELACOUNT, glibc applies the first DT_RELACOUNT entries as RELATIVE without reading their type
// (psABI "Dynamic Relocations"), so the new entries go right after those and the count grows:
//   old:  R R R GLOB_DAT GLOB_DAT COPY           DT_RELACOUNT 3
//   new:  R R R r r GLOB_DAT GLOB_DAT COPY       DT_RELACOUNT 5
// DT_RELR (-z pack-relative-relocs) is a separate table the loader applies as well: it stays as it is.
// A static PIE applies the table itself (glibc 2.36 _dl_relocate_static_pie, with the code ld.so
// uses): DT_RELA/DT_RELASZ/DT_RELACOUNT from its own _DYNAMIC, then DT_JMPREL, whose
// R_X86_64_IRELATIVE entries resolve libc's IFUNCs. ld puts .rela.plt right after .rela.dyn and
// glibc runs two adjacent tables as one range; after the move they are two ranges, run in the same
// order (each range applies its IRELATIVE entries last), so nothing changes for the IFUNCs.
// The .rela.dyn section header, if the file has one, is moved with the table so that readelf -r
// lists what the loader applies.
import { R_X86_64_RELATIVE, SHT_RELA, type ElfFile } from '@katana/elf';
import {
  DT_RELA, DT_RELACOUNT, DT_RELAENT, DT_RELASZ, dynamicValue, setDynamicValue, type DynamicEntry,
} from './dynamic-section.js';
import { PersistError } from './errors.js';

/** Bytes of one Elf64_Rela. */
export const RELA_SIZE = 24;
/** Offsets in an Elf64_Shdr. */
const SH_ADDR = 16;
const SH_OFFSET = 24;
const SH_SIZE = 32;
const SHDR_SIZE = 64;

/** One R_X86_64_RELATIVE: at link-time address `offset`, the loader stores load bias + `addend`. */
export interface RelativeRelocation {
  offset: bigint;
  addend: bigint;
}

/** The grown table: its bytes and the DT_RELACOUNT it needs (undefined when the file has none). */
export interface GrownRelaDyn {
  bytes: Uint8Array;
  relativeCount: bigint | undefined;
}

/** The dynamic relocation table of `elf` (named `path`) with `relatives` added. */
export function growRelaDyn(elf: ElfFile, dynamic: readonly DynamicEntry[], relatives: readonly RelativeRelocation[], path: string): GrownRelaDyn {
  const address = dynamicValue(dynamic, DT_RELA);
  const size = dynamicValue(dynamic, DT_RELASZ);
  if (address === undefined || size === undefined) {
    throw new PersistError(`${path} has no DT_RELA dynamic relocation table to add the patch's ${relatives.length} relocation(s) to`);
  }
  const entrySize = dynamicValue(dynamic, DT_RELAENT) ?? BigInt(RELA_SIZE);
  if (entrySize !== BigInt(RELA_SIZE)) throw new PersistError(`${path} has DT_RELAENT ${entrySize}, not ${RELA_SIZE}`);
  const old = elf.readAt(address, Number(size));
  const count = dynamicValue(dynamic, DT_RELACOUNT);
  const leading = Number(count ?? 0n) * RELA_SIZE;
  const added = new Uint8Array(relatives.length * RELA_SIZE);
  const view = new DataView(added.buffer);
  relatives.forEach((r, i) => {
    view.setBigUint64(i * RELA_SIZE, r.offset, true);
    view.setBigUint64(i * RELA_SIZE + 8, BigInt(R_X86_64_RELATIVE), true);
    view.setBigInt64(i * RELA_SIZE + 16, r.addend, true);
  });
  const bytes = new Uint8Array(old.length + added.length);
  bytes.set(old.subarray(0, leading), 0);
  bytes.set(added, leading);
  bytes.set(old.subarray(leading), leading + added.length);
  return { bytes, relativeCount: count === undefined ? undefined : count + BigInt(relatives.length) };
}

/** Points the dynamic section (and the .rela.dyn section header) of `file` at `table`, now at `address` and file offset `offset`. */
export function retargetRelaDyn(file: Uint8Array, elf: ElfFile, dynamic: readonly DynamicEntry[], table: GrownRelaDyn, address: bigint, offset: number): void {
  const old = dynamicValue(dynamic, DT_RELA);
  setDynamicValue(file, dynamic, DT_RELA, address);
  setDynamicValue(file, dynamic, DT_RELASZ, BigInt(table.bytes.length));
  if (table.relativeCount !== undefined) setDynamicValue(file, dynamic, DT_RELACOUNT, table.relativeCount);
  const section = elf.sections.find((s) => s.type === SHT_RELA && s.addr === old && s.addr !== 0n);
  if (section === undefined) return;
  const view = new DataView(file.buffer, file.byteOffset, file.length);
  const at = elf.header.shoff + section.index * SHDR_SIZE;
  view.setBigUint64(at + SH_ADDR, address, true);
  view.setBigUint64(at + SH_OFFSET, BigInt(offset), true);
  view.setBigUint64(at + SH_SIZE, BigInt(table.bytes.length), true);
}
