// Which old blocks of a staged data transformation are intermediate: blocks an earlier stage (or an
// earlier patch of the same rollback) allocated in this stop window and a later one moved again.
// Nothing but katana ever saw them, so they are freed after the commit; the others are the
// process's own and follow --free-old. This runs in the stop window, over a million blocks per
// stage for a million-node list: every address is read as its two 32-bit halves (reading a
// BigUint64Array element makes a BigInt), the allocated blocks go into page bitmaps (GranuleSet;
// sorting two million addresses alone took 200 ms), and each loop is its own small function over
// typed arrays.

/** The old blocks split in two, with the usable bytes of each part. */
export interface SplitBlocks {
  original: BigUint64Array;
  originalBytes: number;
  intermediate: BigUint64Array;
  intermediateBytes: number;
}

/** One stage's old blocks and their usable sizes (parallel arrays). */
export interface OldBlocks {
  blocks: BigUint64Array;
  usable: Uint32Array;
}

/** Splits every stage's old blocks into the process's own and those in `allocated` (blocks the window allocated). */
export function splitOldBlocks(stages: readonly OldBlocks[], allocated: readonly BigUint64Array[]): SplitBlocks {
  const set = new GranuleSet();
  for (const a of allocated) set.add(halvesOf(a), a.length);
  // Per stage: a flag per block, and its intermediate count and bytes.
  const flags = stages.map((s) => new Uint8Array(s.blocks.length));
  const sums = new Float64Array(3); // intermediate count, intermediate bytes, original bytes
  stages.forEach((s, i) => markIntermediate(set, halvesOf(s.blocks), s.usable, flags[i]!, sums));
  const total = stages.reduce((n, s) => n + s.blocks.length, 0);
  const original = new BigUint64Array(total - sums[0]!);
  const intermediate = new BigUint64Array(sums[0]!);
  const at = new Float64Array(2); // next original, next intermediate
  stages.forEach((s, i) => copySplit(halvesOf(s.blocks), flags[i]!, halvesOf(original), halvesOf(intermediate), at));
  return { original, originalBytes: sums[2]!, intermediate, intermediateBytes: sums[1]! };
}

/** The little-endian 32-bit halves of each address. */
function halvesOf(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/**
 * The allocated blocks as bits, one per 16-byte granule (malloc's alignment; two blocks never share
 * a granule), in a bitmap per 1 MiB page of addresses. Blocks malloc returns in a row mostly lie
 * side by side, so consecutive lookups hit the same page and the same cache lines (a hash set of
 * two million addresses missed the cache on every probe: 150 ms to fill, as long to query).
 */
class GranuleSet {
  readonly #pages = new Map<number, Uint8Array>();
  #lastPage = -1;
  #lastBits: Uint8Array | undefined;

  add(halves: Uint32Array, count: number): void {
    for (let i = 0; i < count; i++) {
      const address = halves[2 * i + 1]! * 0x1_0000_0000 + halves[2 * i]!;
      const bits = this.#bitsOf(address, true)!;
      const granule = (address % PAGE) >>> 4;
      bits[granule >>> 3]! |= 1 << (granule & 7);
    }
  }

  has(address: number): boolean {
    const bits = this.#bitsOf(address, false);
    if (bits === undefined) return false;
    const granule = (address % PAGE) >>> 4;
    return (bits[granule >>> 3]! & (1 << (granule & 7))) !== 0;
  }

  #bitsOf(address: number, create: boolean): Uint8Array | undefined {
    const page = Math.floor(address / PAGE);
    if (page === this.#lastPage) return this.#lastBits;
    let bits = this.#pages.get(page);
    if (bits === undefined && create) this.#pages.set(page, (bits = new Uint8Array(PAGE / 16 / 8)));
    this.#lastPage = page;
    this.#lastBits = bits;
    return bits;
  }
}

const PAGE = 1 << 20;

function markIntermediate(set: GranuleSet, halves: Uint32Array, usable: Uint32Array, flags: Uint8Array, sums: Float64Array): void {
  let count = 0;
  let bytes = 0;
  let originalBytes = 0;
  for (let i = 0; i < flags.length; i++) {
    if (set.has(halves[2 * i + 1]! * 0x1_0000_0000 + halves[2 * i]!)) {
      flags[i] = 1;
      count++;
      bytes += usable[i]!;
    } else {
      originalBytes += usable[i]!;
    }
  }
  sums[0]! += count;
  sums[1]! += bytes;
  sums[2]! += originalBytes;
}

function copySplit(halves: Uint32Array, flags: Uint8Array, original: Uint32Array, intermediate: Uint32Array, at: Float64Array): void {
  let o = at[0]!;
  let m = at[1]!;
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === 1) {
      intermediate[2 * m] = halves[2 * i]!;
      intermediate[2 * m + 1] = halves[2 * i + 1]!;
      m++;
    } else {
      original[2 * o] = halves[2 * i]!;
      original[2 * o + 1] = halves[2 * i + 1]!;
      o++;
    }
  }
  at[0] = o;
  at[1] = m;
}
