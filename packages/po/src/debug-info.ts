// The PO's .debug_info and .debug_abbrev (the paper's Figure 4): one DWARF 5 compile unit per
// source file, holding a DW_TAG_subprogram for each function of the patch (name, DW_AT_external for
// globals, low/high pc in .text.new), and, for data patching, each transformed struct or union type
// (its new layout: DW_TAG_member children with name, offset, size and base type, or a pointer type
// when the member is a pointer the applier follows; DW_AT_MIPS_fde = its FDE in .debug_frame;
// DW_AT_KATANA_old_byte_size; DW_AT_KATANA_transformer when the new source gives one;
// DW_AT_KATANA_rollback_fde = the FDE of its reverse program and DW_AT_KATANA_dropped_on_rollback =
// the members a rollback drops, when it can be transformed back) and each
// transformed variable (DW_AT_type the type, a pointer to it, or an array of either; DW_AT_location
// its new storage, DW_AT_KATANA_old_location the target's, the same for a variable updated in place).
// In a composed patch, types and variables of a later stage have DW_AT_KATANA_stage. This is
// where the source file of a global function lives (ELF ties a file only to local symbols). Low pcs,
// locations and FDE offsets are filled in by relocations, as in any compiler's object. A type named
// only by a typedef (`typedef struct { ... } stats_t`) is an anonymous struct plus a DW_TAG_typedef
// naming it.
import {
  DW_AT_byte_size,
  DW_AT_count,
  DW_AT_data_member_location,
  DW_AT_encoding,
  DW_AT_external,
  DW_AT_high_pc,
  DW_AT_KATANA_dropped_on_rollback,
  DW_AT_KATANA_old_byte_size,
  DW_AT_KATANA_old_location,
  DW_AT_KATANA_rollback_fde,
  DW_AT_KATANA_stage,
  DW_AT_KATANA_transformer,
  DW_AT_language,
  DW_AT_location,
  DW_AT_low_pc,
  DW_AT_MIPS_fde,
  DW_AT_name,
  DW_AT_producer,
  DW_AT_type,
  DW_CHILDREN_no,
  DW_CHILDREN_yes,
  DW_FORM_addr,
  DW_FORM_data1,
  DW_FORM_data2,
  DW_FORM_data8,
  DW_FORM_exprloc,
  DW_FORM_flag_present,
  DW_FORM_ref4,
  DW_FORM_sec_offset,
  DW_FORM_string,
  DW_FORM_udata,
  DW_LANG,
  DW_OP_addr,
  DW_TAG_array_type,
  DW_TAG_base_type,
  DW_TAG_compile_unit,
  DW_TAG_member,
  DW_TAG_pointer_type,
  DW_TAG_structure_type,
  DW_TAG_subprogram,
  DW_TAG_subrange_type,
  DW_TAG_typedef,
  DW_TAG_union_type,
  DW_TAG_variable,
  DW_UT_compile,
} from '@katana/dwarf';
import { Bytes } from './bytes.js';
import type { TransformedType } from './model.js';

/** A function as .debug_info describes it. */
export interface DescribedFunction {
  name: string;
  file: string;
  external: boolean;
  /** Offset of its code in .text.new. */
  offset: number;
  size: number;
}

/** A transformed variable as .debug_info describes it; symbols are indices into PatchObject.symbols. */
export interface DescribedVariable {
  name: string;
  file: string;
  external: boolean;
  /** Index into the `types` given to encodeDebugInfo. */
  type: number;
  /** Element count when the variable is an array of the type. */
  elements?: number;
  newSymbol: number;
  oldSymbol: number;
  /** The variable (or each element) is a pointer to the type. */
  pointer?: boolean;
  /** Its stage in a composed patch (DataTransform.stage); 0 or absent: no DW_AT_KATANA_stage. */
  stage?: number;
}

/** The encoded sections plus where .debug_info needs relocations. */
export interface EncodedDebugInfo {
  abbrev: Uint8Array;
  info: Uint8Array;
  /** Offsets in .debug_info of each DW_AT_low_pc, with the .text.new offset it must hold. */
  lowPcs: { at: number; textOffset: number }[];
  /** Offsets in .debug_info of each unit's debug_abbrev_offset (all 0: one shared table). */
  abbrevOffsets: number[];
  /** Offsets of each DW_AT_MIPS_fde and DW_AT_KATANA_rollback_fde (R_X86_64_32 against .debug_frame, addend the FDE's offset). */
  fdes: { at: number; fdeOffset: number }[];
  /** Offsets of each address operand (R_X86_64_64 against a PO symbol): locations, transformers. */
  addresses: { at: number; symbol: number }[];
}

const ABBREV_UNIT = 1;
const ABBREV_GLOBAL = 2;
const ABBREV_LOCAL = 3;
const ABBREV_BASE_TYPE = 4;
const ABBREV_MEMBER_TYPED = 6;
const ABBREV_MEMBER = 7;
const ABBREV_ARRAY = 8;
const ABBREV_SUBRANGE = 9;
const ABBREV_VARIABLE_GLOBAL = 10;
const ABBREV_VARIABLE_LOCAL = 11;
const ABBREV_POINTER = 12;
const ABBREV_TYPEDEF = 13;
const ABBREV_VARIABLE_GLOBAL_STAGED = 14;
const ABBREV_VARIABLE_LOCAL_STAGED = 15;
/** Transformed types' DIEs get codes from here on, one per combination of tag and optional attributes used. */
const ABBREV_FIRST_COMPOSITE = 16;

/** Bytes of a location expression: DW_OP_addr and an 8-byte address. */
const ADDR_EXPRESSION_SIZE = 9;

/** Where each type's FDEs are in .debug_frame (debug-frame.ts). */
export interface FdeOffsets {
  fdeOffsets: number[];
  rollbackFdeOffsets: (number | undefined)[];
}

/** Encodes the compile units, subprograms, transformed types (with their FDE offsets in .debug_frame) and variables of a patch. */
export function encodeDebugInfo(
  functions: DescribedFunction[],
  producer: string,
  data: { types: TransformedType[]; variables: DescribedVariable[] } & FdeOffsets = { types: [], variables: [], fdeOffsets: [], rollbackFdeOffsets: [] },
): EncodedDebugInfo {
  const abbrev = new Bytes();
  const declare = (code: number, tag: number, children: boolean, attributes: [number, number][]): void => {
    abbrev.uleb(code).uleb(tag).u8(children ? DW_CHILDREN_yes : DW_CHILDREN_no);
    for (const [at, form] of attributes) abbrev.uleb(at).uleb(form);
    abbrev.uleb(0).uleb(0);
  };
  declare(ABBREV_UNIT, DW_TAG_compile_unit, true, [[DW_AT_producer, DW_FORM_string], [DW_AT_language, DW_FORM_data2], [DW_AT_name, DW_FORM_string]]);
  const pcs: [number, number][] = [[DW_AT_low_pc, DW_FORM_addr], [DW_AT_high_pc, DW_FORM_data8]];
  declare(ABBREV_GLOBAL, DW_TAG_subprogram, false, [[DW_AT_name, DW_FORM_string], [DW_AT_external, DW_FORM_flag_present], ...pcs]);
  declare(ABBREV_LOCAL, DW_TAG_subprogram, false, [[DW_AT_name, DW_FORM_string], ...pcs]);
  declare(ABBREV_BASE_TYPE, DW_TAG_base_type, false, [[DW_AT_name, DW_FORM_string], [DW_AT_byte_size, DW_FORM_udata], [DW_AT_encoding, DW_FORM_data1]]);
  declare(ABBREV_POINTER, DW_TAG_pointer_type, false, [[DW_AT_byte_size, DW_FORM_data1], [DW_AT_type, DW_FORM_ref4]]);
  declare(ABBREV_TYPEDEF, DW_TAG_typedef, false, [[DW_AT_name, DW_FORM_string], [DW_AT_type, DW_FORM_ref4]]);
  const member: [number, number][] = [[DW_AT_name, DW_FORM_string], [DW_AT_data_member_location, DW_FORM_udata], [DW_AT_byte_size, DW_FORM_udata]];
  declare(ABBREV_MEMBER_TYPED, DW_TAG_member, false, [...member, [DW_AT_type, DW_FORM_ref4]]);
  declare(ABBREV_MEMBER, DW_TAG_member, false, member);
  declare(ABBREV_ARRAY, DW_TAG_array_type, true, [[DW_AT_type, DW_FORM_ref4]]);
  declare(ABBREV_SUBRANGE, DW_TAG_subrange_type, false, [[DW_AT_count, DW_FORM_udata]]);
  const locations: [number, number][] = [[DW_AT_type, DW_FORM_ref4], [DW_AT_location, DW_FORM_exprloc], [DW_AT_KATANA_old_location, DW_FORM_exprloc]];
  declare(ABBREV_VARIABLE_GLOBAL, DW_TAG_variable, false, [[DW_AT_name, DW_FORM_string], [DW_AT_external, DW_FORM_flag_present], ...locations]);
  declare(ABBREV_VARIABLE_LOCAL, DW_TAG_variable, false, [[DW_AT_name, DW_FORM_string], ...locations]);
  const staged: [number, number][] = [...locations, [DW_AT_KATANA_stage, DW_FORM_udata]];
  declare(ABBREV_VARIABLE_GLOBAL_STAGED, DW_TAG_variable, false, [[DW_AT_name, DW_FORM_string], [DW_AT_external, DW_FORM_flag_present], ...staged]);
  declare(ABBREV_VARIABLE_LOCAL_STAGED, DW_TAG_variable, false, [[DW_AT_name, DW_FORM_string], ...staged]);
  // A transformed type's DIE: its name when it has a tag, the attributes every one has, then those
  // it has only sometimes; declared on first use.
  const compositeCodes = new Map<string, number>();
  const compositeAbbrev = (type: TransformedType, union: boolean, tagged: boolean): number => {
    const attributes: [number, number][] = [
      ...(tagged ? [[DW_AT_name, DW_FORM_string] as [number, number]] : []),
      [DW_AT_byte_size, DW_FORM_udata], [DW_AT_MIPS_fde, DW_FORM_sec_offset], [DW_AT_KATANA_old_byte_size, DW_FORM_udata],
    ];
    if (type.transformer !== undefined) attributes.push([DW_AT_KATANA_transformer, DW_FORM_addr]);
    if (type.rollbackRows !== undefined) attributes.push([DW_AT_KATANA_rollback_fde, DW_FORM_sec_offset]);
    if (droppedOf(type) !== undefined) attributes.push([DW_AT_KATANA_dropped_on_rollback, DW_FORM_string]);
    if ((type.stage ?? 0) > 0) attributes.push([DW_AT_KATANA_stage, DW_FORM_udata]);
    const tag = union ? DW_TAG_union_type : DW_TAG_structure_type;
    const key = `${tag}:${attributes.map(([at]) => at).join(',')}`;
    let code = compositeCodes.get(key);
    if (code === undefined) {
      code = ABBREV_FIRST_COMPOSITE + compositeCodes.size;
      compositeCodes.set(key, code);
      declare(code, tag, true, attributes);
    }
    return code;
  };

  const info = new Bytes();
  const lowPcs: EncodedDebugInfo['lowPcs'] = [];
  const abbrevOffsets: number[] = [];
  const fdes: EncodedDebugInfo['fdes'] = [];
  const addresses: EncodedDebugInfo['addresses'] = [];
  const files = [...new Set([...functions.map((f) => f.file), ...data.types.map((t) => t.file), ...data.variables.map((v) => v.file)])].sort();
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
    // Types before the variables that refer to them; DW_FORM_ref4 offsets count from the unit's start.
    const baseTypes = new Map<string, number>();
    const typeDies = new Map<number, number>();
    // Members that point at a transformed type refer to a pointer DIE written after every type.
    const pointerRefs: { at: number; type: number }[] = [];
    data.types.forEach((type, index) => {
      if (type.file !== file) return;
      for (const m of type.members) {
        if (!m.base) continue;
        const key = `${m.base.name}/${m.size}/${m.base.encoding}`;
        if (baseTypes.has(key)) continue;
        baseTypes.set(key, info.length - start);
        info.uleb(ABBREV_BASE_TYPE).cstring(m.base.name).uleb(m.size).u8(m.base.encoding);
      }
      // 'struct stats' is a struct with a tag; a typedef name ('stats_t' of `typedef struct { ... }
      // stats_t`) an anonymous struct followed by the typedef naming it, which variables refer to.
      const tagged = /^(struct|union) (.+)$/.exec(type.name);
      const union = tagged ? tagged[1] === 'union' : false;
      const structDie = info.length - start;
      info.uleb(compositeAbbrev(type, union, tagged !== null));
      if (tagged) info.cstring(tagged[2]!);
      info.uleb(type.newSize);
      fdes.push({ at: info.length, fdeOffset: data.fdeOffsets[index]! });
      info.u32(0).uleb(type.oldSize);
      if (type.transformer !== undefined) {
        addresses.push({ at: info.length, symbol: type.transformer });
        info.u64(0n);
      }
      if (type.rollbackRows !== undefined) {
        const fdeOffset = data.rollbackFdeOffsets[index];
        if (fdeOffset === undefined) throw new RangeError(`the reverse program of ${type.name} has no FDE`);
        fdes.push({ at: info.length, fdeOffset });
        info.u32(0);
      }
      const dropped = droppedOf(type);
      if (dropped !== undefined) info.cstring(dropped);
      if ((type.stage ?? 0) > 0) info.uleb(type.stage!);
      for (const m of type.members) {
        const typed = m.base !== undefined || m.pointsTo !== undefined;
        info.uleb(typed ? ABBREV_MEMBER_TYPED : ABBREV_MEMBER).cstring(m.name).uleb(m.offset).uleb(m.size);
        if (m.base) info.u32(baseTypes.get(`${m.base.name}/${m.size}/${m.base.encoding}`)!);
        else if (m.pointsTo !== undefined) {
          pointerRefs.push({ at: info.length, type: m.pointsTo });
          info.u32(0);
        }
      }
      info.u8(0);
      typeDies.set(index, tagged === null ? info.length - start : structDie);
      if (tagged === null) info.uleb(ABBREV_TYPEDEF).cstring(type.name).u32(structDie);
    });
    const pointerDies = new Map<number, number>();
    const pointerTo = (type: number, what: string): number => {
      let die = pointerDies.get(type);
      if (die !== undefined) return die;
      const target = typeDies.get(type);
      if (target === undefined) throw new RangeError(`${what} points to type ${type}, which is not described in ${file}`);
      die = info.length - start;
      info.uleb(ABBREV_POINTER).u8(8).u32(target);
      pointerDies.set(type, die);
      return die;
    };
    for (const r of pointerRefs) info.setU32(r.at, pointerTo(r.type, `a member of a type of ${file}`));
    for (const v of data.variables.filter((w) => w.file === file && w.pointer)) pointerTo(v.type, `variable ${v.name}`);
    for (const v of data.variables.filter((w) => w.file === file)) {
      const typeDie = v.pointer ? pointerDies.get(v.type) : typeDies.get(v.type);
      if (typeDie === undefined) throw new RangeError(`variable ${v.name} of ${file} names type ${v.type}, which is not described in that file`);
      let ref = typeDie;
      if (v.elements !== undefined) {
        ref = info.length - start;
        info.uleb(ABBREV_ARRAY).u32(typeDie).uleb(ABBREV_SUBRANGE).uleb(v.elements).u8(0);
      }
      const stage = v.stage ?? 0;
      const code = stage > 0 ? (v.external ? ABBREV_VARIABLE_GLOBAL_STAGED : ABBREV_VARIABLE_LOCAL_STAGED) : v.external ? ABBREV_VARIABLE_GLOBAL : ABBREV_VARIABLE_LOCAL;
      info.uleb(code).cstring(v.name).u32(ref);
      for (const symbol of [v.newSymbol, v.oldSymbol]) {
        info.uleb(ADDR_EXPRESSION_SIZE).u8(DW_OP_addr);
        addresses.push({ at: info.length, symbol });
        info.u64(0n);
      }
      if (stage > 0) info.uleb(stage);
    }
    info.u8(0); // end of the unit's children
    info.setU32(start, info.length - start - 4);
  }
  abbrev.uleb(0);
  return { abbrev: abbrev.bytes(), info: info.bytes(), lowPcs, abbrevOffsets, fdes, addresses };
}

/**
 * DW_AT_KATANA_dropped_on_rollback's string: the member paths a rollback drops, separated by
 * spaces (C identifiers, `.` and `[]` never contain one); undefined when it drops nothing.
 */
function droppedOf(type: TransformedType): string | undefined {
  const dropped = type.rollbackRows === undefined ? [] : type.droppedOnRollback ?? [];
  for (const path of dropped) if (!/^[^\s\0]+$/.test(path)) throw new RangeError(`member path '${path}' of ${type.name} cannot be written into DW_AT_KATANA_dropped_on_rollback`);
  return dropped.length === 0 ? undefined : dropped.join(' ');
}
