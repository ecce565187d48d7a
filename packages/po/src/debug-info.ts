// The PO's .debug_info and .debug_abbrev (the paper's Figure 4): one DWARF 5 compile unit per
// source file, named after it, holding a DW_TAG_subprogram for each function of the patch with its
// name, DW_AT_external for globals, and low/high pc in .text.new. This is where the source file of
// a global function lives (ELF ties a file only to local symbols). Low pcs are filled in by
// R_X86_64_64 relocations against .text.new, as in any compiler's object.
import {
  DW_AT_external,
  DW_AT_high_pc,
  DW_AT_language,
  DW_AT_low_pc,
  DW_AT_name,
  DW_AT_producer,
  DW_CHILDREN_no,
  DW_CHILDREN_yes,
  DW_FORM_addr,
  DW_FORM_data2,
  DW_FORM_data8,
  DW_FORM_flag_present,
  DW_FORM_string,
  DW_LANG,
  DW_TAG_compile_unit,
  DW_TAG_subprogram,
  DW_UT_compile,
} from '@katana/dwarf';

/** A function as .debug_info describes it. */
export interface DescribedFunction {
  name: string;
  file: string;
  external: boolean;
  /** Offset of its code in .text.new. */
  offset: number;
  size: number;
}

/** The encoded sections plus where .debug_info needs a relocation against .text.new. */
export interface EncodedDebugInfo {
  abbrev: Uint8Array;
  info: Uint8Array;
  /** Offsets in .debug_info of each DW_AT_low_pc, with the .text.new offset it must hold. */
  lowPcs: { at: number; textOffset: number }[];
  /** Offsets in .debug_info of each unit's debug_abbrev_offset (all 0: one shared table). */
  abbrevOffsets: number[];
}

const ABBREV_UNIT = 1;
const ABBREV_GLOBAL = 2;
const ABBREV_LOCAL = 3;

/** Encodes the compile units and subprograms of a patch's functions. */
export function encodeDebugInfo(functions: DescribedFunction[], producer: string): EncodedDebugInfo {
  const abbrev = new Bytes();
  abbrev.uleb(ABBREV_UNIT).uleb(DW_TAG_compile_unit).u8(DW_CHILDREN_yes);
  abbrev.uleb(DW_AT_producer).uleb(DW_FORM_string).uleb(DW_AT_language).uleb(DW_FORM_data2).uleb(DW_AT_name).uleb(DW_FORM_string).uleb(0).uleb(0);
  for (const [code, external] of [[ABBREV_GLOBAL, true], [ABBREV_LOCAL, false]] as const) {
    abbrev.uleb(code).uleb(DW_TAG_subprogram).u8(DW_CHILDREN_no).uleb(DW_AT_name).uleb(DW_FORM_string);
    if (external) abbrev.uleb(DW_AT_external).uleb(DW_FORM_flag_present);
    abbrev.uleb(DW_AT_low_pc).uleb(DW_FORM_addr).uleb(DW_AT_high_pc).uleb(DW_FORM_data8).uleb(0).uleb(0);
  }
  abbrev.uleb(0);

  const info = new Bytes();
  const lowPcs: EncodedDebugInfo['lowPcs'] = [];
  const abbrevOffsets: number[] = [];
  const files = [...new Set(functions.map((f) => f.file))].sort();
  for (const file of files) {
    const start = info.length;
    info.u32(0).u16(5).u8(DW_UT_compile).u8(8); // unit_length patched below; DWARF 5 header
    abbrevOffsets.push(info.length);
    info.u32(0);
    info.uleb(ABBREV_UNIT).cstring(producer).u16(DW_LANG.DW_LANG_C11).cstring(file || '<unknown>');
    for (const f of functions.filter((g) => g.file === file)) {
      info.uleb(f.external ? ABBREV_GLOBAL : ABBREV_LOCAL).cstring(f.name);
      lowPcs.push({ at: info.length, textOffset: f.offset });
      info.u64(0n).u64(BigInt(f.size));
    }
    info.u8(0); // end of the unit's children
    info.setU32(start, info.length - start - 4);
  }
  return { abbrev: abbrev.bytes(), info: info.bytes(), lowPcs, abbrevOffsets };
}

/** A little-endian byte builder. */
class Bytes {
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
