// Adding an entry to the patch registry of a process, in the apply's phases:
//   phase 2 (one thread stopped): createRegistryRegion when there is no registry yet, or the current
//     one has no room: memfd_create("katana-registry") + ftruncate + mmap(PROT_READ, MAP_PRIVATE) +
//     close, all run inside the target. MAP_PRIVATE: a fork()ed child gets its own copy-on-write
//     registry, which stays true to its own code; the closed fd leaves nothing in its fd table.
//   phase 3 (target running): writeRegistryEntry puts the entry past `used` (and, in a new region,
//     the header and a copy of the older entries); nothing counts it yet. A region an older katana
//     wrote (format version 2) gets version 3: its entries are valid version 3 entries.
//   phase 4 (the stop window): commitRegistry writes the 8-byte commit word (count + 1, new used).
// Every write into an existing region is in the undo log, a new region is an undo mapping, so a
// rollback leaves the registry byte for byte as it was.
import { concatBytes } from '@katana/elf';
import type { ProcessMemory } from '@katana/ptrace';
import {
  encodeRegistryCommit, encodeRegistryHeader, REGISTRY_COMMIT_OFFSET, REGISTRY_HEADER_SIZE, REGISTRY_NAME, REGISTRY_VERSION, REGISTRY_VERSION_OFFSET,
} from './registry-format.js';
import type { Registry } from './registry-read.js';
import {
  MAP_PRIVATE, MFD_CLOEXEC, PROT_READ, SYS_close, SYS_ftruncate, SYS_memfd_create, remoteMmap, remoteSyscall,
} from './remote-syscall.js';
import type { UndoLog } from './undo.js';

/** Bytes of a first registry region: room for a few hundred entries, pages are only used once written. */
export const REGISTRY_INITIAL_SIZE = 0x10000;
const PAGE = 0x1000;

/** Where the new entry goes: the current region when it has room, else a new one of `size` bytes. */
export type RegistryPlacement = { kind: 'append' } | { kind: 'create'; size: number; generation: number };

/** Decides where an entry of `entrySize` bytes goes, given the current registry (if any). */
export function placeRegistryEntry(registry: Registry | undefined, entrySize: number): RegistryPlacement {
  if (registry === undefined) {
    return { kind: 'create', size: Math.max(REGISTRY_INITIAL_SIZE, pageUp(REGISTRY_HEADER_SIZE + entrySize)), generation: 1 };
  }
  const { header } = registry.region;
  if (header.used + entrySize <= header.regionSize) return { kind: 'append' };
  return { kind: 'create', size: Math.max(2 * header.regionSize, pageUp(header.used + entrySize)), generation: header.generation + 1 };
}

function pageUp(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}

/**
 * Maps a new, empty registry region of `size` bytes in the stopped thread `tid`; `scratch` is an
 * address of memory this apply owns (the fresh patch area) where the memfd name is written first.
 */
export function createRegistryRegion(pid: number, tid: number, memory: ProcessMemory, scratch: bigint, size: number): bigint {
  memory.write(scratch, new TextEncoder().encode(`${REGISTRY_NAME}\0`));
  const fd = remoteSyscall(pid, tid, SYS_memfd_create, [scratch, BigInt(MFD_CLOEXEC)]);
  try {
    remoteSyscall(pid, tid, SYS_ftruncate, [fd, BigInt(size)]);
    return remoteMmap(pid, tid, 0n, size, PROT_READ, MAP_PRIVATE, Number(fd), 0);
  } finally {
    // The mapping keeps the memfd alive; the descriptor is not needed any more.
    remoteSyscall(pid, tid, SYS_close, [fd]);
  }
}

/** The commit word prepared for the stop window. */
export interface PreparedCommit {
  address: bigint;
  bytes: Uint8Array;
  old: Uint8Array;
}

/**
 * Writes `entry` where it goes (phase 3) and returns the commit that makes it count. `fresh` is the
 * address of the region createRegistryRegion mapped for a 'create' placement; `inherited` (encoded
 * entries) seeds a first region.
 */
export function writeRegistryEntry(
  pid: number,
  memory: ProcessMemory,
  undo: UndoLog,
  registry: Registry | undefined,
  placement: RegistryPlacement,
  fresh: bigint | undefined,
  entry: Uint8Array,
  inherited: readonly Uint8Array[] = [],
): PreparedCommit {
  // A first region starts with the `inherited` entries: the patches the executable file carries
  // (apply --file), which the process has had since it started.
  const count = registry?.region.header.count ?? inherited.length;
  const used = registry?.region.header.used ?? REGISTRY_HEADER_SIZE + inherited.reduce((n, e) => n + e.length, 0);
  let start: bigint;
  if (placement.kind === 'create') {
    start = fresh!;
    // The new region starts as an exact copy of the committed registry, under a higher generation:
    // a reader that picks it before the commit sees the same patches as in the old one.
    const older = registry === undefined ? concatBytes([...inherited]) : memory.read(registry.region.start + BigInt(REGISTRY_HEADER_SIZE), used - REGISTRY_HEADER_SIZE);
    const header = encodeRegistryHeader({ generation: placement.generation, regionSize: placement.size, count, used, creatorPid: pid });
    memory.write(start, concatBytes([header, older, entry]));
  } else {
    start = registry!.region.start;
    const at = start + BigInt(used);
    undo.recordWrite(at, memory.read(at, entry.length));
    memory.write(at, entry);
    if (registry!.region.header.version < REGISTRY_VERSION) {
      const version = start + BigInt(REGISTRY_VERSION_OFFSET);
      const bytes = new Uint8Array(2);
      new DataView(bytes.buffer).setUint16(0, REGISTRY_VERSION, true);
      undo.recordWrite(version, memory.read(version, 2));
      memory.write(version, bytes);
    }
  }
  const address = start + BigInt(REGISTRY_COMMIT_OFFSET);
  return { address, bytes: encodeRegistryCommit(count + 1, used + entry.length), old: memory.read(address, 8) };
}

/** The one write of the stop window that makes the new entry count. */
export function commitRegistry(memory: ProcessMemory, undo: UndoLog, commit: PreparedCommit): void {
  undo.recordWrite(commit.address, commit.old);
  memory.write(commit.address, commit.bytes);
}


/**
 * The commit word that keeps only the first `keep` entries (a rollback, in its stop window): the
 * entries past them stay in the region's bytes, invisible, and the next apply overwrites them.
 */
export function prepareRegistryTruncate(memory: ProcessMemory, registry: Registry, keep: number): PreparedCommit {
  const { start, header } = registry.region;
  let used = REGISTRY_HEADER_SIZE;
  // Each entry starts with its size (u32): walk the first `keep` of them.
  for (let i = 0; i < keep; i++) {
    const size = memory.read(start + BigInt(used), 4);
    used += new DataView(size.buffer, size.byteOffset, 4).getUint32(0, true);
  }
  const address = start + BigInt(REGISTRY_COMMIT_OFFSET);
  if (keep > header.count || used > header.used) throw new RangeError(`cannot keep ${keep} of the ${header.count} registry entries`);
  return { address, bytes: encodeRegistryCommit(keep, used), old: memory.read(address, 8) };
}
