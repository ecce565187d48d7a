// Typed access to DIE attributes for the model builder: each accessor checks the attribute's class
// and throws DwarfFormatError (naming the attribute's offset in .debug_info) when a producer wrote
// something the model cannot interpret, e.g. DW_AT_name as a constant.
import { atName, formName, DW_AT_abstract_origin, DW_AT_specification } from './constants.js';
import { DwarfFormatError } from './errors.js';
import { attr } from './read/die.js';
import type { Attribute, Die, InfoOffset } from './read/die.js';

function wrongClass(a: Attribute, expected: string): never {
  throw new DwarfFormatError('.debug_info', a.offset, `${atName(a.name)} has form ${formName(a.form)}, expected ${expected}`);
}

/** A string attribute's value. */
export function stringAttr(die: Die, name: number): string | undefined {
  const a = attr(die, name);
  if (!a) return undefined;
  return a.value.class === 'string' ? a.value.value : wrongClass(a, 'a string');
}

/** A flag attribute's value (false when absent). */
export function flagAttr(die: Die, name: number): boolean {
  const a = attr(die, name);
  if (!a) return false;
  return a.value.class === 'flag' ? a.value.value : wrongClass(a, 'a flag');
}

/** A constant attribute as a bigint (unsigned for data1..8/udata, signed for sdata/implicit_const). */
export function constantAttr(die: Die, name: number): bigint | undefined {
  const a = attr(die, name);
  if (!a) return undefined;
  return a.value.class === 'constant' ? a.value.value : wrongClass(a, 'a constant');
}

/** A constant attribute that must be a non-negative safe integer (sizes, offsets, line numbers, indices). */
export function numberAttr(die: Die, name: number): number | undefined {
  const a = attr(die, name);
  if (!a) return undefined;
  if (a.value.class !== 'constant') wrongClass(a, 'a constant');
  const v = a.value.value as bigint;
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DwarfFormatError('.debug_info', a.offset, `${atName(a.name)} value ${v} is out of range`);
  }
  return Number(v);
}

/** A reference attribute's target DIE; throws when it points at no DIE. */
export function refAttr(die: Die, name: number, dieAt: (o: InfoOffset) => Die | undefined): Die | undefined {
  const a = attr(die, name);
  if (!a) return undefined;
  if (a.value.class === 'signature') {
    throw new DwarfFormatError('.debug_info', a.offset, `${atName(a.name)} refers to a type unit (DW_FORM_ref_sig8), which is not supported`);
  }
  if (a.value.class !== 'reference') wrongClass(a, 'a reference');
  const target = dieAt(a.value.value as InfoOffset);
  if (!target) {
    throw new DwarfFormatError('.debug_info', a.offset, `${atName(a.name)} refers to 0x${(a.value.value as number).toString(16)}, where no DIE starts`);
  }
  return target;
}

/** Longest DW_AT_abstract_origin / DW_AT_specification chain followed before calling it a cycle. */
const MAX_ORIGIN_DEPTH = 8;

/**
 * The DIE itself followed by the DIEs it completes: a concrete instance's DW_AT_abstract_origin, a
 * definition's DW_AT_specification, and so on (a concrete function's origin names it).
 */
export function originChain(die: Die, dieAt: (o: InfoOffset) => Die | undefined): Die[] {
  const chain = [die];
  let current = die;
  for (;;) {
    const next = refAttr(current, DW_AT_abstract_origin, dieAt) ?? refAttr(current, DW_AT_specification, dieAt);
    if (!next) return chain;
    if (chain.length > MAX_ORIGIN_DEPTH || chain.includes(next)) {
      throw new DwarfFormatError('.debug_info', die.offset, 'DW_AT_abstract_origin/DW_AT_specification chain loops or is too long');
    }
    chain.push(next);
    current = next;
  }
}

/** The first DIE of `chain` that has attribute `name`. */
export function holderOf(chain: Die[], name: number): Die | undefined {
  return chain.find((d) => attr(d, name) !== undefined);
}
