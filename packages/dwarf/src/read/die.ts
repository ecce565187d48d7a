// The raw DIE tree: units, DIEs and decoded attribute values, as read from .debug_info before any
// interpretation as types or variables. Offsets into .debug_info are branded `InfoOffset`s (after
// gimli's offset spaces) so a unit-relative value cannot be passed where a section offset belongs.
import type { RelocTarget } from '../sections.js';

/** A byte offset within .debug_info. */
export type InfoOffset = number & { readonly __space: 'InfoOffset' };

/** Brands a section offset as a .debug_info offset. */
export function infoOffset(offset: number): InfoOffset {
  return offset as InfoOffset;
}

/**
 * A decoded attribute value, by attribute class (DWARF 5 §7.5.5). strx/addrx forms arrive resolved
 * as 'string'/'address'; 'constant' is unsigned for DW_FORM_data1..8/udata and signed for
 * DW_FORM_sdata/implicit_const; 'reference' is always a .debug_info offset (unit-relative forms are
 * rebased); 'supplementary' is an offset into a supplementary/alt file (ref_sup*, strp_sup, GNU_*_alt).
 */
export type AttributeValue =
  | { class: 'address'; value: bigint; target: RelocTarget | undefined }
  | { class: 'constant'; value: bigint }
  | { class: 'block'; value: Uint8Array }
  | { class: 'exprloc'; value: Uint8Array }
  | { class: 'flag'; value: boolean }
  | { class: 'reference'; value: InfoOffset }
  | { class: 'signature'; value: bigint }
  | { class: 'string'; value: string }
  | { class: 'sec_offset'; value: number }
  | { class: 'rnglistx'; value: number }
  | { class: 'loclistx'; value: number }
  | { class: 'supplementary'; value: bigint };

/** One attribute of a DIE. */
export interface Attribute {
  /** DW_AT_* value. */
  name: number;
  /** DW_FORM_* value (the actual form when the abbreviation said DW_FORM_indirect). */
  form: number;
  /** .debug_info offset of the value's bytes (for DW_FORM_implicit_const, of the DIE). */
  offset: number;
  value: AttributeValue;
}

/** A debugging information entry. */
export interface Die {
  offset: InfoOffset;
  /** DW_TAG_* value. */
  tag: number;
  attributes: Attribute[];
  children: Die[];
  parent: Die | undefined;
  unit: Unit;
}

/** A compile or partial unit of .debug_info. */
export interface Unit {
  /** Offset of the unit header. */
  offset: InfoOffset;
  /** Offset just past the unit. */
  end: number;
  /** 2..5. */
  version: number;
  /** DW_UT_compile or DW_UT_partial (DWARF 4 compile units report DW_UT_compile). */
  unitType: number;
  /** 4 or 8. */
  addressSize: number;
  abbrevOffset: number;
  /** From the unit DIE: DW_AT_str_offsets_base, DW_AT_addr_base, DW_AT_rnglists_base (or GNU forms). */
  strOffsetsBase: number | undefined;
  addrBase: number | undefined;
  rnglistsBase: number | undefined;
  /** The unit DIE (DW_TAG_compile_unit or DW_TAG_partial_unit). */
  root: Die;
}

/** The first attribute `name` (DW_AT_*) of `die`, if present. */
export function attr(die: Die, name: number): Attribute | undefined {
  for (const a of die.attributes) if (a.name === name) return a;
  return undefined;
}
