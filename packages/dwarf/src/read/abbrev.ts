// .debug_abbrev: the abbreviation tables that give each DIE its tag, whether it has children, and
// the (attribute, form) pairs its bytes hold (DWARF 5 §7.5.3). A table starts at a unit's
// debug_abbrev_offset and ends with a 0 code; each entry's attribute list ends with a (0, 0) pair.
import { Cursor } from '../cursor.js';
import { DW_CHILDREN_no, DW_CHILDREN_yes, DW_FORM_implicit_const } from '../constants.js';
import type { DebugSection } from '../sections.js';

/** One attribute specification of an abbreviation. */
export interface AttributeSpec {
  /** DW_AT_* value. */
  name: number;
  /** DW_FORM_* value. */
  form: number;
  /** The value stored in the abbreviation itself, for DW_FORM_implicit_const. */
  implicitConst: bigint | undefined;
}

/** One abbreviation declaration. */
export interface Abbrev {
  code: number;
  /** DW_TAG_* value. */
  tag: number;
  hasChildren: boolean;
  attributes: AttributeSpec[];
}

/** An abbreviation table: declarations by code. */
export type AbbrevTable = Map<number, Abbrev>;

/** Parses the abbreviation table at `offset` of .debug_abbrev; throws DwarfFormatError if malformed. */
export function parseAbbrevTable(section: DebugSection, offset: number): AbbrevTable {
  const c = new Cursor(section.name, section.bytes, offset);
  if (offset >= section.bytes.length) c.fail(`abbreviation table offset 0x${offset.toString(16)} beyond the section`);
  const table: AbbrevTable = new Map();
  while (c.more) {
    const at = c.offset;
    const code = c.ulebNumber();
    if (code === 0) break;
    const tag = c.ulebNumber();
    const children = c.u8();
    if (children !== DW_CHILDREN_no && children !== DW_CHILDREN_yes) c.fail(`bad DW_CHILDREN value ${children}`, at);
    const attributes: AttributeSpec[] = [];
    for (;;) {
      const name = c.ulebNumber();
      const form = c.ulebNumber();
      if (c.error || (name === 0 && form === 0)) break;
      const implicitConst = form === DW_FORM_implicit_const ? c.sleb() : undefined;
      attributes.push({ name, form, implicitConst });
    }
    if (table.has(code)) c.fail(`duplicate abbreviation code ${code}`, at);
    table.set(code, { code, tag, hasChildren: children === DW_CHILDREN_yes, attributes });
  }
  c.check();
  return table;
}
