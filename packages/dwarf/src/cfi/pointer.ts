// Reads a pointer encoded with a DW_EH_PE_* byte (LSB 5.0 §10.5.1): the low nibble gives the
// format (absptr, udata2/4/8, sdata2/4/8, uleb128, sleb128), bits 4-6 what it is relative to
// (pcrel: the address of the encoded field itself; textrel/datarel/funcrel: a base the caller
// supplies; aligned: an absptr at the next 8-byte boundary), and 0x80 that the result is the address
// of the real pointer (indirect, e.g. DW.ref.__gcc_personality_v0). `.eh_frame` bytes are read at
// the address they sit at, so a pcrel value is exact whether that is a link-time or run-time address.
import type { Cursor } from '../cursor.js';
import {
  DW_EH_PE_absptr, DW_EH_PE_aligned, DW_EH_PE_datarel, DW_EH_PE_funcrel, DW_EH_PE_indirect, DW_EH_PE_omit,
  DW_EH_PE_pcrel, DW_EH_PE_sdata2, DW_EH_PE_sdata4, DW_EH_PE_sdata8, DW_EH_PE_sleb128, DW_EH_PE_textrel,
  DW_EH_PE_udata2, DW_EH_PE_udata4, DW_EH_PE_udata8, DW_EH_PE_uleb128,
} from './constants.js';

/** The addresses the relative encodings add to a value. */
export interface PointerBases {
  /** Address of the first byte of the section being read (pcrel adds it plus the field's offset). */
  section: bigint;
  /** Base of DW_EH_PE_textrel (the start of .text), when known. */
  text?: bigint;
  /** Base of DW_EH_PE_datarel (on x86-64, the start of .got), when known. */
  data?: bigint;
  /** Base of DW_EH_PE_funcrel (the start of the FDE's function), when known. */
  func?: bigint;
}

/** A decoded pointer: `value`, or, when `indirect`, the address where the value is stored. */
export interface EncodedPointer {
  value: bigint;
  indirect: boolean;
}

/** True when `encoding` is one this reader knows (DW_EH_PE_omit included). */
export function isKnownEncoding(encoding: number): boolean {
  if (encoding === DW_EH_PE_omit) return true;
  const format = encoding & 0x0f;
  const application = encoding & 0x70;
  return [0x0, 0x1, 0x2, 0x3, 0x4, 0x9, 0xa, 0xb, 0xc].includes(format) && application <= DW_EH_PE_aligned;
}

/** The raw value of `encoding`'s format (no application), as a 64-bit unsigned bigint. */
export function readEncodedValue(c: Cursor, encoding: number): bigint {
  switch (encoding & 0x0f) {
    case DW_EH_PE_absptr: return c.u64();
    case DW_EH_PE_uleb128: return c.uleb();
    case DW_EH_PE_udata2: return BigInt(c.u16());
    case DW_EH_PE_udata4: return BigInt(c.u32());
    case DW_EH_PE_udata8: return c.u64();
    case DW_EH_PE_sleb128: return BigInt.asUintN(64, c.sleb());
    case DW_EH_PE_sdata2: return BigInt.asUintN(64, BigInt.asIntN(16, BigInt(c.u16())));
    case DW_EH_PE_sdata4: return BigInt.asUintN(64, BigInt.asIntN(32, BigInt(c.u32())));
    case DW_EH_PE_sdata8: return c.u64();
    default:
      c.fail(`unknown pointer encoding DW_EH_PE 0x${encoding.toString(16)}`);
      return 0n;
  }
}

/** Reads one pointer encoded as `encoding` (not DW_EH_PE_omit) at the cursor. */
export function readEncodedPointer(c: Cursor, encoding: number, bases: PointerBases): EncodedPointer {
  const application = encoding & 0x70;
  if (application === DW_EH_PE_aligned) {
    c.skip((8 - (c.offset % 8)) % 8);
    return { value: c.u64(), indirect: (encoding & DW_EH_PE_indirect) !== 0 };
  }
  const fieldAddress = bases.section + BigInt(c.offset);
  const raw = readEncodedValue(c, encoding);
  let base = 0n;
  switch (application) {
    case DW_EH_PE_absptr: break;
    case DW_EH_PE_pcrel: base = fieldAddress; break;
    case DW_EH_PE_textrel: base = bases.text ?? missing(c, 'textrel', 'a .text address'); break;
    case DW_EH_PE_datarel: base = bases.data ?? missing(c, 'datarel', 'a data (.got) address'); break;
    case DW_EH_PE_funcrel: base = bases.func ?? missing(c, 'funcrel', 'a function start'); break;
    default:
      c.fail(`unknown pointer application DW_EH_PE 0x${encoding.toString(16)}`);
  }
  return { value: BigInt.asUintN(64, base + raw), indirect: (encoding & DW_EH_PE_indirect) !== 0 };
}

function missing(c: Cursor, application: string, base: string): bigint {
  c.fail(`DW_EH_PE_${application} pointer but no ${base} was given`);
  return 0n;
}
