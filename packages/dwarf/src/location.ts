// Static locations of variables: the DW_AT_location expressions that name a fixed address,
// [DW_OP_addr A] or [DW_OP_addrx i], and thread-local offsets [DW_OP_const8u N;
// DW_OP_GNU_push_tls_address] (DWARF 5 §2.5, §7.7.1). Anything else (registers, frame offsets,
// location lists) is not a static location. In a .o, the relocation that filled in A says which
// symbol the variable is: `counter`, or a section symbol `.bss.origin` for a static.
import * as C from './constants.js';
import { Cursor } from './cursor.js';
import type { VariableLocation } from './model.js';
import { attr } from './read/die.js';
import type { Die } from './read/die.js';
import { addressAtIndex } from './read/form.js';
import type { DebugSections } from './sections.js';

/** The static location of `die` (DW_AT_location), or undefined when it has none. */
export function staticLocation(die: Die, sections: DebugSections): VariableLocation | undefined {
  const a = attr(die, C.DW_AT_location);
  if (!a || (a.value.class !== 'exprloc' && a.value.class !== 'block')) return undefined;
  const expr = a.value.value;
  const info = sections.info!;
  // The expression is a view into the relocated .debug_info, so its byteOffset gives its offset
  // in the section, where the relocation of an operand was recorded.
  const start = expr.byteOffset - info.bytes.byteOffset;
  const c = new Cursor(info.name, info.bytes, start, start + expr.length);
  const size = die.unit.addressSize;
  const op = c.u8();
  let value: { value: bigint; target: VariableLocation['target'] } | undefined;
  switch (op) {
    case C.DW_OP_addr: {
      const at = c.offset;
      value = { value: c.uint(size), target: info.relocations.get(at) };
      break;
    }
    case C.DW_OP_addrx:
    case C.DW_OP_GNU_addr_index: {
      const entry = addressAtIndex({ sections, addrBase: die.unit.addrBase, addressSize: size }, c.ulebNumber());
      if (typeof entry !== 'string') value = entry;
      break;
    }
    case C.DW_OP_const8u:
    case C.DW_OP_const4u: {
      const at = c.offset;
      value = { value: op === C.DW_OP_const8u ? c.u64() : BigInt(c.u32()), target: info.relocations.get(at) };
      const tls = c.u8();
      if (tls !== C.DW_OP_GNU_push_tls_address && tls !== C.DW_OP_form_tls_address) return undefined;
      if (c.error || c.offset !== c.end) return undefined;
      return { kind: 'tls', address: value.value, target: value.target };
    }
    default:
      return undefined;
  }
  if (!value || c.error || c.offset !== c.end) return undefined;
  return { kind: 'address', address: value.value, target: value.target };
}
