// A sticky-error little-endian cursor over one DWARF section (after Go's dwarf/buf.go): reads past
// the end or malformed LEB128 record the first error and return zeros from then on, so a decoder
// reads a whole record and checks once with `check()`. Offsets are section offsets, so errors can
// name the place that went wrong.
import { DwarfFormatError } from './errors.js';

const decoder = new TextDecoder('utf-8');

/** A reading position in one section's bytes, with a sticky first error. */
export class Cursor {
  readonly section: string;
  readonly bytes: Uint8Array;
  /** Current offset within `bytes`. */
  offset: number;
  /** End of the readable window (exclusive); a unit narrows it to its own end. */
  end: number;
  /** The first error met, or undefined. */
  error: DwarfFormatError | undefined;
  private readonly view: DataView;

  constructor(section: string, bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.section = section;
    this.bytes = bytes;
    this.offset = offset;
    this.end = Math.min(end, bytes.length);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Records `reason` at the current offset unless an error is already recorded. */
  fail(reason: string, at = this.offset): void {
    if (!this.error) this.error = new DwarfFormatError(this.section, at, reason);
    this.offset = this.end;
  }

  /** Throws the recorded error, if any. */
  check(): void {
    if (this.error) throw this.error;
  }

  /** True when no error is recorded and bytes remain. */
  get more(): boolean {
    return !this.error && this.offset < this.end;
  }

  private take(n: number): number {
    const at = this.offset;
    if (this.error || n < 0 || at + n > this.end) {
      this.fail(`unexpected end of data reading ${n} bytes`, at);
      return -1;
    }
    this.offset = at + n;
    return at;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.bytes[at]!;
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.view.getUint16(at, true);
  }

  u24(): number {
    const at = this.take(3);
    return at < 0 ? 0 : this.bytes[at]! | (this.bytes[at + 1]! << 8) | (this.bytes[at + 2]! << 16);
  }

  u32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.view.getUint32(at, true);
  }

  u64(): bigint {
    const at = this.take(8);
    return at < 0 ? 0n : this.view.getBigUint64(at, true);
  }

  /** An unsigned integer of `size` bytes (1, 2, 4 or 8) as bigint. */
  uint(size: number): bigint {
    switch (size) {
      case 1: return BigInt(this.u8());
      case 2: return BigInt(this.u16());
      case 4: return BigInt(this.u32());
      case 8: return this.u64();
      default:
        this.fail(`unsupported integer size ${size}`);
        return 0n;
    }
  }

  /** An unsigned LEB128 (DWARF 5 §7.6) as bigint. */
  uleb(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.u8();
      if (this.error) return 0n;
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return result;
      if (shift > 70n) {
        this.fail('LEB128 longer than 10 bytes');
        return 0n;
      }
    }
  }

  /** A signed LEB128 (DWARF 5 §7.6) as bigint. */
  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.u8();
      if (this.error) return 0n;
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return (b & 0x40) !== 0 ? result - (1n << shift) : result;
      if (shift > 70n) {
        this.fail('LEB128 longer than 10 bytes');
        return 0n;
      }
    }
  }

  /**
   * An unsigned LEB128 that must fit a JavaScript number (counts, indices, offsets, codes); a fast
   * path for the common one- and two-byte encodings.
   */
  ulebNumber(): number {
    const at = this.offset;
    if (!this.error && at < this.end && this.bytes[at]! < 0x80) {
      this.offset = at + 1;
      return this.bytes[at]!;
    }
    const value = this.uleb();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.fail(`LEB128 value 0x${value.toString(16)} too large`, at);
      return 0;
    }
    return Number(value);
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const at = this.offset;
    if (this.error) return '';
    const nul = this.bytes.indexOf(0, at);
    if (nul < 0 || nul >= this.end) {
      this.fail('unterminated string', at);
      return '';
    }
    this.offset = nul + 1;
    return decoder.decode(this.bytes.subarray(at, nul));
  }

  /** `n` raw bytes (a view into the section). */
  bytesOf(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? new Uint8Array(0) : this.bytes.subarray(at, at + n);
  }

  /** Advances `n` bytes. */
  skip(n: number): void {
    this.take(n);
  }
}
