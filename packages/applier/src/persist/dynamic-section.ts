// The dynamic section of an executable file (gABI "Dynamic Section": Elf64_Dyn records of d_tag and
// d_val/d_ptr, ending at DT_NULL), read from the bytes PT_DYNAMIC covers, and rewritten in place:
// `apply --file` on a PIE points DT_RELA at a grown copy of the dynamic relocation table and
// updates DT_RELASZ and DT_RELACOUNT, without adding or removing a record.
import type { ElfFile } from '@katana/elf';
import { PT_DYNAMIC } from '@katana/elf';
import { PersistError } from './errors.js';

/** d_tag values (gABI Figure "Dynamic Array Tags"; DT_RELACOUNT and DT_FLAGS_1 are GNU extensions). */
export const DT_NULL = 0n;
export const DT_RELA = 7n;
export const DT_RELASZ = 8n;
export const DT_RELAENT = 9n;
export const DT_RELACOUNT = 0x6ffffff9n;
export const DT_FLAGS_1 = 0x6ffffffbn;
/** DT_FLAGS_1 bit the linker sets in a position-independent executable. */
export const DF_1_PIE = 0x08000000n;

const DYN_SIZE = 16;

/** One Elf64_Dyn record and where its d_val lies in the file. */
export interface DynamicEntry {
  tag: bigint;
  value: bigint;
  /** File offset of d_val (the record's offset + 8). */
  valueOffset: number;
}

/** The records of `elf`'s dynamic section up to DT_NULL; [] when it has no PT_DYNAMIC. */
export function readDynamicSection(elf: ElfFile, path: string): DynamicEntry[] {
  const segment = elf.segments.find((s) => s.type === PT_DYNAMIC);
  if (segment === undefined) return [];
  const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.length);
  const entries: DynamicEntry[] = [];
  for (let at = segment.offset; at + DYN_SIZE <= segment.offset + segment.filesz; at += DYN_SIZE) {
    const tag = view.getBigInt64(at, true);
    if (tag === DT_NULL) return entries;
    entries.push({ tag, value: view.getBigUint64(at + 8, true), valueOffset: at + 8 });
  }
  throw new PersistError(`the dynamic section of ${path} has no DT_NULL record`);
}

/** The value of `tag` in `entries`, if present. */
export function dynamicValue(entries: readonly DynamicEntry[], tag: bigint): bigint | undefined {
  return entries.find((e) => e.tag === tag)?.value;
}

/** Writes `value` into the d_val of the `tag` record in `file` (which must exist in `entries`). */
export function setDynamicValue(file: Uint8Array, entries: readonly DynamicEntry[], tag: bigint, value: bigint): void {
  const entry = entries.find((e) => e.tag === tag);
  if (entry === undefined) throw new PersistError(`no dynamic record of tag 0x${tag.toString(16)} to update`);
  new DataView(file.buffer, file.byteOffset, file.length).setBigUint64(entry.valueOffset, value, true);
}
