// Recognising glibc malloc blocks in a stopped target, for pointer following ("a pointer into a
// heap block, checked against the heap's bounds and the block's size"). A malloc'd block at user
// address p is a chunk at c = p − 16: 8 bytes of prev_size, 8 bytes of size whose low bits are
// flags (PREV_INUSE 1, IS_MMAPPED 2, NON_MAIN_ARENA 4), then the user's bytes; the next chunk starts
// at c + size, and ITS PREV_INUSE bit says whether c is in use. A heap is a chain of chunks from its
// first one to the end of its memory (the top chunk ends there):
//   [heap]                the main arena's sbrk heap; a static program's TLS block may precede
//                         the first chunk;
//   anonymous rw memory   a thread arena's heap (heap_info and, for the first, the arena itself
//                         precede the first chunk), or one mmapped chunk (≥ 128 KiB by default).
// So the first chunk is found by trying each 16-byte-aligned start near the mapping's beginning
// until one chains exactly to the mapping's end; every chunk start on that chain is indexed in a
// bitmap (one bit per 16 bytes), and a pointer is a block when it is a chunk start + 16 of a chunk
// in use. Mappings are read (one read each) and indexed only when a pointer first lands in them.
// A block freed into a tcache keeps its in-use bit (glibc leaves it so), but holds the process-wide
// tcache_key 8 bytes into its user data; the key is learned from a thread's tcache_perthread_struct,
// the first chunk of each arena (0x290 bytes: 64 counts, then 64 entries pointing at freed blocks).
// Limits: a block freed into a fastbin keeps its in-use bit and no key, so a dangling pointer to
// one is followed like a live one; a thread arena that the kernel merged with neighbouring
// anonymous memory does not chain to the mapping's end and is not recognised; memory that is not a
// glibc heap chains by chance only with a vanishing probability.
import type { ProcessMemory } from '@katana/ptrace';
import { readMaps, type MapEntry } from './process.js';

const CHUNK_HEADER = 16;
/** The chunk of a tcache_perthread_struct: uint16_t counts[64], tcache_entry *entries[64]. */
const TCACHE_STRUCT_CHUNK = 0x290;
const TCACHE_BINS = 64;
const MIN_CHUNK = 32;
const PREV_INUSE = 1;
const IS_MMAPPED = 2;
/** How far into [heap] the first chunk may start (a static program's TLS block lies before it). */
const HEAP_SEARCH = 64 * 1024;
/** How far into other anonymous memory (heap_info and a thread arena's malloc_state). */
const ARENA_SEARCH = 8 * 1024;

/**
 * A malloc'd block, or why a pointer is not one. `region` and `granule` name it densely (the heap's
 * index, the chunk's offset / 16), so that callers can keep per-block data in typed arrays.
 */
export type BlockVerdict = { start: number; usable: number; region: number; granule: number } | { rejected: string };

/** One candidate mapping, read and indexed on first use. Addresses are numbers: user space is below 2^47. */
interface HeapRegion {
  entry: MapEntry;
  start: number;
  end: number;
  bytes?: Uint8Array;
  view?: DataView;
  /** One bit per 16 bytes: a chunk starts there. Undefined when no chain of chunks covers the mapping. */
  chunks?: Uint8Array;
  /** Offset of the first chunk. */
  first?: number;
  indexed: boolean;
}

/** A heap as `heaps` describes it (for diagnostics and tests). */
export interface HeapSummary {
  start: bigint;
  end: bigint;
  kind: 'main arena' | 'thread arena' | 'mmapped chunk';
  chunks: number;
}

/** The malloc heaps of a stopped process. */
export class HeapBlocks {
  // The tcache_key as two 32-bit halves, once learned.
  private tcacheKey: [number, number] | undefined;
  private primed = false;

  private constructor(private readonly memory: ProcessMemory, private readonly regions: HeapRegion[]) {}

  /** Whether the tcache key is known (blocks in a tcache are then rejected). */
  get knowsTcache(): boolean {
    this.prime();
    return this.tcacheKey !== undefined;
  }

  /** Every malloc heap of the process (reads and indexes them all: for diagnostics and tests). */
  get heaps(): HeapSummary[] {
    const out: HeapSummary[] = [];
    for (const r of this.regions) {
      this.index(r);
      if (!r.chunks) continue;
      let chunks = 0;
      for (const byte of r.chunks) for (let b = byte; b !== 0; b &= b - 1) chunks++;
      const mmapped = chunks === 1 && (r.view!.getUint32(r.first! + 8, true) & IS_MMAPPED) !== 0;
      out.push({ start: r.entry.start, end: r.entry.end, kind: r.entry.path === '[heap]' ? 'main arena' : mmapped ? 'mmapped chunk' : 'thread arena', chunks });
    }
    return out;
  }

  /** The candidate heaps of `pid`: [heap] and anonymous read-write memory, read through `memory` (keep it open) when first needed. */
  static read(pid: number, memory: ProcessMemory): HeapBlocks {
    const regions = readMaps(pid)
      .filter((m) => m.perms.startsWith('rw') && (m.path === '[heap]' || m.path === ''))
      .sort((a, b) => (a.start < b.start ? -1 : 1))
      .map((entry) => ({ entry, start: Number(entry.start), end: Number(entry.end), indexed: false }));
    return new HeapBlocks(memory, regions);
  }

  /** The block whose user bytes start at `pointer`, or why there is none. */
  blockAt(pointer: number): BlockVerdict {
    this.prime();
    const index = this.regionIndexOf(pointer);
    if (index < 0) return { rejected: 'not in the heap' };
    const region = this.regions[index]!;
    this.index(region);
    if (!region.chunks) return { rejected: 'not in the heap' };
    const at = pointer - CHUNK_HEADER - region.start;
    if (at < 0 || pointer % 16 !== 0) return { rejected: 'not the start of a block' };
    const granule = at / 16;
    if ((region.chunks[granule >>> 3]! & (1 << (granule & 7))) === 0) return { rejected: 'not the start of a block' };
    const view = region.view!;
    const flags = view.getUint32(at + 8, true) & 7;
    const size = chunkSize(view, at);
    const next = at + size;
    const mmapped = (flags & IS_MMAPPED) !== 0;
    if (next >= region.bytes!.length) {
      if (!mmapped) return { rejected: 'in the free top of the heap' };
    } else if ((view.getUint32(next + 8, true) & PREV_INUSE) === 0) return { rejected: 'in a freed block' };
    const usable = mmapped ? size - CHUNK_HEADER : size - CHUNK_HEADER / 2;
    const key = this.tcacheKey;
    if (key && usable >= 16 && view.getUint32(at + 24, true) === key[0] && view.getUint32(at + 28, true) === key[1]) return { rejected: 'in a freed block (in a tcache)' };
    return { start: pointer, usable, region: index, granule };
  }

  /** How many 16-byte granules heap `region` (of a BlockVerdict) has. */
  granules(region: number): number {
    const r = this.regions[region]!;
    return Math.ceil((r.end - r.start) / 16);
  }

  /** `size` bytes at `address` from the snapshot (no copy), or undefined outside the heaps read so far. */
  read(address: number, size: number): Uint8Array | undefined {
    const index = this.regionIndexOf(address);
    const region = this.regions[index];
    if (!region?.bytes || address + size > region.end) return undefined;
    const at = address - region.start;
    return region.bytes.subarray(at, at + size);
  }

  private regionIndexOf(address: number): number {
    let low = 0;
    let high = this.regions.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const r = this.regions[mid]!;
      if (address < r.start) high = mid - 1;
      else if (address >= r.end) low = mid + 1;
      else return mid;
    }
    return -1;
  }

  // The main arena's heap first: its tcache struct gives the key before any block is judged.
  private prime(): void {
    if (this.primed) return;
    this.primed = true;
    const main = this.regions.find((r) => r.entry.path === '[heap]');
    if (main) this.index(main);
  }

  private index(region: HeapRegion): void {
    if (region.indexed) return;
    region.indexed = true;
    const { start, end, path } = region.entry;
    const bytes = this.memory.tryRead(start, Number(end - start));
    if (!bytes) return;
    region.bytes = bytes;
    region.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const search = Math.min(bytes.length - MIN_CHUNK, path === '[heap]' ? HEAP_SEARCH : ARENA_SEARCH);
    for (let first = 0; first <= search; first += 16) {
      const chunks = chainFrom(region.view!, first);
      if (chunks) {
        region.chunks = chunks;
        region.first = first;
        this.tcacheKey ??= tcacheKeyOf(region.view!, region.start, first, chunks);
        return;
      }
    }
  }
}

/**
 * The tcache_key, when the heap's first chunk is a tcache_perthread_struct with an entry pointing
 * at a freed block of this heap (tcache_entry { next; key; } at the block's user address).
 */
function tcacheKeyOf(view: DataView, regionStart: number, first: number, chunks: Uint8Array): [number, number] | undefined {
  if (chunkSize(view, first) !== TCACHE_STRUCT_CHUNK) return undefined;
  const entries = first + CHUNK_HEADER + 2 * TCACHE_BINS;
  for (let bin = 0; bin < TCACHE_BINS; bin++) {
    const entry = view.getUint32(entries + 8 * bin, true) + view.getUint32(entries + 8 * bin + 4, true) * 0x100000000;
    const at = entry - CHUNK_HEADER - regionStart;
    if (entry === 0 || at < 0 || at + 32 > view.byteLength || at % 16 !== 0) continue;
    if ((chunks[Math.floor(at / 128)]! & (1 << ((at / 16) % 8))) === 0) continue;
    return [view.getUint32(at + 24, true), view.getUint32(at + 28, true)];
  }
  return undefined;
}

/** The bitmap of chunk starts when a chain of well-formed chunks runs from `first` exactly to the end of the heap `view` shows. */
function chainFrom(view: DataView, first: number): Uint8Array | undefined {
  const end = view.byteLength;
  // A quick look at the first chunk rejects most wrong starts before the bitmap is allocated.
  const firstSize = chunkSize(view, first);
  if (firstSize < MIN_CHUNK || firstSize % 16 !== 0 || first + firstSize > end) return undefined;
  const chunks = new Uint8Array(Math.floor(end / 128) + 1);
  let at = first;
  while (at < end) {
    if (at + CHUNK_HEADER > end) return undefined;
    const size = chunkSize(view, at);
    if (size < MIN_CHUNK || size % 16 !== 0 || at + size > end) return undefined;
    const granule = at / 16;
    chunks[Math.floor(granule / 8)]! |= 1 << (granule % 8);
    at += size;
  }
  return at === end ? chunks : undefined;
}

/** The size of the chunk at `at` without its flag bits, as a number (a heap is far below 2^53 bytes). */
function chunkSize(view: DataView, at: number): number {
  return (view.getUint32(at + 8, true) & ~7) + view.getUint32(at + 12, true) * 0x100000000;
}
