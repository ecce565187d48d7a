// A little-endian byte cursor with a sticky error, after Go's debug/dwarf buf.go: decoders read a
// whole record field by field, and a read past the end sets `error` and yields 0 instead of
// throwing; the decoder calls check() once per record, which raises an ElfFormatError naming the
// section and the offset of the first bad read. Also the one checked bigint → number conversion.
import { ElfFormatError, type ElfErrorSite } from './errors.js';

/** Converts a 64-bit file field to number, or throws ElfFormatError above Number.MAX_SAFE_INTEGER. */
export function toSafeNumber(value: bigint, what: string, site: ElfErrorSite = {}): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < 0n) {
    throw new ElfFormatError(`${what} 0x${value.toString(16)} is too large`, site);
  }
  return Number(value);
}

/** Sequential little-endian reader over `bytes`; offsets it reports are relative to `base`. */
export class Cursor {
  private readonly view: DataView;
  /** Position within `bytes`. */
  pos: number;
  /** First error met, with the absolute file offset of the failing read. */
  error: { detail: string; offset: number } | undefined;

  constructor(
    readonly bytes: Uint8Array,
    pos: number,
    /** File offset of bytes[0], so errors report file offsets. */
    readonly base: number,
    readonly site: ElfErrorSite,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  private take(n: number, what: string): number {
    const at = this.pos;
    if (this.error !== undefined) return -1;
    if (at < 0 || at + n > this.bytes.length) {
      this.error = { detail: `unexpected end of data reading ${what}`, offset: this.base + at };
      return -1;
    }
    this.pos = at + n;
    return at;
  }

  u8(what = 'byte'): number {
    const at = this.take(1, what);
    return at < 0 ? 0 : this.view.getUint8(at);
  }

  u16(what = 'u16'): number {
    const at = this.take(2, what);
    return at < 0 ? 0 : this.view.getUint16(at, true);
  }

  u32(what = 'u32'): number {
    const at = this.take(4, what);
    return at < 0 ? 0 : this.view.getUint32(at, true);
  }

  u64(what = 'u64'): bigint {
    const at = this.take(8, what);
    return at < 0 ? 0n : this.view.getBigUint64(at, true);
  }

  i64(what = 'i64'): bigint {
    const at = this.take(8, what);
    return at < 0 ? 0n : this.view.getBigInt64(at, true);
  }

  /** A u64 size or offset as a number; sets the sticky error when it exceeds MAX_SAFE_INTEGER. */
  u64n(what: string): number {
    const start = this.base + this.pos;
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) && this.error === undefined) {
      this.error = { detail: `${what} 0x${v.toString(16)} is too large`, offset: start };
      return 0;
    }
    return Number(v);
  }

  /** Records a decoder-detected problem at the current position (the first one sticks). */
  fail(detail: string, at = this.pos): void {
    if (this.error === undefined) this.error = { detail, offset: this.base + at };
  }

  /** Throws the sticky error, if any, as an ElfFormatError. */
  check(): void {
    if (this.error !== undefined) {
      throw new ElfFormatError(this.error.detail, { ...this.site, offset: this.error.offset });
    }
  }
}
