// Decoding one attribute value by its DW_FORM (DWARF 5 §7.5.6, Table 7.6), 32-bit DWARF only.
// Indexed forms are resolved here: DW_FORM_strx* through .debug_str_offsets (at the unit's
// DW_AT_str_offsets_base) into .debug_str, DW_FORM_addrx* through .debug_addr (at DW_AT_addr_base),
// keeping the .o relocation target of the address they land on.
import { Cursor } from '../cursor.js';
import * as F from '../constants.js';
import type { DebugSection, DebugSections, RelocTarget } from '../sections.js';
import { infoOffset } from './die.js';
import type { AttributeValue } from './die.js';

/** What decoding a form needs to know about its unit. */
export interface FormContext {
  sections: DebugSections;
  version: number;
  addressSize: number;
  unitOffset: number;
  strOffsetsBase: number | undefined;
  addrBase: number | undefined;
  /** False while reading the unit DIE to find the bases: strx/addrx then decode as '' / 0. */
  resolveIndexed: boolean;
}

/** Longest chain of DW_FORM_indirect accepted before calling the data malformed. */
const MAX_INDIRECT = 4;

/**
 * Reads the value of an attribute whose abbreviation says `form`, following DW_FORM_indirect
 * (the actual form is then a ULEB128 in the DIE); returns the actual form and its value.
 */
export function readForm(c: Cursor, form: number, ctx: FormContext, implicitConst: bigint | undefined): { form: number; value: AttributeValue } {
  if (form !== F.DW_FORM_indirect) return { form, value: decodeForm(c, form, ctx, implicitConst) };
  const at = c.offset;
  let actual: number = form;
  for (let i = 0; i < MAX_INDIRECT && actual === F.DW_FORM_indirect; i++) actual = c.ulebNumber();
  if (actual === F.DW_FORM_indirect || actual === F.DW_FORM_implicit_const) {
    c.fail(`DW_FORM_indirect names ${F.formName(actual)}, which it cannot carry`, at);
  }
  return { form: actual, value: decodeForm(c, actual, ctx, undefined) };
}

/** Decodes the value of `form` at the cursor; errors are recorded on the cursor (sticky). */
function decodeForm(c: Cursor, form: number, ctx: FormContext, implicitConst: bigint | undefined): AttributeValue {
  switch (form) {
    case F.DW_FORM_addr: {
      const at = c.offset;
      const value = c.uint(ctx.addressSize);
      return { class: 'address', value, target: ctx.sections.info?.relocations.get(at) };
    }
    case F.DW_FORM_data1: return { class: 'constant', value: BigInt(c.u8()) };
    case F.DW_FORM_data2: return { class: 'constant', value: BigInt(c.u16()) };
    case F.DW_FORM_data4: return { class: 'constant', value: BigInt(c.u32()) };
    case F.DW_FORM_data8: return { class: 'constant', value: c.u64() };
    case F.DW_FORM_udata: return { class: 'constant', value: c.uleb() };
    case F.DW_FORM_sdata: return { class: 'constant', value: c.sleb() };
    case F.DW_FORM_implicit_const: return { class: 'constant', value: implicitConst ?? 0n };
    case F.DW_FORM_data16: return { class: 'block', value: c.bytesOf(16) };
    case F.DW_FORM_block1: return { class: 'block', value: c.bytesOf(c.u8()) };
    case F.DW_FORM_block2: return { class: 'block', value: c.bytesOf(c.u16()) };
    case F.DW_FORM_block4: return { class: 'block', value: c.bytesOf(c.u32()) };
    case F.DW_FORM_block: return { class: 'block', value: c.bytesOf(c.ulebNumber()) };
    case F.DW_FORM_exprloc: return { class: 'exprloc', value: c.bytesOf(c.ulebNumber()) };
    case F.DW_FORM_flag: return { class: 'flag', value: c.u8() !== 0 };
    case F.DW_FORM_flag_present: return { class: 'flag', value: true };
    case F.DW_FORM_ref1: return ref(ctx.unitOffset + c.u8());
    case F.DW_FORM_ref2: return ref(ctx.unitOffset + c.u16());
    case F.DW_FORM_ref4: return ref(ctx.unitOffset + c.u32());
    case F.DW_FORM_ref8: return ref(ctx.unitOffset + safe(c, c.u64()));
    case F.DW_FORM_ref_udata: return ref(ctx.unitOffset + c.ulebNumber());
    case F.DW_FORM_ref_addr: return ref(ctx.version <= 2 ? safe(c, c.uint(ctx.addressSize)) : c.u32());
    case F.DW_FORM_ref_sig8: return { class: 'signature', value: c.u64() };
    case F.DW_FORM_ref_sup4: return { class: 'supplementary', value: BigInt(c.u32()) };
    case F.DW_FORM_ref_sup8: return { class: 'supplementary', value: c.u64() };
    case F.DW_FORM_strp_sup:
    case F.DW_FORM_GNU_ref_alt:
    case F.DW_FORM_GNU_strp_alt: return { class: 'supplementary', value: BigInt(c.u32()) };
    case F.DW_FORM_sec_offset: return { class: 'sec_offset', value: c.u32() };
    case F.DW_FORM_rnglistx: return { class: 'rnglistx', value: c.ulebNumber() };
    case F.DW_FORM_loclistx: return { class: 'loclistx', value: c.ulebNumber() };
    case F.DW_FORM_string: return { class: 'string', value: c.cstring() };
    case F.DW_FORM_strp: return stringFrom(c, ctx.sections.str, '.debug_str', c.u32());
    case F.DW_FORM_line_strp: return stringFrom(c, ctx.sections.lineStr, '.debug_line_str', c.u32());
    case F.DW_FORM_strx:
    case F.DW_FORM_GNU_str_index: return strx(c, ctx, c.ulebNumber());
    case F.DW_FORM_strx1: return strx(c, ctx, c.u8());
    case F.DW_FORM_strx2: return strx(c, ctx, c.u16());
    case F.DW_FORM_strx3: return strx(c, ctx, c.u24());
    case F.DW_FORM_strx4: return strx(c, ctx, c.u32());
    case F.DW_FORM_addrx:
    case F.DW_FORM_GNU_addr_index: return addrx(c, ctx, c.ulebNumber());
    case F.DW_FORM_addrx1: return addrx(c, ctx, c.u8());
    case F.DW_FORM_addrx2: return addrx(c, ctx, c.u16());
    case F.DW_FORM_addrx3: return addrx(c, ctx, c.u24());
    case F.DW_FORM_addrx4: return addrx(c, ctx, c.u32());
    default:
      c.fail(`unknown form ${F.formName(form)}`);
      return { class: 'constant', value: 0n };
  }
}

function ref(offset: number): AttributeValue {
  return { class: 'reference', value: infoOffset(offset) };
}

function safe(c: Cursor, value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    c.fail(`offset 0x${value.toString(16)} too large`);
    return 0;
  }
  return Number(value);
}

function stringFrom(c: Cursor, section: DebugSection | undefined, name: string, offset: number): AttributeValue {
  if (c.error) return { class: 'string', value: '' };
  if (!section) {
    c.fail(`string form refers to ${name}, which the file lacks`);
    return { class: 'string', value: '' };
  }
  if (offset >= section.bytes.length) {
    c.fail(`string offset 0x${offset.toString(16)} beyond ${name} (size 0x${section.bytes.length.toString(16)})`);
    return { class: 'string', value: '' };
  }
  const s = new Cursor(section.name, section.bytes, offset);
  const value = s.cstring();
  if (s.error) c.fail(s.error.message);
  return { class: 'string', value };
}

function strx(c: Cursor, ctx: FormContext, index: number): AttributeValue {
  if (!ctx.resolveIndexed || c.error) return { class: 'string', value: '' };
  const offsets = ctx.sections.strOffsets;
  if (!offsets || ctx.strOffsetsBase === undefined) {
    c.fail('DW_FORM_strx without .debug_str_offsets and DW_AT_str_offsets_base');
    return { class: 'string', value: '' };
  }
  const at = ctx.strOffsetsBase + index * 4;
  if (at + 4 > offsets.bytes.length) {
    c.fail(`string index ${index} beyond .debug_str_offsets`);
    return { class: 'string', value: '' };
  }
  const offset = new DataView(offsets.bytes.buffer, offsets.bytes.byteOffset).getUint32(at, true);
  return stringFrom(c, ctx.sections.str, '.debug_str', offset);
}

function addrx(c: Cursor, ctx: FormContext, index: number): AttributeValue {
  if (!ctx.resolveIndexed || c.error) return { class: 'address', value: 0n, target: undefined };
  const target = addressAtIndex(ctx, index);
  if (typeof target === 'string') {
    c.fail(target);
    return { class: 'address', value: 0n, target: undefined };
  }
  return { class: 'address', value: target.value, target: target.target };
}

/** Entry `index` of the unit's .debug_addr contribution, or a reason it cannot be read. */
export function addressAtIndex(ctx: Pick<FormContext, 'sections' | 'addrBase' | 'addressSize'>, index: number): { value: bigint; target: RelocTarget | undefined } | string {
  const addr = ctx.sections.addr;
  if (!addr || ctx.addrBase === undefined) return 'DW_FORM_addrx without .debug_addr and DW_AT_addr_base';
  const at = ctx.addrBase + index * ctx.addressSize;
  const c = new Cursor(addr.name, addr.bytes, at);
  const value = c.uint(ctx.addressSize);
  if (c.error) return `address index ${index} beyond .debug_addr`;
  return { value, target: addr.relocations.get(at) };
}
