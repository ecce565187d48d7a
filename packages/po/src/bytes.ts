// A little-endian byte builder for the DWARF sections the PO writer encodes (.debug_info,
// .debug_abbrev, .debug_frame and the expressions inside them).

/** A little-endian byte builder. */
export class Bytes {
  #data: number[] = [];

  get length(): number {
    return this.#data.length;
  }

  u8(v: number): this {
    this.#data.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }

  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }

  u64(v: bigint): this {
    return this.u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n));
  }

  setU32(at: number, v: number): void {
    for (let i = 0; i < 4; i++) this.#data[at + i] = (v >>> (8 * i)) & 0xff;
  }

  u8s(bytes: Uint8Array): this {
    for (const b of bytes) this.#data.push(b);
    return this;
  }

  uleb(v: number): this {
    do {
      let byte = v & 0x7f;
      v = Math.floor(v / 128);
      if (v !== 0) byte |= 0x80;
      this.#data.push(byte);
    } while (v !== 0);
    return this;
  }

  cstring(s: string): this {
    for (const b of new TextEncoder().encode(s)) this.#data.push(b);
    return this.u8(0);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.#data);
  }
}
