// Finding and reading the patch registry of a running process, without stopping it. The registry is
// a private mapping of a memfd named "katana-registry", so /proc/PID/maps names it
// `/memfd:katana-registry (deleted)`; its contents are read through /proc/PID/mem. A mapping with
// that name but without the magic is not a registry (ignored). When the registry has grown there
// may be an older region still mapped: the one with the highest generation is current, the others
// are stale (the next apply unmaps them).
import { ElfFile } from '@katana/elf';
import { ProcessMemory } from '@katana/ptrace';
import { ApplierError } from './errors.js';
import { explainOsError, openProcessMemory } from './os-errors.js';
import { readFileRegistry } from './persist/file-registry.js';
import { exeBias, readMaps, type MapEntry } from './process.js';
import {
  REGISTRY_HEADER_SIZE, REGISTRY_NAME, decodeRegistry, decodeRegistryHeader, hasRegistryMagic, type RegistryEntry,
  type RegistryHeader,
} from './registry-format.js';

/** A mapped registry region and its header. */
export interface RegistryRegion {
  start: bigint;
  size: number;
  header: RegistryHeader;
}

/** The current registry of a process, its entries, and stale regions left by growth. */
export interface Registry {
  region: RegistryRegion;
  entries: RegistryEntry[];
  stale: RegistryRegion[];
}

/** The extra CFI of one applied patch, as an unwinder takes it. */
export interface PatchCfi {
  /** The code range its FDEs describe. */
  start: bigint;
  end: bigint;
  /** Run-time address of its .eh_frame copy (pc-relative pointers in it are relative to this). */
  ehFrameAddress: bigint;
  ehFrame: Uint8Array;
  /** How an unwinder names frames in this code when it knows no symbol there. */
  name: string;
}

/** True for the /proc/PID/maps line of a registry region. */
export function isRegistryMapping(m: MapEntry): boolean {
  return m.path === `/memfd:${REGISTRY_NAME}` || m.path === `/memfd:${REGISTRY_NAME} (deleted)`;
}

/** Reads the registry of `pid` through `memory`; undefined when no patch was ever applied. */
export function findRegistry(pid: number, memory: ProcessMemory, maps: readonly MapEntry[]): Registry | undefined {
  const where = `pid ${pid}`;
  const regions: RegistryRegion[] = [];
  for (const m of maps.filter(isRegistryMapping)) {
    const head = memory.tryRead(m.start, REGISTRY_HEADER_SIZE);
    if (head === null || !hasRegistryMagic(head)) continue;
    regions.push({ start: m.start, size: Number(m.end - m.start), header: decodeRegistryHeader(head, where) });
  }
  if (regions.length === 0) return undefined;
  regions.sort((a, b) => b.header.generation - a.header.generation);
  const region = regions[0]!;
  const { entries } = decodeRegistry(memory.read(region.start, region.header.used), where);
  return { region, entries, stale: regions.slice(1) };
}

/**
 * Re-reads the registry once every thread is seized: from then on no other katana can attach, so a
 * registry still equal to the one checked before stays so until we commit. `doing` says what was
 * being prepared ("fix.po", "the rollback").
 */
export function assertRegistryUnchanged(pid: number, memory: ProcessMemory, before: Registry | undefined, doing: string): void {
  const now = findRegistry(pid, memory, readMaps(pid));
  const key = (r: Registry | undefined) => (r === undefined ? '' : `${r.region.start} ${r.region.header.generation} ${r.region.header.count} ${r.region.header.used}`);
  if (key(now) !== key(before)) {
    throw new ApplierError(`the patch registry of pid ${pid} changed while ${doing} was being prepared (another katana at work?); try again`, undefined, 'E_REGISTRY_CHANGED');
  }
}

/** Reads the registry of `pid` now (for `katana list`); undefined when it has none. */
export function readRegistry(pid: number): Registry | undefined {
  const maps = readMaps(pid);
  const memory = openProcessMemory(pid);
  try {
    return findRegistry(pid, memory, maps);
  } catch (error) {
    throw explainOsError(pid, error);
  } finally {
    memory.close();
  }
}

/**
 * The patches `pid` has, oldest first: its registry's entries or, before any live apply, the ones its
 * executable file carries from `katana apply --file` (persist/file-registry.ts).
 */
export function appliedPatches(pid: number): RegistryEntry[] {
  const registry = readRegistry(pid);
  if (registry !== undefined) return registry.entries;
  try {
    return fileRegistryOf(pid);
  } catch (error) {
    throw explainOsError(pid, error);
  }
}

/** The patches the executable file of `pid` carries (apply --file), at their run-time addresses in pid. */
function fileRegistryOf(pid: number): RegistryEntry[] {
  const exe = `/proc/${pid}/exe`;
  return readFileRegistry(exe, exeBias(pid, ElfFile.open(exe)));
}

/** The CFI every applied patch of `pid` put into it, oldest patch first, with its .eh_frame bytes. */
export function readPatchCfi(pid: number): PatchCfi[] {
  const maps = readMaps(pid);
  const memory = openProcessMemory(pid);
  try {
    const registry = findRegistry(pid, memory, maps);
    return patchCfiOf(registry?.entries ?? fileRegistryOf(pid), memory);
  } catch (error) {
    throw explainOsError(pid, error);
  } finally {
    memory.close();
  }
}

/** The CFI of the patches `entries` (read through `memory`), oldest first; frames in it are named after the patch. */
export function patchCfiOf(entries: readonly RegistryEntry[], memory: ProcessMemory): PatchCfi[] {
  return entries.flatMap((e) =>
    e.cfi === undefined
      ? []
      : [{ start: e.cfi.start, end: e.cfi.end, ehFrameAddress: e.cfi.ehFrameAddress, ehFrame: memory.read(e.cfi.ehFrameAddress, e.cfi.ehFrameSize), name: `code of patch ${e.name}` }],
  );
}
