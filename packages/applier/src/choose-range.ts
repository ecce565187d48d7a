// Chooses where the patch area goes, from a snapshot of /proc/PID/maps. Every trampoline at an old
// function's entry is a `jmp rel32`, and every rel32 in the patch (PC32 data references, calls that
// have no jump-table entry) must reach its target, so each byte of the area must lie within ±2 GiB of
// each such address, counted from the farthest ends of both ranges. We prefer the free gap just below
// the lowest mapping of the module the patch changes (the executable or a shared library): a PIE has
// a huge gap there, a non-PIE exe at 0x400000 has ~4 MiB above mmap_min_addr (0x10000), and both keep
// the area beside the code it patches. Otherwise the gap nearest that module wins, but never the
// first GiB above the heap's start, which brk may grow into.
// Code linked for a non-PIE exe may hold 32-bit absolute addresses of patch data (R_X86_64_32/32S):
// then the whole area must also end below 4 GiB (2 GiB for 32S).
import type { MapEntry } from './process.js';

/** Lowest address user space may map (vm.mmap_min_addr's usual value). */
export const MIN_MAP_ADDRESS = 0x10000n;
/** One past the highest user-space address of x86-64 with 4-level paging. */
export const USER_SPACE_END = 0x7ffffffff000n;
/** What a rel32 reaches: the farthest pair of bytes may be at most this far apart. */
export const REL32_REACH = (1n << 31n) - 1n;
/** Room left for the heap to grow: no area within this distance above its start. */
export const HEAP_ROOM = 1n << 30n;

const PAGE = 0x1000n;

/** An address range every byte of the patch area must reach with a rel32. */
export interface ReachConstraint {
  start: bigint;
  end: bigint;
  /** For messages: "trampoline at value" or "symbol counter". */
  what: string;
}

/** What the area needs. */
export interface AreaRequest {
  /** Bytes, a multiple of the page size. */
  size: bigint;
  reach: ReachConstraint[];
  /** When set, the area must end at or below this address (2^31 or 2^32 for 32-bit absolute fields). */
  limit?: bigint;
}

/** Where the target's own memory is: the lowest mapping of the module the patch changes, and the start of the heap. */
export interface AreaNeighbourhood {
  moduleStart: bigint;
  heapStart: bigint;
}

function pageDown(v: bigint): bigint {
  return v & ~(PAGE - 1n);
}

function pageUp(v: bigint): bigint {
  return (v + PAGE - 1n) & ~(PAGE - 1n);
}

/** The free ranges between mappings, within [MIN_MAP_ADDRESS, USER_SPACE_END). */
export function freeGaps(maps: readonly MapEntry[]): { start: bigint; end: bigint }[] {
  const sorted = [...maps].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const gaps: { start: bigint; end: bigint }[] = [];
  let cursor = MIN_MAP_ADDRESS;
  for (const m of sorted) {
    if (m.start >= USER_SPACE_END) break;
    if (m.start > cursor) gaps.push({ start: cursor, end: m.start });
    if (m.end > cursor) cursor = m.end;
  }
  if (cursor < USER_SPACE_END) gaps.push({ start: cursor, end: USER_SPACE_END });
  return gaps;
}

/**
 * Candidate start addresses for the area, best first (at most one per free gap); empty when no gap
 * satisfies every constraint.
 */
export function chooseRange(maps: readonly MapEntry[], request: AreaRequest, around: AreaNeighbourhood): bigint[] {
  // The feasible starts a satisfy, for every constraint c: a + size − c.start ≤ reach and c.end − a ≤ reach.
  let low = MIN_MAP_ADDRESS;
  let high = USER_SPACE_END - request.size;
  for (const c of request.reach) {
    if (c.end - REL32_REACH > low) low = c.end - REL32_REACH;
    if (c.start + REL32_REACH - request.size < high) high = c.start + REL32_REACH - request.size;
  }
  if (request.limit !== undefined && request.limit - request.size < high) high = request.limit - request.size;
  low = pageUp(low);
  high = pageDown(high);
  const heapEnd = around.heapStart + HEAP_ROOM;
  const candidates: { start: bigint; distance: bigint }[] = [];
  for (const gap of freeGaps(maps)) {
    // Split the gap around the heap's reserved room.
    const pieces = [
      { start: gap.start, end: gap.end < around.heapStart ? gap.end : around.heapStart },
      { start: gap.start > heapEnd ? gap.start : heapEnd, end: gap.end },
    ];
    for (const piece of pieces) {
      const from = pageUp(piece.start > low ? piece.start : low);
      const to = pageDown((piece.end - request.size < high ? piece.end - request.size : high));
      if (from > to) continue;
      // Closest to the module: the top of a range below it, the bottom of a range above it.
      const start = to < around.moduleStart ? to : from;
      const distance = start < around.moduleStart ? around.moduleStart - start : start - around.moduleStart;
      candidates.push({ start, distance });
    }
  }
  candidates.sort((a, b) => (a.distance < b.distance ? -1 : a.distance > b.distance ? 1 : 0));
  return candidates.map((c) => c.start);
}
