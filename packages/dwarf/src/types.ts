// Building the type model from DIEs. Types form a graph with cycles (struct node { struct node
// *next; }), so each type object is registered under its DIE offset before the types it refers to
// are built; a second reference to the same DIE returns the same object. Member offsets follow
// DWARF 5 (DW_AT_data_bit_offset for bit fields); DWARF 2-4 DW_AT_bit_offset, counted from the
// most significant bit of the storage unit, is converted for little-endian x86-64:
//   data_bit_offset = data_member_location*8 + storage_bytes*8 - bit_offset - bit_size.
import { constantAttr, flagAttr, numberAttr, refAttr, stringAttr } from './attributes.js';
import * as C from './constants.js';
import { DW_OP_plus_uconst } from './constants.js';
import { Cursor } from './cursor.js';
import { DwarfFormatError } from './errors.js';
import { attr } from './read/die.js';
import type { Die, InfoOffset } from './read/die.js';
import type { DwarfType, Member, Subrange } from './model.js';

/** Tags the model represents as `other` types. */
const OTHER_TYPE_TAGS = new Set<number>([
  C.DW_TAG_unspecified_type, C.DW_TAG.DW_TAG_ptr_to_member_type, C.DW_TAG.DW_TAG_string_type,
  C.DW_TAG.DW_TAG_set_type, C.DW_TAG.DW_TAG_file_type, C.DW_TAG.DW_TAG_packed_type,
  C.DW_TAG.DW_TAG_shared_type, C.DW_TAG.DW_TAG_immutable_type, C.DW_TAG.DW_TAG_interface_type,
  C.DW_TAG.DW_TAG_coarray_type, C.DW_TAG.DW_TAG_dynamic_type,
]);

/** Tags with a dedicated model kind. */
const MODEL_TYPE_TAGS = new Set<number>([
  C.DW_TAG_base_type, C.DW_TAG_structure_type, C.DW_TAG_union_type, C.DW_TAG_class_type,
  C.DW_TAG_enumeration_type, C.DW_TAG_typedef, C.DW_TAG_pointer_type, C.DW_TAG_reference_type,
  C.DW_TAG_rvalue_reference_type, C.DW_TAG_const_type, C.DW_TAG_volatile_type, C.DW_TAG_restrict_type,
  C.DW_TAG_atomic_type, C.DW_TAG_array_type, C.DW_TAG_subroutine_type,
]);

/** True for DIE tags that describe a type. */
export function isTypeTag(tag: number): boolean {
  return MODEL_TYPE_TAGS.has(tag) || OTHER_TYPE_TAGS.has(tag);
}

/** Builds and caches type objects by DIE offset. */
export class TypeBuilder {
  private readonly types = new Map<number, DwarfType>();

  constructor(private readonly dieAt: (offset: InfoOffset) => Die | undefined) {}

  /** The type already built for the DIE at `offset`, if any. */
  typeAt(offset: InfoOffset): DwarfType | undefined {
    const die = this.dieAt(offset);
    return die && isTypeTag(die.tag) ? this.build(die) : undefined;
  }

  /** The type `die`'s DW_AT_type names, or undefined (void) when it has none. */
  typeOf(die: Die): DwarfType | undefined {
    const target = refAttr(die, C.DW_AT_type, this.dieAt);
    if (!target) return undefined;
    if (!isTypeTag(target.tag)) {
      throw new DwarfFormatError('.debug_info', attr(die, C.DW_AT_type)!.offset, `DW_AT_type refers to a ${C.tagName(target.tag)} DIE, not a type`);
    }
    return this.build(target);
  }

  /** The type object of a type DIE (built once). */
  build(die: Die): DwarfType {
    const known = this.types.get(die.offset);
    if (known) return known;
    const offset = die.offset;
    const name = stringAttr(die, C.DW_AT_name);
    switch (die.tag) {
      case C.DW_TAG_base_type: {
        const t: DwarfType = { kind: 'base', offset, name, byteSize: numberAttr(die, C.DW_AT_byte_size) ?? 0, encoding: numberAttr(die, C.DW_AT_encoding) ?? 0 };
        this.types.set(offset, t);
        return t;
      }
      case C.DW_TAG_structure_type:
      case C.DW_TAG_union_type:
      case C.DW_TAG_class_type: {
        const kind = die.tag === C.DW_TAG_structure_type ? 'structure' : die.tag === C.DW_TAG_union_type ? 'union' : 'class';
        const t = {
          kind, offset, name, byteSize: numberAttr(die, C.DW_AT_byte_size), declaration: flagAttr(die, C.DW_AT_declaration),
          members: [] as Member[], fde: fdeOffset(die),
        } as const;
        this.types.set(offset, t);
        for (const child of die.children) {
          if (child.tag === C.DW_TAG_member && !flagAttr(child, C.DW_AT_declaration)) t.members.push(this.member(child, kind === 'union'));
        }
        return t;
      }
      case C.DW_TAG_enumeration_type: {
        const t: DwarfType = {
          kind: 'enumeration', offset, name, byteSize: numberAttr(die, C.DW_AT_byte_size),
          declaration: flagAttr(die, C.DW_AT_declaration), type: undefined, enumerators: [],
        };
        this.types.set(offset, t);
        t.type = this.typeOf(die);
        for (const child of die.children) {
          if (child.tag !== C.DW_TAG_enumerator) continue;
          t.enumerators.push({ name: stringAttr(child, C.DW_AT_name) ?? '', value: constantAttr(child, C.DW_AT_const_value) ?? 0n });
        }
        return t;
      }
      case C.DW_TAG_typedef: {
        const t: DwarfType = { kind: 'typedef', offset, name, type: undefined };
        this.types.set(offset, t);
        t.type = this.typeOf(die);
        return t;
      }
      case C.DW_TAG_pointer_type:
      case C.DW_TAG_reference_type:
      case C.DW_TAG_rvalue_reference_type: {
        const kind = die.tag === C.DW_TAG_pointer_type ? 'pointer' : die.tag === C.DW_TAG_reference_type ? 'reference' : 'rvalue-reference';
        const t: DwarfType = { kind, offset, name, byteSize: numberAttr(die, C.DW_AT_byte_size) ?? die.unit.addressSize, type: undefined };
        this.types.set(offset, t);
        t.type = this.typeOf(die);
        return t;
      }
      case C.DW_TAG_const_type:
      case C.DW_TAG_volatile_type:
      case C.DW_TAG_restrict_type:
      case C.DW_TAG_atomic_type: {
        const kind = die.tag === C.DW_TAG_const_type ? 'const' : die.tag === C.DW_TAG_volatile_type ? 'volatile'
          : die.tag === C.DW_TAG_restrict_type ? 'restrict' : 'atomic';
        const t: DwarfType = { kind, offset, name, type: undefined };
        this.types.set(offset, t);
        t.type = this.typeOf(die);
        return t;
      }
      case C.DW_TAG_array_type: {
        const t: DwarfType = { kind: 'array', offset, name, type: undefined, dimensions: [], byteSize: numberAttr(die, C.DW_AT_byte_size) };
        this.types.set(offset, t);
        t.type = this.typeOf(die);
        for (const child of die.children) if (child.tag === C.DW_TAG_subrange_type) t.dimensions.push(this.subrange(child));
        return t;
      }
      case C.DW_TAG_subroutine_type: {
        const t: DwarfType = { kind: 'subroutine', offset, name, returnType: undefined, parameters: [], prototyped: flagAttr(die, C.DW_AT_prototyped), variadic: false };
        this.types.set(offset, t);
        t.returnType = this.typeOf(die);
        for (const child of die.children) {
          if (child.tag === C.DW_TAG_formal_parameter) t.parameters.push(this.typeOf(child));
          else if (child.tag === C.DW_TAG_unspecified_parameters) t.variadic = true;
        }
        return t;
      }
      default: {
        if (!OTHER_TYPE_TAGS.has(die.tag)) {
          throw new DwarfFormatError('.debug_info', die.offset, `${C.tagName(die.tag)} is not a type`);
        }
        const t: DwarfType = { kind: 'other', offset, name, tag: die.tag, byteSize: numberAttr(die, C.DW_AT_byte_size) };
        this.types.set(offset, t);
        return t;
      }
    }
  }

  private member(die: Die, inUnion: boolean): Member {
    const type = this.typeOf(die);
    const location = attr(die, C.DW_AT_data_member_location);
    let offset: number | undefined = inUnion ? 0 : undefined;
    if (location?.value.class === 'constant') offset = numberAttr(die, C.DW_AT_data_member_location);
    else if (location?.value.class === 'exprloc') offset = plusUconst(location.value.value, location.offset);
    const bitSize = numberAttr(die, C.DW_AT_bit_size);
    let bitOffset: number | undefined;
    const dataBitOffset = numberAttr(die, C.DW_AT_data_bit_offset);
    const oldBitOffset = constantAttr(die, C.DW_AT_bit_offset);
    if (dataBitOffset !== undefined) bitOffset = dataBitOffset;
    else if (bitSize !== undefined && oldBitOffset !== undefined) {
      const storage = numberAttr(die, C.DW_AT_byte_size) ?? sizeOf(type) ?? 0;
      bitOffset = (offset ?? 0) * 8 + storage * 8 - Number(BigInt.asIntN(64, oldBitOffset)) - bitSize;
    } else if (bitSize !== undefined) bitOffset = (offset ?? 0) * 8;
    if (bitOffset !== undefined) offset = Math.floor(bitOffset / 8);
    return { name: stringAttr(die, C.DW_AT_name), type, offset, bitSize, bitOffset };
  }

  private subrange(die: Die): Subrange {
    const lowerBound = Number(BigInt.asIntN(64, constantAttr(die, C.DW_AT_lower_bound) ?? 0n));
    let count: number | undefined;
    const countAttr = attr(die, C.DW_AT_count);
    const upperAttr = attr(die, C.DW_AT_upper_bound);
    if (countAttr?.value.class === 'constant') count = numberAttr(die, C.DW_AT_count);
    else if (upperAttr?.value.class === 'constant') {
      // gcc writes the upper bound of a zero-length array (`int a[0]`) as -1 in DW_FORM_sdata or
      // as all ones in DW_FORM_data8.
      const upper = upperAttr.form === C.DW_FORM_sdata || upperAttr.form === C.DW_FORM_data8
        ? BigInt.asIntN(64, upperAttr.value.value) : upperAttr.value.value;
      const n = upper - BigInt(lowerBound) + 1n;
      if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new DwarfFormatError('.debug_info', upperAttr.offset, `array bound ${upper} gives an impossible element count`);
      }
      count = Number(n);
    }
    return { lowerBound, count };
  }
}

/** DW_AT_MIPS_fde: a .debug_frame offset, as DW_FORM_sec_offset (Katana POs) or a constant (MIPS compilers). */
function fdeOffset(die: Die): number | undefined {
  const a = attr(die, C.DW_AT_MIPS_fde);
  return a?.value.class === 'sec_offset' ? a.value.value : numberAttr(die, C.DW_AT_MIPS_fde);
}

/** DW_OP_plus_uconst N, the DWARF 2 way to write a member offset; undefined for other expressions. */
function plusUconst(expr: Uint8Array, at: number): number | undefined {
  if (expr[0] !== DW_OP_plus_uconst) return undefined;
  const c = new Cursor('.debug_info', expr);
  c.u8();
  const n = c.ulebNumber();
  if (c.error || c.offset !== expr.length) throw new DwarfFormatError('.debug_info', at, 'malformed DW_AT_data_member_location expression');
  return n;
}

/** The byte size of a type, looking through typedefs and qualifiers; undefined when unknown. */
export function sizeOf(type: DwarfType | undefined): number | undefined {
  for (let t = type, depth = 0; t && depth < 64; depth++) {
    switch (t.kind) {
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'atomic':
        t = t.type;
        continue;
      case 'array': {
        if (t.byteSize !== undefined) return t.byteSize;
        const element = sizeOf(t.type);
        if (element === undefined || t.dimensions.some((d) => d.count === undefined)) return undefined;
        return t.dimensions.reduce((n, d) => n * d.count!, element);
      }
      case 'subroutine':
        return undefined;
      default:
        return t.byteSize;
    }
  }
  return undefined;
}
