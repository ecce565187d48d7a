// .debug_info: unit headers (DWARF 2-5, 32-bit format) and the DIE tree of each compile and partial
// unit. Type, skeleton and split units are skipped whole (their unit_length says where the next unit
// starts). The tree is built iteratively: a DIE whose abbreviation has children opens a level that
// a null entry (code 0) closes, so malformed nesting cannot exhaust the JavaScript stack.
import { Cursor } from '../cursor.js';
import {
  DW_UT_compile, DW_UT_partial, DW_AT_str_offsets_base, DW_AT_addr_base, DW_AT_rnglists_base,
  DW_AT_GNU_addr_base, DW_AT_GNU_ranges_base, utName,
} from '../constants.js';
import { DwarfFormatError } from '../errors.js';
import type { DebugSections } from '../sections.js';
import { parseAbbrevTable } from './abbrev.js';
import type { Abbrev, AbbrevTable } from './abbrev.js';
import { infoOffset } from './die.js';
import type { Attribute, Die, Unit } from './die.js';
import { readForm } from './form.js';
import type { FormContext } from './form.js';

/** The unit_length escape that introduces the 64-bit DWARF format (DWARF 5 §7.4). */
const DWARF64_ESCAPE = 0xffffffff;
/** unit_length values from here up are reserved (DWARF 5 §7.2.2). */
const RESERVED_LENGTH = 0xfffffff0;

/** Every compile and partial unit of .debug_info, with its DIE tree; throws DwarfFormatError. */
export function readUnits(sections: DebugSections): Unit[] {
  const info = sections.info;
  if (!info) return [];
  if (!sections.abbrev) throw new DwarfFormatError('.debug_abbrev', 0, 'the file has .debug_info but no .debug_abbrev');
  const abbrevs = new Map<number, AbbrevTable>();
  const units: Unit[] = [];
  const c = new Cursor(info.name, info.bytes);
  while (c.more) {
    const start = c.offset;
    const length = c.u32();
    if (length === DWARF64_ESCAPE) c.fail('64-bit DWARF format is not supported', start);
    else if (length >= RESERVED_LENGTH) c.fail(`reserved unit_length 0x${length.toString(16)}`, start);
    const end = c.offset + length;
    if (end > info.bytes.length) c.fail(`unit_length 0x${length.toString(16)} runs past the end of the section`, start);
    const version = c.u16();
    if (!c.error && (version < 2 || version > 5)) c.fail(`unsupported DWARF version ${version}`, start + 4);
    let unitType: number = DW_UT_compile;
    let addressSize: number;
    let abbrevOffset: number;
    if (version >= 5) {
      unitType = c.u8();
      addressSize = c.u8();
      abbrevOffset = c.u32();
    } else {
      abbrevOffset = c.u32();
      addressSize = c.u8();
    }
    c.check();
    if (unitType !== DW_UT_compile && unitType !== DW_UT_partial) {
      c.offset = end;
      continue;
    }
    if (addressSize !== 4 && addressSize !== 8) c.fail(`unsupported address size ${addressSize}`, start);
    c.check();
    let table = abbrevs.get(abbrevOffset);
    if (!table) {
      table = parseAbbrevTable(sections.abbrev, abbrevOffset);
      abbrevs.set(abbrevOffset, table);
    }
    units.push(readUnitDies(sections, table, {
      offset: infoOffset(start), end, version, unitType, addressSize, abbrevOffset,
    }));
    c.offset = end;
  }
  c.check();
  return units;
}

type UnitHeader = Pick<Unit, 'offset' | 'end' | 'version' | 'unitType' | 'addressSize' | 'abbrevOffset'>;

function readUnitDies(sections: DebugSections, table: AbbrevTable, header: UnitHeader): Unit {
  const info = sections.info!;
  const firstDie = header.offset + (header.version >= 5 ? 12 : 11);
  const c = new Cursor(info.name, info.bytes, firstDie, header.end);
  const ctx: FormContext = {
    sections, version: header.version, addressSize: header.addressSize, unitOffset: header.offset,
    strOffsetsBase: undefined, addrBase: undefined, resolveIndexed: false,
  };

  // Pass 1 over the unit DIE only: find the bases that strx/addrx forms (possibly on the unit DIE
  // itself) need. Pass 2 reads everything with them known.
  const rootAbbrev = abbrevAt(c, table);
  const rootAttributes = rootAbbrev ? readAttributes(c, rootAbbrev, ctx) : [];
  c.check();
  if (!rootAbbrev) throw new DwarfFormatError(info.name, firstDie, `${utName(header.unitType)} unit has no unit DIE`);
  const base = (names: number[]): number | undefined => {
    for (const a of rootAttributes) {
      if (names.includes(a.name) && (a.value.class === 'sec_offset' || a.value.class === 'constant')) return Number(a.value.value);
    }
    return undefined;
  };
  ctx.strOffsetsBase = base([DW_AT_str_offsets_base]);
  ctx.addrBase = base([DW_AT_addr_base, DW_AT_GNU_addr_base]);
  ctx.resolveIndexed = true;

  const unit = {
    ...header,
    strOffsetsBase: ctx.strOffsetsBase,
    addrBase: ctx.addrBase,
    rnglistsBase: base([DW_AT_rnglists_base, DW_AT_GNU_ranges_base]),
  } as Unit;

  c.offset = firstDie;
  const stack: Die[] = [];
  while (c.offset < header.end) {
    const at = c.offset;
    const abbrev = abbrevAt(c, table);
    c.check();
    if (!abbrev) {
      // A null entry closes the current level; at top level it is padding.
      stack.pop();
      continue;
    }
    const parent = stack[stack.length - 1];
    if (!parent && unit.root) c.fail('a second top-level DIE in the unit', at);
    const die: Die = { offset: infoOffset(at), tag: abbrev.tag, attributes: readAttributes(c, abbrev, ctx), children: [], parent, unit };
    c.check();
    if (parent) parent.children.push(die);
    else unit.root = die;
    if (abbrev.hasChildren) stack.push(die);
  }
  return unit;
}

/** Reads a DIE's abbreviation code: the abbreviation, or undefined for a null entry. */
function abbrevAt(c: Cursor, table: AbbrevTable): Abbrev | undefined {
  const at = c.offset;
  const code = c.ulebNumber();
  if (code === 0 || c.error) return undefined;
  const abbrev = table.get(code);
  if (!abbrev) c.fail(`abbreviation code ${code} not in the table`, at);
  return abbrev;
}

function readAttributes(c: Cursor, abbrev: Abbrev, ctx: FormContext): Attribute[] {
  const attributes: Attribute[] = new Array(abbrev.attributes.length);
  for (let i = 0; i < abbrev.attributes.length; i++) {
    const spec = abbrev.attributes[i]!;
    const offset = c.offset;
    const { form, value } = readForm(c, spec.form, ctx, spec.implicitConst);
    attributes[i] = { name: spec.name, form, offset, value };
  }
  return attributes;
}
