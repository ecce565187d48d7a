// Batches of calls inside a stopped target: the stubs of call-stubs.ts run a loop of malloc, free or
// a transformer function in ONE remote call (remote-call.ts), so a million allocations cost one
// ptrace round trip, one 8 MB write or read of /proc/PID/mem, and the calls themselves. open() maps
// a scratch region in the target: a page with the stubs and the int3 they return to (mapped RW,
// written, then made R+X), and a RW data region for the argument and result arrays, replaced by a
// larger one when a batch needs more. Batches larger than BATCH_LIMIT entries are split into calls
// of that many. close() unmaps both. Every call runs on one thread, which stays stopped between
// calls; the others must stay stopped throughout (and none may be inside the allocator, see
// allocator.ts).
import type { ProcessMemory } from '@katana/ptrace';
import { findAllocator, type Allocator } from './allocator.js';
import { stubPage, type StubPage } from './call-stubs.js';
import { ApplierError } from './errors.js';
import { readProcess } from './process.js';
import { remoteCall } from './remote-call.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, remoteMmap, remoteMprotect, remoteMunmap } from './remote-syscall.js';

const PAGE = 0x1000;
/** Most entries one stub call handles: 8 MiB of pointers per array. */
export const BATCH_LIMIT = 1 << 20;
// The smallest data region mapped, and its growth: at least doubling, so a growing series of
// batches remaps a few times only.
const MIN_DATA_BYTES = 64 * 1024;

/** malloc in the target returned NULL before a batch was complete; the blocks it had given were freed. */
export class TargetOutOfMemoryError extends ApplierError {
  constructor(readonly pid: number, readonly obtained: number, readonly requested: number, readonly size: number, freed: boolean) {
    super(
      `malloc in pid ${pid} returned NULL after ${obtained} of ${requested} blocks of ${size} bytes (the target is out of memory); ` +
        (freed ? `the ${obtained} obtained were freed` : `the ${obtained} obtained are still allocated: no free() was found to release them`),
      undefined,
      'E_TARGET_OOM',
    );
  }
}

/** A region TargetCalls mapped in the target. */
export interface ScratchMapping {
  start: bigint;
  size: number;
  what: 'stubs' | 'data';
}

/** Calls in batches inside one stopped thread of a target, through stubs it maps there. */
export class TargetCalls {
  readonly #pid: number;
  readonly #tid: number;
  readonly #memory: ProcessMemory;
  readonly #timeoutMs: number;
  readonly #layout: StubPage;
  #code: bigint | undefined;
  #data: { start: bigint; size: number } | undefined;

  private constructor(pid: number, tid: number, memory: ProcessMemory, timeoutMs: number) {
    this.#pid = pid;
    this.#tid = tid;
    this.#memory = memory;
    this.#timeoutMs = timeoutMs;
    this.#layout = stubPage();
  }

  /**
   * Maps the stub page in `pid` (thread `tid` must be in a ptrace-stop and stay the thread the
   * calls run on); `timeoutMs` bounds each remote call.
   */
  static open(pid: number, tid: number, memory: ProcessMemory, options: { timeoutMs: number }): TargetCalls {
    const calls = new TargetCalls(pid, tid, memory, options.timeoutMs);
    const size = Math.ceil(calls.#layout.code.length / PAGE) * PAGE;
    const code = remoteMmap(pid, tid, 0n, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    calls.#code = code;
    try {
      memory.write(code, calls.#layout.code);
      remoteMprotect(pid, tid, code, size, PROT_READ | PROT_EXEC);
    } catch (error) {
      calls.close();
      throw error;
    }
    return calls;
  }

  /** What this instance has mapped in the target now (the stubs, and the data region once a batch ran). */
  get mappings(): ScratchMapping[] {
    const out: ScratchMapping[] = [];
    if (this.#code !== undefined) out.push({ start: this.#code, size: this.#codeSize(), what: 'stubs' });
    if (this.#data !== undefined) out.push({ start: this.#data.start, size: this.#data.size, what: 'data' });
    return out;
  }

  /** Address of the int3 the stubs return to, usable as remoteCall's returnSite while this is open. */
  get returnSite(): bigint {
    if (this.#code === undefined) throw new ApplierError(`TargetCalls of pid ${this.#pid} is closed`);
    return this.#code + BigInt(this.#layout.returnSite);
  }

  /** One call of `fn` with up to six `args` on this instance's thread (remoteCall); returns rax. */
  call(fn: bigint, args: bigint[], name: string): bigint {
    return remoteCall(this.#pid, this.#tid, fn, args, { returnSite: this.returnSite, timeoutMs: this.#timeoutMs, name, memory: this.#memory });
  }

  /**
   * malloc(size) `count` times in the target; returns the blocks in order. When malloc returns
   * NULL first, the blocks obtained are freed (with `free`, or the process's free() found by
   * findAllocator) and TargetOutOfMemoryError is thrown.
   */
  allocateEach(malloc: bigint, size: number, count: number, free?: bigint): bigint[] {
    const words = this.allocateEachArray(malloc, size, count, free);
    const out = new Array<bigint>(count);
    for (let i = 0; i < count; i++) out[i] = words[i]!;
    return out;
  }

  /** allocateEach, returning the blocks as one BigUint64Array (no bigint[] of a million entries to build). */
  allocateEachArray(malloc: bigint, size: number, count: number, free?: bigint): BigUint64Array {
    checkCount(count);
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`allocateEach needs a size >= 0, got ${size}`);
    const out = new BigUint64Array(count);
    for (let done = 0; done < count;) {
      const n = Math.min(count - done, BATCH_LIMIT);
      const data = this.#dataFor(n * 8);
      const got = Number(this.#call(this.#layout.allocateEach, [malloc, BigInt(size), BigInt(n), data], 'malloc'));
      if (got > 0) out.set(this.#readWords(data, got), done);
      done += got;
      if (got < n) {
        const freed = this.#release(out.subarray(0, done), malloc, free);
        throw new TargetOutOfMemoryError(this.#pid, done, count, size, freed);
      }
    }
    return out;
  }

  /** free(p) in the target for each of `pointers`. */
  freeEach(free: bigint, pointers: readonly bigint[] | BigUint64Array): void {
    for (let done = 0; done < pointers.length;) {
      const n = Math.min(pointers.length - done, BATCH_LIMIT);
      const words = pointers instanceof BigUint64Array ? pointers.subarray(done, done + n) : BigUint64Array.from(pointers.slice(done, done + n));
      const data = this.#dataFor(n * 8);
      this.#memory.write(data, new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
      this.#call(this.#layout.freeEach, [free, data, BigInt(n)], 'free');
      done += n;
    }
  }

  /** fn(first, second) in the target for each pair, in order; `name` is fn's name for messages. */
  callEach(fn: bigint, pairs: readonly (readonly [bigint, bigint])[], name: string): void {
    for (let done = 0; done < pairs.length;) {
      const n = Math.min(pairs.length - done, BATCH_LIMIT);
      // first[0..n) then second[0..n), written in one go.
      const words = new BigUint64Array(2 * n);
      for (let i = 0; i < n; i++) {
        const [first, second] = pairs[done + i]!;
        words[i] = first;
        words[n + i] = second;
      }
      const data = this.#dataFor(words.byteLength);
      this.#memory.write(data, new Uint8Array(words.buffer));
      const called = this.#call(this.#layout.callEach, [fn, data, data + BigInt(n * 8), BigInt(n)], name);
      if (called !== BigInt(n)) throw new ApplierError(`the callEach stub in pid ${this.#pid} called ${name} ${called} times instead of ${n}`);
      done += n;
    }
  }

  /** Unmaps everything this instance mapped in the target; later calls do nothing. */
  close(): void {
    const mappings = this.mappings;
    this.#code = undefined;
    this.#data = undefined;
    for (const m of mappings) remoteMunmap(this.#pid, this.#tid, m.start, m.size);
  }

  #call(offset: number, args: bigint[], name: string): bigint {
    if (this.#code === undefined) throw new ApplierError(`TargetCalls of pid ${this.#pid} is closed`);
    return this.call(this.#code + BigInt(offset), args, name);
  }

  // The data region's address, remapped larger first when it holds fewer than `bytes`.
  #dataFor(bytes: number): bigint {
    if (this.#data !== undefined && this.#data.size >= bytes) return this.#data.start;
    const size = Math.ceil(Math.max(bytes, MIN_DATA_BYTES, 2 * (this.#data?.size ?? 0)) / PAGE) * PAGE;
    if (this.#data !== undefined) {
      const old = this.#data;
      this.#data = undefined;
      remoteMunmap(this.#pid, this.#tid, old.start, old.size);
    }
    const start = remoteMmap(this.#pid, this.#tid, 0n, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    this.#data = { start, size };
    return start;
  }

  #readWords(address: bigint, count: number): BigUint64Array {
    const bytes = this.#memory.read(address, count * 8);
    return new BigUint64Array(bytes.buffer, bytes.byteOffset, count);
  }

  // Frees blocks obtained before malloc failed; false when no free() can be found.
  #release(blocks: BigUint64Array, malloc: bigint, free: bigint | undefined): boolean {
    if (blocks.length === 0) return true;
    if (free === undefined) {
      let found: Allocator;
      try {
        found = findAllocator(readProcess(this.#pid), this.#memory);
      } catch {
        return false;
      }
      if (found.malloc !== malloc) return false; // another allocator's free would corrupt its heap
      free = found.free;
    }
    this.freeEach(free, blocks);
    return true;
  }

  #codeSize(): number {
    return Math.ceil(this.#layout.code.length / PAGE) * PAGE;
  }
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`a batch needs a count >= 0, got ${count}`);
}
