// Non-contiguous address ranges of a DIE (DW_AT_ranges): DWARF 5 range lists in .debug_rnglists
// (DWARF 5 §2.17.3, §7.25), reached by DW_FORM_sec_offset or by DW_FORM_rnglistx through the
// unit's offset table at DW_AT_rnglists_base, and DWARF 2-4 pairs in .debug_ranges. Offsets are
// relative to the unit's base address (its DW_AT_low_pc) until a base-address entry changes it.
// In a .o each start address keeps the relocation target that produced it ('.text.tick').
import { Cursor } from '../cursor.js';
import * as F from '../constants.js';
import { DwarfFormatError } from '../errors.js';
import type { RelocTarget } from '../sections.js';
import type { DebugSections } from '../sections.js';
import type { AttributeValue, Unit } from './die.js';
import { addressAtIndex } from './form.js';

/** A half-open address range [low, high). */
export interface AddressRange {
  low: bigint;
  high: bigint;
  /** In a .o: what the relocation behind `low` (or the base it is relative to) pointed at. */
  target: RelocTarget | undefined;
}

/** A base or start address with the relocation target it came from. */
interface Located {
  value: bigint;
  target: RelocTarget | undefined;
}

/** The ranges a DW_AT_ranges value names, given the unit's base address; throws DwarfFormatError. */
export function readRanges(sections: DebugSections, unit: Unit, value: AttributeValue, base: Located): AddressRange[] {
  if (unit.version >= 5) {
    const rnglists = sections.rnglists;
    if (!rnglists) throw new DwarfFormatError('.debug_info', unit.offset, 'DW_AT_ranges refers to .debug_rnglists, which the file lacks');
    let offset: number;
    if (value.class === 'sec_offset') offset = value.value;
    else if (value.class === 'rnglistx') {
      if (unit.rnglistsBase === undefined) throw new DwarfFormatError('.debug_info', unit.offset, 'DW_FORM_rnglistx without DW_AT_rnglists_base');
      const c = new Cursor(rnglists.name, rnglists.bytes, unit.rnglistsBase + value.value * 4);
      offset = unit.rnglistsBase + c.u32();
      c.check();
    } else throw new DwarfFormatError('.debug_info', unit.offset, `DW_AT_ranges of class ${value.class}`);
    return readRngList(sections, unit, offset, base);
  }
  if (value.class !== 'sec_offset' && value.class !== 'constant') {
    throw new DwarfFormatError('.debug_info', unit.offset, `DW_AT_ranges of class ${value.class}`);
  }
  return readDebugRanges(sections, unit, Number(value.value), base);
}

function readRngList(sections: DebugSections, unit: Unit, offset: number, initialBase: Located): AddressRange[] {
  const section = sections.rnglists!;
  const c = new Cursor(section.name, section.bytes, offset);
  if (offset >= section.bytes.length) c.fail(`range list offset 0x${offset.toString(16)} beyond the section`);
  const size = unit.addressSize;
  const address = (): Located => {
    const at = c.offset;
    return { value: c.uint(size), target: section.relocations.get(at) };
  };
  const indexed = (): Located => {
    const index = c.ulebNumber();
    if (c.error) return { value: 0n, target: undefined };
    const entry = addressAtIndex({ sections, addrBase: unit.addrBase, addressSize: size }, index);
    if (typeof entry === 'string') {
      c.fail(entry);
      return { value: 0n, target: undefined };
    }
    return entry;
  };
  let base = initialBase;
  const ranges: AddressRange[] = [];
  while (c.more) {
    const at = c.offset;
    const kind = c.u8();
    if (kind === F.DW_RLE_end_of_list) break;
    switch (kind) {
      case F.DW_RLE_base_addressx: base = indexed(); break;
      case F.DW_RLE_base_address: base = address(); break;
      case F.DW_RLE_startx_endx: {
        const start = indexed();
        ranges.push({ low: start.value, high: indexed().value, target: start.target });
        break;
      }
      case F.DW_RLE_startx_length: {
        const start = indexed();
        ranges.push({ low: start.value, high: start.value + c.uleb(), target: start.target });
        break;
      }
      case F.DW_RLE_offset_pair: {
        const low = base.value + c.uleb();
        ranges.push({ low, high: base.value + c.uleb(), target: base.target });
        break;
      }
      case F.DW_RLE_start_end: {
        const start = address();
        ranges.push({ low: start.value, high: address().value, target: start.target });
        break;
      }
      case F.DW_RLE_start_length: {
        const start = address();
        ranges.push({ low: start.value, high: start.value + c.uleb(), target: start.target });
        break;
      }
      default:
        c.fail(`unknown range list entry kind 0x${kind.toString(16)}`, at);
    }
  }
  c.check();
  return ranges;
}

function readDebugRanges(sections: DebugSections, unit: Unit, offset: number, initialBase: Located): AddressRange[] {
  const section = sections.ranges;
  if (!section) throw new DwarfFormatError('.debug_info', unit.offset, 'DW_AT_ranges refers to .debug_ranges, which the file lacks');
  const c = new Cursor(section.name, section.bytes, offset);
  if (offset >= section.bytes.length) c.fail(`range list offset 0x${offset.toString(16)} beyond the section`);
  const size = unit.addressSize;
  const all = size === 8 ? 0xffffffffffffffffn : 0xffffffffn;
  let base = initialBase;
  const ranges: AddressRange[] = [];
  while (c.more) {
    const at = c.offset;
    const begin = c.uint(size);
    const end = c.uint(size);
    const target = section.relocations.get(at);
    // (0, 0) ends the list, unless relocations made it so (a range at the start of a .o section).
    if (begin === 0n && end === 0n && !target && !section.relocations.has(at + size)) break;
    if (begin === all) base = { value: end, target: section.relocations.get(at + size) };
    else if (target) ranges.push({ low: begin, high: end, target });
    else ranges.push({ low: base.value + begin, high: base.value + end, target: base.target });
  }
  c.check();
  return ranges;
}
