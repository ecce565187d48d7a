// String tables (gABI "String Table"): NUL-terminated strings addressed by byte offset. StringTable
// reads them, checking that the offset lies inside the table and that a NUL ends the string there,
// and caches decoded strings (a .dynstr serves thousands of lookups). StringTableBuilder writes one:
// byte 0 is the empty string, and equal strings share one entry.
import { ElfFormatError, type ElfErrorSite } from './errors.js';

const decoder = new TextDecoder('utf-8');

/** A read-only view of one string table section. */
export class StringTable {
  private readonly cache = new Map<number, string>();

  constructor(
    private readonly bytes: Uint8Array,
    /** Name of the table, for messages (".strtab"). */
    readonly name: string,
    /** Where errors are reported: the section holding the references. */
    private readonly site: ElfErrorSite,
  ) {}

  /** The string at `offset`; throws ElfFormatError when it is outside the table or unterminated. */
  get(offset: number, at?: number): string {
    const hit = this.cache.get(offset);
    if (hit !== undefined) return hit;
    if (offset >= this.bytes.length) {
      throw new ElfFormatError(`name offset 0x${offset.toString(16)} beyond ${this.name}`, { ...this.site, offset: at });
    }
    const end = this.bytes.indexOf(0, offset);
    if (end < 0) {
      throw new ElfFormatError(`name at 0x${offset.toString(16)} in ${this.name} is not NUL-terminated`, { ...this.site, offset: at });
    }
    const s = decoder.decode(this.bytes.subarray(offset, end));
    this.cache.set(offset, s);
    return s;
  }
}

/** Builds a string table; add() returns each string's offset. */
export class StringTableBuilder {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;

  /** Adds `s` (once) and returns its offset in the table. */
  add(s: string): number {
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    const encoded = new TextEncoder().encode(s + '\0');
    const offset = this.size;
    this.parts.push(encoded);
    this.size += encoded.length;
    this.offsets.set(s, offset);
    return offset;
  }

  /** The table's bytes. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
