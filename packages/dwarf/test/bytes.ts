// Test-only byte builder for hand-made DWARF (after gimli's test-assembler): little-endian
// integers, LEB128 and strings appended in order, with the current offset for back-patching.

/** Appends little-endian DWARF encodings to a growing byte array. */
export class Bytes {
  private readonly out: number[] = [];

  get offset(): number {
    return this.out.length;
  }

  u8(...values: number[]): this {
    for (const v of values) this.out.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.u8(v, v >> 8);
  }

  u32(v: number): this {
    return this.u8(v, v >> 8, v >> 16, v >>> 24);
  }

  u64(v: bigint): this {
    for (let i = 0n; i < 8n; i++) this.out.push(Number((v >> (8n * i)) & 0xffn));
    return this;
  }

  uleb(v: number | bigint): this {
    let n = BigInt(v);
    do {
      const byte = Number(n & 0x7fn);
      n >>= 7n;
      this.out.push(n !== 0n ? byte | 0x80 : byte);
    } while (n !== 0n);
    return this;
  }

  sleb(v: number | bigint): this {
    let n = BigInt(v);
    for (;;) {
      const byte = Number(n & 0x7fn);
      n >>= 7n;
      const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
      this.out.push(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }

  cstr(s: string): this {
    for (const b of new TextEncoder().encode(s)) this.out.push(b);
    return this.u8(0);
  }

  /** Overwrites a u32 at `at` (a unit_length once the unit is complete). */
  patch32(at: number, v: number): this {
    for (let i = 0; i < 4; i++) this.out[at + i] = (v >>> (8 * i)) & 0xff;
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}
