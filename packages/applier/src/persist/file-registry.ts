// The patch record of an executable patched on disk (`katana apply --file`): the same bytes as the
// in-target registry (docs/registry-format.md: a 64-byte header, then the entries, oldest first) in
// one ELF note, owner "Katana", type NT_KATANA_REGISTRY, reached through its own PT_NOTE program
// header. Addresses in it are link-time addresses of the file: the run-time ones of an ET_EXEC, and
// of a PIE once its load bias is added (readFileRegistry's `bias`). It is the one function both paths use: a later
// `apply --file` checks its base against it, and the live applier treats its entries as applied when
// the process has no in-target registry yet (and copies them into the registry it creates).
import { readFileSync } from 'node:fs';
import { ElfFile, PT_NOTE, parseNotes, type Segment } from '@katana/elf';
import { KATANA_NOTE_NAME } from '@katana/po';
import {
  REGISTRY_HEADER_SIZE, decodeRegistry, encodeRegistryEntry, encodeRegistryHeader, type RegistryEntry,
} from '../registry-format.js';

/** Note type of the patch record in an executable (owner "Katana"; PO notes use types 1 to 5). */
export const NT_KATANA_REGISTRY = 0x100;

/** The patch record of a file and where it lies. */
export interface FileRegistry {
  entries: RegistryEntry[];
  /** Index in the program header table of the PT_NOTE that holds it. */
  phdrIndex: number;
}

/** The patch record of `elf`, or undefined when the file was never patched on disk. */
export function findFileRegistry(elf: ElfFile, bytes: Uint8Array, where: string): FileRegistry | undefined {
  const index = elf.segments.findIndex((s) => s.type === PT_NOTE && registryNote(bytes, s, where) !== undefined);
  if (index < 0) return undefined;
  const desc = registryNote(bytes, elf.segments[index]!, where)!;
  return { entries: decodeRegistry(desc, `the patch record of ${where}`).entries, phdrIndex: index };
}

/**
 * The entries of the patch record of the executable at `path`, oldest first ([] when it has none),
 * with `bias` (a process's load bias of a PIE) added to every address.
 */
export function readFileRegistry(path: string, bias = 0n): RegistryEntry[] {
  const bytes = readFileSync(path);
  const entries = findFileRegistry(ElfFile.parse(bytes, path), bytes, path)?.entries ?? [];
  return bias === 0n ? entries : entries.map((e) => rebaseEntry(e, bias));
}

/** `entry` with `bias` added to each of its addresses. */
function rebaseEntry(entry: RegistryEntry, bias: bigint): RegistryEntry {
  const { cfi } = entry;
  return {
    ...entry,
    area: { start: entry.area.start + bias, size: entry.area.size },
    ...(cfi === undefined ? {} : { cfi: { ...cfi, start: cfi.start + bias, end: cfi.end + bias, ehFrameAddress: cfi.ehFrameAddress + bias } }),
    functions: entry.functions.map((f) => ({ ...f, address: f.address + bias, to: f.to + bias })),
    symbols: entry.symbols.map((s) => ({ ...s, address: s.address + bias })),
  };
}

function registryNote(bytes: Uint8Array, segment: Segment, where: string): Uint8Array | undefined {
  const notes = parseNotes(bytes.subarray(segment.offset, segment.offset + segment.filesz), segment.offset, segment.align, { path: where, section: 'PT_NOTE' });
  return notes.find((n) => n.name === KATANA_NOTE_NAME && n.type === NT_KATANA_REGISTRY)?.desc;
}

/** The bytes of a registry holding `entries`. */
export function encodeRegistry(entries: readonly RegistryEntry[]): Uint8Array {
  const body = entries.map(encodeRegistryEntry);
  const used = REGISTRY_HEADER_SIZE + body.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(used);
  out.set(encodeRegistryHeader({ generation: 1, regionSize: used, count: entries.length, used, creatorPid: 0 }), 0);
  let at = REGISTRY_HEADER_SIZE;
  for (const b of body) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** The whole ELF note (header, name, descriptor, 4-byte padding) carrying a registry of `entries`. */
export function encodeRegistryNote(entries: readonly RegistryEntry[]): Uint8Array {
  const name = new TextEncoder().encode(`${KATANA_NOTE_NAME}\0`);
  const desc = encodeRegistry(entries);
  const pad4 = (n: number) => (n + 3) & ~3;
  const out = new Uint8Array(12 + pad4(name.length) + pad4(desc.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, name.length, true);
  view.setUint32(4, desc.length, true);
  view.setUint32(8, NT_KATANA_REGISTRY, true);
  out.set(name, 12);
  out.set(desc, 12 + pad4(name.length));
  return out;
}
