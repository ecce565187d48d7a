// Reads the target's memory for the unwinder, one 4 KiB page per pread, cached for one unwind: a
// stack walk touches a few pages many times. Never throws: an unreadable page (unmapped, or the
// process gone) is undefined, and the unwinder reports an unreliable stack instead of failing.
import type { ProcessMemory } from '@katana/ptrace';

const PAGE = 0x1000n;

/** Cached, non-throwing reads of little-endian values in a stopped process. */
export class MemoryView {
  readonly #pages = new Map<bigint, Uint8Array | null>();

  constructor(private readonly memory: ProcessMemory) {}

  /** `size` bytes (1, 2, 4 or 8) at `address` as an unsigned value, or undefined when unreadable. */
  read(address: bigint, size: number): bigint | undefined {
    const bytes = this.bytes(address, size);
    if (bytes === undefined) return undefined;
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    return value;
  }

  /** `length` bytes at `address` (at most one page further), or undefined when any is unreadable. */
  bytes(address: bigint, length: number): Uint8Array | undefined {
    if (address < 0n || address + BigInt(length) > 0x7fffffffffffn) return undefined;
    const first = address & ~(PAGE - 1n);
    const offset = Number(address - first);
    const page = this.#page(first);
    if (page === undefined) return undefined;
    if (offset + length <= page.length) return page.subarray(offset, offset + length);
    const next = this.#page(first + PAGE);
    if (next === undefined || offset + length > page.length + next.length) return undefined;
    const out = new Uint8Array(length);
    out.set(page.subarray(offset));
    out.set(next.subarray(0, length - (page.length - offset)), page.length - offset);
    return out;
  }

  #page(address: bigint): Uint8Array | undefined {
    let page = this.#pages.get(address);
    if (page === undefined) {
      try {
        page = this.memory.tryRead(address, Number(PAGE));
      } catch {
        page = null; // the process died or /proc/PID/mem refused: as good as unmapped
      }
      this.#pages.set(address, page);
    }
    return page ?? undefined;
  }
}
