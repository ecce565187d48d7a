// The safety check of the stop window (Katana §5, the paper's first safe-state condition): no thread
// may be executing, or be about to return into, a function the patch replaces or lists as unsafe,
// or it would run a mix of old and new code. Until CFI unwinding arrives the stack scan is
// conservative: every 8-byte word from rsp to the end of the stack's mapping (at most 1 MiB) that
// points into an unsafe function and sits right after a call instruction counts as a return address
// (e8 rel32 five bytes before it, or an `ff /2` indirect call of 2, 3, 6 or 7 bytes, REX-prefixed or
// not). A stale word can make us refuse needlessly; it can never make us patch unsafely. The code
// bytes are read before the stop, so inside the window we only read registers and stacks.
import type { PatchObject } from '@katana/po';
import type { ProcessMemory } from '@katana/ptrace';
import { UnsafeStateError } from './errors.js';
import type { MapEntry } from './process.js';

/** Most stack bytes scanned per thread. */
export const STACK_SCAN_LIMIT = 1 << 20;
const PAGE = 0x1000;
/** Longest call instruction we look for before a return address. */
const LONGEST_CALL = 7;

/** A run-time address range no thread may be in or return into. */
export interface UnsafeRange {
  name: string;
  start: bigint;
  end: bigint;
  /** How the message explains it. */
  why: 'replaces' | 'marks unsafe';
}

/** The functions the patch replaces plus those it lists as unsafe, at run-time addresses. */
export function unsafeRanges(po: PatchObject, bias: bigint): UnsafeRange[] {
  const ranges: UnsafeRange[] = [];
  for (const f of po.functions) {
    if (f.replaces === undefined) continue;
    ranges.push({ name: f.name, start: f.replaces.address + bias, end: f.replaces.address + bias + BigInt(f.replaces.size), why: 'replaces' });
  }
  for (const u of po.unsafe) {
    const start = u.address + bias;
    if (ranges.some((r) => r.start === start)) continue;
    ranges.push({ name: u.name, start, end: start + BigInt(u.size), why: u.redirectTo === undefined ? 'marks unsafe' : 'replaces' });
  }
  return ranges;
}

/** What a stopped thread shows the check. */
export interface ThreadState {
  tid: number;
  rip: bigint;
  rsp: bigint;
}

/** True when the bytes just before `at` (an index into code) end with a call instruction. */
export function followsCall(code: Uint8Array, at: number): boolean {
  const byte = (i: number): number => (i >= 0 && i < code.length ? code[i]! : -1);
  const isCallModrm = (i: number): boolean => byte(i) >= 0 && ((byte(i) >> 3) & 7) === 2;
  if (byte(at - 5) === 0xe8) return true;
  for (const length of [2, 3, 6, 7]) {
    const i = at - length;
    if (byte(i) === 0xff && isCallModrm(i + 1)) return true;
    if ((byte(i) & 0xf0) === 0x40 && byte(i + 1) === 0xff && isCallModrm(i + 2)) return true;
  }
  return false;
}

/** The safety check of one patch: code bytes read up front, threads checked inside the stop. */
export class SafetyCheck {
  // Ranges as plain numbers: user-space addresses are below 2^47, so they are exact as doubles,
  // and number compares in the stack scan are far cheaper than BigInt ones inside the stop window.
  readonly #ranges: { range: UnsafeRange; code: Uint8Array; codeStart: number; start: number; end: number }[];

  /** Reads the code of every unsafe range (plus the 7 bytes before it) from the running process. */
  constructor(readonly ranges: UnsafeRange[], private readonly memory: ProcessMemory, private readonly maps: readonly MapEntry[]) {
    this.#ranges = ranges.map((range) => {
      // The bytes before the function may be unmapped; zeros there never look like a call.
      const codeStart = range.start - BigInt(LONGEST_CALL);
      const before = memory.tryRead(codeStart, LONGEST_CALL) ?? new Uint8Array(LONGEST_CALL);
      const body = memory.read(range.start, Number(range.end - range.start));
      const code = new Uint8Array(LONGEST_CALL + body.length);
      code.set(before, 0);
      code.set(body, LONGEST_CALL);
      return { range, codeStart: Number(codeStart), code, start: Number(range.start), end: Number(range.end) };
    });
  }

  /** Throws UnsafeStateError when the thread is in, or will return into, an unsafe function. */
  assertSafe(thread: ThreadState): void {
    const problem = this.check(thread);
    if (problem !== undefined) throw problem;
  }

  /** The UnsafeStateError assertSafe would throw for this thread, or undefined when it is safe. */
  check(thread: ThreadState): UnsafeStateError | undefined {
    const at = this.#rangeOf(Number(thread.rip));
    if (at !== undefined) return new UnsafeStateError(thread.tid, at.range.name, 'is in', at.range.why);
    const hit = this.#scan(this.#readStack(thread.rsp));
    return hit === undefined ? undefined : new UnsafeStateError(thread.tid, hit.range.name, 'will return into', hit.range.why);
  }

  /**
   * Runs the stack scan over a zeroed stack-sized buffer, so V8 has optimised the loop before the
   * stop window needs it (a cold, interpreted scan of a few KB costs hundreds of µs; a warm one a
   * few). Finds nothing, by construction: zero is in no function.
   */
  warmUp(): void {
    const zeros = new Uint8Array(256 * 1024);
    for (let i = 0; i < 4; i++) this.#scan(zeros);
  }

  // The first return address into an unsafe range: a word pointing into one, right after a call.
  #scan(bytes: Uint8Array): { range: UnsafeRange } | undefined {
    const stack = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes); // Uint32Array needs alignment
    const words = new Uint32Array(stack.buffer, stack.byteOffset, stack.length >>> 2);
    for (let i = 0; i + 1 < words.length; i += 2) {
      const high = words[i + 1]!;
      if (high > 0xffff) continue; // not a user-space address
      const word = high * 0x1_0000_0000 + words[i]!;
      const hit = this.#rangeOf(word);
      if (hit !== undefined && followsCall(hit.code, word - hit.codeStart)) return hit;
    }
    return undefined;
  }

  #rangeOf(address: number): { range: UnsafeRange; code: Uint8Array; codeStart: number } | undefined {
    for (const r of this.#ranges) if (address >= r.start && address < r.end) return r;
    return undefined;
  }

  /** From rsp to the end of its mapping (capped); page by page when the mapping is newer than our maps. */
  #readStack(rsp: bigint): Uint8Array {
    const mapping = this.maps.find((m) => rsp >= m.start && rsp < m.end);
    if (mapping !== undefined) {
      const length = Math.min(Number(mapping.end - rsp), STACK_SCAN_LIMIT);
      return this.memory.tryRead(rsp, length) ?? new Uint8Array(0);
    }
    const chunks: Uint8Array[] = [];
    let address = rsp;
    let total = 0;
    while (total < STACK_SCAN_LIMIT) {
      const pageEnd = (address + BigInt(PAGE)) & ~BigInt(PAGE - 1);
      const chunk = this.memory.tryRead(address, Number(pageEnd - address));
      if (chunk === null) break;
      chunks.push(chunk);
      total += chunk.length;
      address = pageEnd;
    }
    return Buffer.concat(chunks);
  }
}
