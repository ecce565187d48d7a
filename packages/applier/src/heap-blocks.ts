// Recognises glibc malloc blocks in a snapshot of a stopped target's memory, so that pointer
// following can tell "a pointer to a malloc'd block of N usable bytes" from anything else.
//
// Chunk layout (glibc 2.36 malloc/malloc.c, x86-64: SIZE_SZ 8, MALLOC_ALIGNMENT 16): a chunk at c
// holds prev_size at c (meaningful only while the previous chunk is free) and its size at c + 8,
// whose low bits are PREV_INUSE (1: the previous chunk is in use), IS_MMAPPED (2) and
// NON_MAIN_ARENA (4); malloc returns c + 16. Chunks of an arena lie end to end, so the next chunk
// is at c + size, and whether a chunk is in use is the PREV_INUSE bit of the next one. The
// usable size (malloc_usable_size) is size - 8 for an arena chunk (it may use the next chunk's
// prev_size) and size - 16 for an mmapped one.
//
// read() takes one snapshot per mapping, in one read each ([heap] in 256 KiB pieces, each walked as
// soon as it is read, while still in the CPU's cache): [heap] and every anonymous rw mapping.
//   - [heap], the main arena: its chunks are walked from the first to the top chunk, which ends at
//     the mapping's end, and their starts indexed (sorted offsets, binary search). The first chunk
//     is at the mapping's start in a dynamic executable; a static one puts its TLS block (sbrk'ed
//     at start-up) first, so the first offset from which the walk reaches the end exactly is taken.
//   - Non-main arenas (threads' arenas): heaps of up to HEAP_MAX_SIZE (64 MiB) at addresses aligned
//     to it, starting with a heap_info { ar_ptr, prev, size, mprotect_size, pagesize }; an arena's
//     first heap holds its malloc_state next, then the chunks, walked up to heap_info.size (or to
//     the double fencepost, sizes 16 and 0, that ends a heap the arena has grown out of).
//   - Chunks glibc mmapped on their own (IS_MMAPPED: large requests) sit at a page boundary of an
//     anonymous mapping (adjacent ones merge into one mapping); they are checked by their header:
//     size page-aligned, IS_MMAPPED, within the mapping.
// Threads' stacks are anonymous rw mappings too and are read like the rest (mostly untouched pages:
// about 4 ms per 8 MiB stack here); mappings over MAX_SNAPSHOT_BYTES are left out (`skipped`).
// A walk that fails (a corrupt heap, a layout we do not know) leaves that region to header checks:
// size aligned to 16 and within the region, next chunk's header sane, its PREV_INUSE set; those
// cannot tell an interior pointer whose bytes happen to look like a header from a block.
//
// Freed blocks: a chunk freed into a tcache bin or a fastbin keeps its in-use bit (that is how those
// caches work), so the walk alone sees it as in use. Tcache chunks are recognised anyway: a chunk in
// a tcache holds the process-wide tcache_key at mem + 8, which we learn from a tcache_perthread_struct
// (the first chunk of a thread's arena, size 0x290: counts[64] then entries[64]) whose entries point
// to indexed blocks. Fastbin chunks (small blocks freed once the 7-entry tcache bin is full) are
// NOT detected: blockAt accepts them as live. Blocks freed to the unsorted/small/large bins (or
// merged into the top chunk) are rejected.
import { isPtraceError, type ProcessMemory } from '@katana/ptrace';
import { readMaps, type MapEntry } from './process.js';

const SIZE_SZ = 8;
const MAX_ADDRESS = 2 ** 53;
const CHUNK_HDR_SZ = 16;
const MINSIZE = 32;
const MALLOC_ALIGN_MASK = 15;
const PREV_INUSE = 1;
const IS_MMAPPED = 2;
const NON_MAIN_ARENA = 4;
const SIZE_BITS = 7;
const PAGE = 4096;
/** glibc 2.36 arena.c: 2 * DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: non-main heaps are aligned to it. */
export const HEAP_MAX_SIZE = 64 * 1024 * 1024;
// sizeof(heap_info) (5 words + 8 bytes of padding) and sizeof(struct malloc_state) in glibc 2.36 x86-64.
const HEAP_INFO_SIZE = 48;
const MALLOC_STATE_SIZE = 2200;
/** Mappings larger than this are not snapshotted (a sparse reservation would not fit in memory). */
export const MAX_SNAPSHOT_BYTES = 2 ** 31;
// [heap] is read in pieces this large (fits a CPU's L2 cache), each walked before the next is read.
const HEAP_READ_PIECE = 256 * 1024;
// How far past where the first chunk should be we look for it (a static executable's TLS block).
const FIRST_CHUNK_SEARCH = 64 * 1024;
// tcache_perthread_struct: uint16_t counts[64]; tcache_entry *entries[64] (chunk size 0x290).
const TCACHE_STRUCT_CHUNK = 0x290;
const TCACHE_MAX_BINS = 64;

/** What blockAt says of a pointer. */
export type BlockVerdict = { start: bigint; usable: number } | { rejected: string };

/** A heap region HeapBlocks found, for diagnostics. */
export interface HeapRegion {
  kind: 'main arena' | 'thread arena';
  start: bigint;
  end: bigint;
  /** Chunks indexed by walking the region; 0 when the walk failed (header checks only). */
  chunks: number;
}

// One mapping's bytes. Addresses are numbers: user space is below 2^47.
interface Snapshot {
  start: number;
  end: number;
  bytes: Uint8Array;
  words: Uint32Array;
  isHeap: boolean;
}

// A walked heap: chunk starts as offsets into the snapshot, ascending; [from, to) is what the walk
// covered. `top` is true when the last chunk is the arena's top chunk (free space, no next header).
interface Walk {
  snapshot: Snapshot;
  kind: HeapRegion['kind'];
  regionStart: number;
  regionEnd: number;
  chunks: Float64Array;
  from: number;
  to: number;
  top: boolean;
}

/** glibc malloc blocks of a stopped process, from one snapshot of its heap memory. */
export class HeapBlocks {
  readonly #snapshots: Snapshot[];
  readonly #walks: Walk[];
  readonly #failed: { kind: HeapRegion['kind']; snapshot: Snapshot; start: number; end: number; mainArena: boolean }[];
  #tcacheKey: [number, number] | undefined;
  // The walk and chunk index of the last hit: pointers followed along a list are often consecutive.
  #lastWalk: Walk | undefined;
  #lastIndex = -1;

  /** Candidate mappings larger than MAX_SNAPSHOT_BYTES, left out of the snapshot. */
  readonly skipped: readonly MapEntry[];

  private constructor(snapshots: Snapshot[], skipped: MapEntry[]) {
    this.#snapshots = snapshots;
    this.skipped = skipped;
    this.#walks = [];
    this.#failed = [];
  }

  /**
   * Snapshots [heap] and the anonymous rw mappings of `pid` (which must stay stopped while the
   * snapshot is used), one read per mapping ([heap]: in pieces, walked as they arrive), and indexes
   * the chunks of every arena heap.
   */
  static read(pid: number, memory: ProcessMemory): HeapBlocks {
    const snapshots: Snapshot[] = [];
    const skipped: MapEntry[] = [];
    let mainWalk: ChunkWalk | undefined;
    for (const m of readMaps(pid)) {
      if (!isHeapCandidate(m)) continue;
      const length = Number(m.end - m.start);
      if (length > MAX_SNAPSHOT_BYTES) {
        skipped.push(m);
        continue;
      }
      const bytes = new Uint8Array(length);
      const snapshot: Snapshot = {
        start: Number(m.start), end: Number(m.end), bytes, words: new Uint32Array(bytes.buffer, 0, length >>> 2), isHeap: m.path === '[heap]',
      };
      // [heap] is read in pieces, each walked while it is still in the CPU's cache: walking a
      // 64 MB heap after reading it all would stream it from memory a second time.
      const walk = snapshot.isHeap ? new ChunkWalk(snapshot, snapshot.start, snapshot.end, true) : undefined;
      const piece = walk === undefined ? length : HEAP_READ_PIECE;
      let read = true;
      for (let at = 0; at < length && read; at += piece) {
        const end = Math.min(at + piece, length);
        read = tryReadInto(memory, m.start + BigInt(at), bytes.subarray(at, end));
        walk?.advance(snapshot.start + end);
      }
      if (!read) continue; // unmapped meanwhile, or not readable
      snapshots.push(snapshot);
      if (walk !== undefined) mainWalk = walk;
    }
    const blocks = new HeapBlocks(snapshots, skipped);
    blocks.#index(mainWalk);
    return blocks;
  }

  /** The heaps found: the main arena's [heap] and each thread arena heap. */
  get heaps(): HeapRegion[] {
    return [
      ...this.#walks.map((w) => ({ kind: w.kind, start: BigInt(w.regionStart), end: BigInt(w.regionEnd), chunks: w.chunks.length })),
      ...this.#failed.map((f) => ({ kind: f.kind, start: BigInt(f.start), end: BigInt(f.end), chunks: 0 })),
    ].sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  /** True when the tcache key was found, so that blocks sitting in a tcache are rejected. */
  get knowsTcache(): boolean {
    return this.#tcacheKey !== undefined;
  }

  /**
   * `pointer` as a malloc'd block: its start (the pointer itself) and malloc_usable_size, or why
   * it is not the start of a live block ("not in the heap", "not the start of a block", ...).
   */
  blockAt(pointer: bigint): BlockVerdict {
    const p = Number(pointer); // exact below 2^53, where user space lies; no BigInt arithmetic per call
    if (!(p > 0 && p < MAX_ADDRESS)) return { rejected: 'not in the heap' };
    const snapshot = this.#snapshotAt(p);
    if (snapshot === undefined) return { rejected: 'not in the heap' };
    if ((p & MALLOC_ALIGN_MASK) !== 0) return { rejected: 'not the start of a block' };
    const chunk = p - CHUNK_HDR_SZ;
    const walk = this.#walkAt(chunk);
    if (walk !== undefined) return this.#fromWalk(walk, chunk, pointer);
    const failed = this.#failed.find((f) => chunk >= f.start && chunk < f.end);
    if (failed !== undefined) return this.#byHeader(failed.snapshot, chunk, failed.end, failed.mainArena, pointer);
    if (snapshot.isHeap) return { rejected: 'not in the heap' };
    return this.#mmapped(snapshot, chunk, pointer);
  }

  /** `size` bytes at `address` from the snapshot (a view, not a copy), or undefined when not all of them are in it. */
  read(address: bigint, size: number): Uint8Array | undefined {
    const a = Number(address);
    if (!(a >= 0 && a < MAX_ADDRESS)) return undefined;
    const snapshot = this.#snapshotAt(a);
    if (snapshot === undefined || a + size > snapshot.end) return undefined;
    return snapshot.bytes.subarray(a - snapshot.start, a - snapshot.start + size);
  }

  // ---- indexing ----

  // `mainWalk`: the walk of [heap] from its start, done while reading it.
  #index(mainWalk: ChunkWalk | undefined): void {
    for (const snapshot of this.#snapshots) {
      if (snapshot.isHeap) {
        this.#walkHeap(snapshot, 'main arena', snapshot.start, snapshot.end, [snapshot.start], snapshot.start + FIRST_CHUNK_SEARCH, true, mainWalk);
        continue;
      }
      // Thread arena heaps: at HEAP_MAX_SIZE-aligned addresses, with a sane heap_info.
      for (let h = Math.ceil(snapshot.start / HEAP_MAX_SIZE) * HEAP_MAX_SIZE; h + HEAP_INFO_SIZE <= snapshot.end; h += HEAP_MAX_SIZE) {
        const info = heapInfo(snapshot, h);
        if (info === undefined) continue;
        const first = info.arena === h + HEAP_INFO_SIZE ? align16(h + HEAP_INFO_SIZE + MALLOC_STATE_SIZE) : h + HEAP_INFO_SIZE;
        this.#walkHeap(snapshot, 'thread arena', h, h + info.size, [first], h + HEAP_INFO_SIZE + FIRST_CHUNK_SEARCH, false);
      }
    }
    this.#walks.sort((a, b) => a.regionStart - b.regionStart);
    this.#tcacheKey = this.#findTcacheKey();
  }

  // Walks a heap from its first chunk: tries `guesses`, then every 16-aligned offset from the
  // region's start up to `searchEnd`; the first walk that ends where a heap ends wins. `done` is a
  // walk from guesses[0] made already.
  #walkHeap(
    snapshot: Snapshot, kind: HeapRegion['kind'], start: number, end: number, guesses: number[], searchEnd: number, mainArena: boolean, done?: ChunkWalk,
  ): void {
    const tried = new Set<number>();
    const attempt = (first: number): boolean => {
      if (tried.has(first)) return false;
      tried.add(first);
      let walk = done;
      if (walk === undefined || walk.first !== first) {
        walk = new ChunkWalk(snapshot, first, end, mainArena);
        walk.advance(end);
      }
      if (walk.state === 'walking' || walk.state === 'failed') return false;
      this.#walks.push({ snapshot, kind, regionStart: start, regionEnd: end, chunks: walk.chunks.subarray(0, walk.count), from: first, to: walk.to, top: walk.state === 'top' });
      return true;
    };
    if (guesses.some(attempt)) return;
    for (let first = align16(start); first < Math.min(searchEnd, end); first += 16) if (attempt(first)) return;
    this.#failed.push({ kind, snapshot, start, end, mainArena });
  }

  // The tcache key from the tcache_perthread_structs at the start of walked heaps (see the header):
  // each non-empty entry must be an indexed block, and every such block must hold the same key.
  #findTcacheKey(): [number, number] | undefined {
    const keys = new Set<string>();
    let key: [number, number] | undefined;
    for (const walk of this.#walks) {
      for (let i = 0; i < Math.min(walk.chunks.length, 2); i++) {
        const chunk = walk.chunks[i]!;
        if (sizeAt(walk.snapshot, chunk) !== TCACHE_STRUCT_CHUNK || !this.#inUse(walk, i)) continue;
        const entries = walk.snapshot.start + chunk + CHUNK_HDR_SZ + 2 * TCACHE_MAX_BINS;
        const found: [number, number][] = [];
        for (let bin = 0; bin < TCACHE_MAX_BINS; bin++) {
          const entry = word(walk.snapshot, entries + bin * 8);
          if (entry === 0) continue;
          const at = this.#walkAt(entry - CHUNK_HDR_SZ);
          if (at === undefined || indexOf(at.chunks, entry - CHUNK_HDR_SZ - at.snapshot.start) < 0) {
            found.length = 0;
            break; // not a tcache_perthread_struct after all
          }
          const words = at.snapshot.words;
          const w = (entry + 8 - at.snapshot.start) >>> 2;
          found.push([words[w]!, words[w + 1]!]);
        }
        for (const k of found) {
          keys.add(`${k[0]}:${k[1]}`);
          key = k;
        }
      }
    }
    return keys.size === 1 && (key![0] !== 0 || key![1] !== 0) ? key : undefined;
  }

  // ---- lookups ----

  #snapshotAt(address: number): Snapshot | undefined {
    const list = this.#snapshots;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = list[mid]!;
      if (address < s.start) hi = mid - 1;
      else if (address >= s.end) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  #walkAt(address: number): Walk | undefined {
    const last = this.#lastWalk;
    if (last !== undefined && address >= last.from && address < last.to) return last;
    for (const w of this.#walks) if (address >= w.regionStart && address < w.regionEnd) return w;
    return undefined;
  }

  #fromWalk(walk: Walk, chunk: number, pointer: bigint): BlockVerdict {
    if (chunk < walk.from || chunk >= walk.to) {
      // Before the first chunk: a heap_info and malloc_state, or a static executable's TLS block.
      return chunk < walk.from ? { rejected: 'not in the heap' } : { rejected: 'not the start of a block' };
    }
    const offset = chunk - walk.snapshot.start;
    // Lists are often allocated in order (or in reverse): try the neighbours of the last hit first.
    let i = -1;
    const last = walk === this.#lastWalk ? this.#lastIndex : -2;
    if (walk.chunks[last + 1] === offset) i = last + 1;
    else if (last > 0 && walk.chunks[last - 1] === offset) i = last - 1;
    else if (last >= 0 && walk.chunks[last] === offset) i = last;
    else i = indexOf(walk.chunks, offset);
    if (i < 0) {
      const containing = lowerBound(walk.chunks, offset) - 1;
      return this.#inUse(walk, containing) ? { rejected: 'not the start of a block' } : { rejected: 'in a freed block' };
    }
    this.#lastWalk = walk;
    this.#lastIndex = i;
    if (!this.#inUse(walk, i)) return { rejected: i === walk.chunks.length - 1 && walk.top ? 'in the free top chunk' : 'in a freed block' };
    if (this.#inTcache(walk.snapshot, chunk)) return { rejected: 'in a freed block (in a tcache)' };
    return { start: pointer, usable: sizeAt(walk.snapshot, offset) - SIZE_SZ };
  }

  // Whether chunk i of a walk is in use: the PREV_INUSE bit of the next chunk; the top chunk is free.
  #inUse(walk: Walk, i: number): boolean {
    if (i === walk.chunks.length - 1 && walk.top) return false;
    const offset = walk.chunks[i]!;
    const next = offset + sizeAt(walk.snapshot, offset);
    return (walk.snapshot.words[(next + SIZE_SZ) >>> 2]! & PREV_INUSE) !== 0;
  }

  #inTcache(snapshot: Snapshot, chunk: number): boolean {
    const key = this.#tcacheKey;
    if (key === undefined) return false;
    const at = (chunk + CHUNK_HDR_SZ + 8 - snapshot.start) >>> 2;
    return snapshot.words[at] === key[0] && snapshot.words[at + 1] === key[1];
  }

  // A heap region whose walk failed: the chunk's own header and the next one's.
  #byHeader(snapshot: Snapshot, chunk: number, end: number, mainArena: boolean, pointer: bigint): BlockVerdict {
    const offset = chunk - snapshot.start;
    const size = sizeAt(snapshot, offset);
    const flags = flagsAt(snapshot, offset);
    if (size < MINSIZE || size % 16 !== 0 || chunk + size + CHUNK_HDR_SZ > end || (flags & IS_MMAPPED) !== 0) return { rejected: 'not the start of a block' };
    if (((flags & NON_MAIN_ARENA) !== 0) === mainArena) return { rejected: 'not the start of a block' };
    const nextSize = sizeAt(snapshot, offset + size);
    if (nextSize !== 0 && (nextSize < CHUNK_HDR_SZ || nextSize % 16 !== 0 || chunk + size + nextSize > end)) return { rejected: 'not the start of a block' };
    if ((flagsAt(snapshot, offset + size) & PREV_INUSE) === 0) return { rejected: 'in a freed block' };
    if (this.#inTcache(snapshot, chunk)) return { rejected: 'in a freed block (in a tcache)' };
    return { start: pointer, usable: size - SIZE_SZ };
  }

  // An anonymous mapping outside the arenas: an mmapped chunk starts at a page boundary (plus
  // prev_size, the alignment offset memalign may add) and spans whole pages.
  #mmapped(snapshot: Snapshot, chunk: number, pointer: bigint): BlockVerdict {
    if (isMmappedChunk(snapshot, chunk)) return { start: pointer, usable: sizeAt(snapshot, chunk - snapshot.start) - CHUNK_HDR_SZ };
    // Inside an mmapped chunk that starts at a page boundary below?
    for (let page = chunk - (chunk % PAGE); page >= snapshot.start; page -= PAGE) {
      if (isMmappedChunk(snapshot, page)) {
        return page + sizeAt(snapshot, page - snapshot.start) > chunk ? { rejected: 'not the start of a block' } : { rejected: 'not in the heap' };
      }
    }
    return { rejected: 'not in the heap' };
  }
}

function isHeapCandidate(m: MapEntry): boolean {
  return m.path === '[heap]' || (m.path === '' && m.inode === 0 && m.perms.startsWith('rw'));
}

// heap_info at h, if it looks like one: a non-null arena pointer just after a heap_info, a previous
// heap aligned like this one, a page-multiple size within the readable part.
function heapInfo(snapshot: Snapshot, h: number): { arena: number; size: number } | undefined {
  const arena = word(snapshot, h);
  const prev = word(snapshot, h + 8);
  const size = word(snapshot, h + 16);
  const mprotectSize = word(snapshot, h + 24);
  if (arena % HEAP_MAX_SIZE !== HEAP_INFO_SIZE) return undefined;
  if (prev % HEAP_MAX_SIZE !== 0) return undefined;
  if (size === 0 || size % PAGE !== 0 || size > HEAP_MAX_SIZE || h + size > snapshot.end || mprotectSize < size) return undefined;
  return { arena, size };
}

// Walks chunks from `first` (an address) to `end`, as far as the snapshot has been read. It succeeds
// when the chunks tile [first, end) exactly (the last being the top chunk: state 'top') or stop at a
// double fencepost (sizes 16 and 0: state 'fencepost'); chunk starts are offsets into the snapshot.
class ChunkWalk {
  chunks = new Float64Array(1024);
  count = 0;
  state: 'walking' | 'failed' | 'top' | 'fencepost' = 'walking';
  /** Where the walk ended (an address), once it is 'top' or 'fencepost'. */
  to = 0;
  #offset: number;
  readonly #stop: number;

  constructor(readonly snapshot: Snapshot, readonly first: number, end: number, readonly mainArena: boolean) {
    this.#offset = first - snapshot.start;
    this.#stop = end - snapshot.start;
  }

  /** Walks on through the chunks whose headers lie below `readTo` (an address: what has been read). */
  advance(readTo: number): void {
    const words = this.snapshot.words;
    const stop = this.#stop;
    const readable = readTo - this.snapshot.start;
    let offset = this.#offset;
    let count = this.count;
    let chunks = this.chunks;
    // The loop runs once per chunk (a million for a 64 MB heap of small blocks): integers only.
    while (this.state === 'walking') {
      if (offset === stop) {
        this.state = count === 0 ? 'failed' : 'top';
        this.to = stop + this.snapshot.start;
        break;
      }
      if (offset + 2 * CHUNK_HDR_SZ > readable && readable < stop) break; // its header is not read yet
      if (offset + CHUNK_HDR_SZ > stop) {
        this.state = 'failed';
        break;
      }
      const at = (offset + SIZE_SZ) >>> 2;
      const low = words[at]!;
      const high = words[at + 1]!;
      const size = high === 0 ? (low & ~SIZE_BITS) >>> 0 : ((low & ~SIZE_BITS) >>> 0) + high * 0x100000000;
      if (count === 0 && (low & PREV_INUSE) === 0) {
        this.state = 'failed'; // the first chunk of a heap has PREV_INUSE
        break;
      }
      if (size === CHUNK_HDR_SZ && count > 0) {
        // A double fencepost: this chunk of size 16, then one of size 0.
        const ok = offset + 2 * CHUNK_HDR_SZ <= stop && (words[at + 4]! & ~SIZE_BITS) === 0 && words[at + 5] === 0;
        this.state = ok ? 'fencepost' : 'failed';
        this.to = offset + this.snapshot.start;
        break;
      }
      // The main arena's chunks never carry NON_MAIN_ARENA. (A thread arena's in-use chunks do, but
      // its free ones, remainders and top need not: set_head(p, size | PREV_INUSE).)
      if (size < MINSIZE || (size & MALLOC_ALIGN_MASK) !== 0 || offset + size > stop || (low & IS_MMAPPED) !== 0 || (this.mainArena && (low & NON_MAIN_ARENA) !== 0)) {
        this.state = 'failed';
        break;
      }
      if (count === chunks.length) {
        const grown = new Float64Array(count * 2);
        grown.set(chunks);
        chunks = grown;
      }
      chunks[count++] = offset;
      offset += size;
    }
    this.#offset = offset;
    this.count = count;
    this.chunks = chunks;
  }
}

// memory.readInto; false when the range is not (wholly) mapped.
function tryReadInto(memory: ProcessMemory, address: bigint, bytes: Uint8Array): boolean {
  try {
    memory.readInto(address, bytes);
    return true;
  } catch (error) {
    if (isPtraceError(error, 'EIO', 'EFAULT')) return false;
    throw error;
  }
}

function isMmappedChunk(snapshot: Snapshot, chunk: number): boolean {
  if (chunk < snapshot.start || chunk + CHUNK_HDR_SZ > snapshot.end) return false;
  const offset = chunk - snapshot.start;
  const prevSize = word(snapshot, chunk);
  const size = sizeAt(snapshot, offset);
  if (flagsAt(snapshot, offset) !== IS_MMAPPED || size < PAGE) return false;
  if ((chunk - prevSize) % PAGE !== 0 || (prevSize + size) % PAGE !== 0 || chunk - prevSize < snapshot.start) return false;
  return chunk + size <= snapshot.end;
}

// The size of the chunk at `offset` in the snapshot, without its flag bits (integer operations only:
// this runs once per lookup).
function sizeAt(snapshot: Snapshot, offset: number): number {
  const at = (offset + SIZE_SZ) >>> 2;
  const low = (snapshot.words[at]! & ~SIZE_BITS) >>> 0;
  const high = snapshot.words[at + 1]!;
  return high === 0 ? low : low + high * 0x100000000;
}

// The flag bits (PREV_INUSE, IS_MMAPPED, NON_MAIN_ARENA) of the chunk at `offset`.
function flagsAt(snapshot: Snapshot, offset: number): number {
  return snapshot.words[(offset + SIZE_SZ) >>> 2]! & SIZE_BITS;
}

// The 8-byte word at `address` (inside the snapshot) as a number.
function word(snapshot: Snapshot, address: number): number {
  const at = (address - snapshot.start) >>> 2;
  return snapshot.words[at]! + snapshot.words[at + 1]! * 0x100000000;
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

// Index of `value` in the ascending `list`, or -1.
function indexOf(list: Float64Array, value: number): number {
  const i = lowerBound(list, value);
  return i < list.length && list[i] === value ? i : -1;
}

// The first index whose value is >= `value`.
function lowerBound(list: Float64Array, value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
