// The DWARF domain model readDwarf returns: compile units, their types (a graph: a struct's
// members point at their types, and a linked list's `next` points back at its struct), variables
// classified by scope, and subprograms with the types of their parameters and locals.
// Addresses are bigint. In a relocatable object (.o) they are section-relative (each section
// starts at 0) and the `target` next to them says which section or symbol they are relative to.
import type { Die, InfoOffset } from './read/die.js';
import type { FileTable } from './read/line.js';
import type { AddressRange } from './read/ranges.js';
import type { RelocTarget } from './sections.js';

/** Everything readDwarf found in one ELF file. */
export interface DwarfInfo {
  /** The ELF file's path, if it was opened from one. */
  path: string | undefined;
  /** True for a relocatable object: addresses are section-relative, see RelocTarget. */
  relocatable: boolean;
  units: CompileUnit[];
  /** Every unit's variables, in .debug_info order. */
  variables: Variable[];
  /** Every unit's subprograms, in .debug_info order. */
  subprograms: Subprogram[];
  /** The DIE at a .debug_info offset, if one starts there. */
  dieAt(offset: InfoOffset): Die | undefined;
  /** The type whose DIE is at a .debug_info offset, if any. */
  typeAt(offset: InfoOffset): DwarfType | undefined;
}

/** A compile (or partial) unit. */
export interface CompileUnit {
  offset: InfoOffset;
  version: number;
  /** DW_UT_compile or DW_UT_partial. */
  unitType: number;
  addressSize: number;
  /** DW_AT_name: the primary source file as the compiler was given it. */
  name: string | undefined;
  compDir: string | undefined;
  producer: string | undefined;
  /** DW_LANG_* value. */
  language: number | undefined;
  /** The unit's DW_AT_low_pc (0 with DW_AT_ranges under -ffunction-sections). */
  lowPc: bigint | undefined;
  /** The unit's code: DW_AT_ranges, or [low_pc, high_pc); in a .o one range per .text.<function> section. */
  ranges: AddressRange[];
  /** Source files by DW_AT_decl_file number (from .debug_line). */
  files: FileTable;
  /** Every type DIE of the unit, at file scope or inside functions, in DIE order. */
  types: DwarfType[];
  variables: Variable[];
  subprograms: Subprogram[];
  /** The unit DIE, for anything the model does not cover. */
  die: Die;
}

/** Fields every type has. */
interface TypeCommon {
  /** .debug_info offset of the type's DIE. */
  offset: InfoOffset;
  /** DW_AT_name; undefined for anonymous structs and for pointers, arrays and qualifiers. */
  name: string | undefined;
}

/** DW_TAG_base_type. */
export interface BaseType extends TypeCommon {
  kind: 'base';
  byteSize: number;
  /** DW_ATE_* value. */
  encoding: number;
}

/** DW_TAG_structure_type, DW_TAG_union_type, DW_TAG_class_type. */
export interface CompositeType extends TypeCommon {
  kind: 'structure' | 'union' | 'class';
  /** Undefined for a declaration (an incomplete `struct foo;`). */
  byteSize: number | undefined;
  /** DW_AT_declaration: only declared in this unit, no members known. */
  declaration: boolean;
  members: Member[];
  /** DW_AT_MIPS_fde: .debug_frame offset of a transformation FDE (Katana patch objects). */
  fde: number | undefined;
}

/** A DW_TAG_member of a structure, union or class. */
export interface Member {
  name: string | undefined;
  type: DwarfType | undefined;
  /** Byte offset in the enclosing type (DW_AT_data_member_location; for a bit field, the byte holding its first bit; 0 in unions). */
  offset: number | undefined;
  /** For bit fields: DW_AT_bit_size. */
  bitSize: number | undefined;
  /** For bit fields: bit offset from the start of the enclosing type (DW_AT_data_bit_offset, or converted from DWARF 2-4 DW_AT_bit_offset). */
  bitOffset: number | undefined;
}

/** DW_TAG_enumeration_type. */
export interface EnumerationType extends TypeCommon {
  kind: 'enumeration';
  byteSize: number | undefined;
  declaration: boolean;
  /** DW_AT_type: the underlying integer type, when given. */
  type: DwarfType | undefined;
  enumerators: { name: string; value: bigint }[];
}

/** DW_TAG_typedef. */
export interface TypedefType extends TypeCommon {
  kind: 'typedef';
  /** Undefined for `typedef void t`. */
  type: DwarfType | undefined;
}

/** DW_TAG_pointer_type, DW_TAG_reference_type, DW_TAG_rvalue_reference_type. */
export interface PointerType extends TypeCommon {
  kind: 'pointer' | 'reference' | 'rvalue-reference';
  byteSize: number;
  /** The pointee; undefined for `void *`. */
  type: DwarfType | undefined;
}

/** DW_TAG_const_type, DW_TAG_volatile_type, DW_TAG_restrict_type, DW_TAG_atomic_type. */
export interface QualifiedType extends TypeCommon {
  kind: 'const' | 'volatile' | 'restrict' | 'atomic';
  /** Undefined for `const void`. */
  type: DwarfType | undefined;
}

/** One dimension of an array (DW_TAG_subrange_type). */
export interface Subrange {
  /** DW_AT_lower_bound, 0 when absent (C). */
  lowerBound: number;
  /** Element count from DW_AT_count or DW_AT_upper_bound; undefined for `[]` and variable-length arrays. */
  count: number | undefined;
}

/** DW_TAG_array_type. */
export interface ArrayType extends TypeCommon {
  kind: 'array';
  /** The element type. */
  type: DwarfType | undefined;
  /** Outermost first: `int a[3][4]` has counts 3 then 4. */
  dimensions: Subrange[];
  byteSize: number | undefined;
}

/** DW_TAG_subroutine_type (the pointee of a function pointer). */
export interface SubroutineType extends TypeCommon {
  kind: 'subroutine';
  /** Undefined for void. */
  returnType: DwarfType | undefined;
  parameters: (DwarfType | undefined)[];
  prototyped: boolean;
  /** Ends with `...` (DW_TAG_unspecified_parameters). */
  variadic: boolean;
}

/** DW_TAG_unspecified_type (C++ `decltype(nullptr)`), and type tags the model does not break down (C++ pointers to members, ...). */
export interface OtherType extends TypeCommon {
  kind: 'other';
  /** DW_TAG_* value. */
  tag: number;
  byteSize: number | undefined;
}

/** Any type the model knows; switch on `kind`. */
export type DwarfType =
  | BaseType | CompositeType | EnumerationType | TypedefType | PointerType | QualifiedType
  | ArrayType | SubroutineType | OtherType;

/**
 * Where a variable lives: 'file' for file-level definitions (external or static), 'static-local'
 * for a `static` inside a function, 'extern-declaration' for a DW_AT_declaration (`extern int x;`)
 * that this unit does not define.
 */
export type VariableScope = 'file' | 'static-local' | 'extern-declaration';

/** A variable with static storage (or an extern declaration of one). */
export interface Variable {
  /** .debug_info offset of the defining DIE (the one with DW_AT_location, if any). */
  offset: InfoOffset;
  name: string;
  linkageName: string | undefined;
  scope: VariableScope;
  /** For 'static-local' (and a block-scope extern declaration): the enclosing subprogram's name. */
  function: string | undefined;
  /** DW_AT_external: visible to other units. */
  external: boolean;
  /** Undefined only when the DIE has no DW_AT_type. */
  type: DwarfType | undefined;
  /** Set when the location is a plain DW_OP_addr (or a TLS offset); undefined when optimized away. */
  location: VariableLocation | undefined;
  declFile: string | undefined;
  declLine: number | undefined;
  unit: CompileUnit;
}

/** A static address (DW_OP_addr) or a thread-local offset (DW_OP_const*u; DW_OP_form_tls_address). */
export interface VariableLocation {
  kind: 'address' | 'tls';
  /** In an executable: the link-time address (or TLS offset). In a .o: relative to `target`'s section. */
  address: bigint;
  /** In a .o: the relocation behind the address: `{ symbol: 'counter', addend: 0n }` or a section symbol such as `.bss.origin`. */
  target: RelocTarget | undefined;
}

/** A parameter or local variable of a subprogram (including those of blocks and inlined calls in it). */
export interface Local {
  name: string | undefined;
  kind: 'parameter' | 'variable';
  type: DwarfType | undefined;
  /** True for a `static` local (it also appears in DwarfInfo.variables). */
  static: boolean;
  /** The name of the inlined subroutine this local belongs to, if it came from one. */
  inlinedFrom: string | undefined;
}

/** A DW_TAG_subprogram: a function definition, declaration, abstract (inline) or concrete instance. */
export interface Subprogram {
  offset: InfoOffset;
  /** From the DIE or through DW_AT_abstract_origin / DW_AT_specification. */
  name: string | undefined;
  linkageName: string | undefined;
  external: boolean;
  declaration: boolean;
  /** An abstract instance (DW_AT_inline): it has no code of its own. */
  abstract: boolean;
  /** For a concrete out-of-line instance: the abstract instance's offset. */
  abstractOrigin: InfoOffset | undefined;
  /** DW_AT_low_pc, in a .o relative to `lowPcTarget`'s section. */
  lowPc: bigint | undefined;
  /** DW_AT_high_pc as an address (a DWARF 4+ constant high_pc is an offset from low_pc and is added). */
  highPc: bigint | undefined;
  /** In a .o: the relocation behind DW_AT_low_pc, e.g. `{ symbol: '.text.tick', sectionSymbol: true }`. */
  lowPcTarget: RelocTarget | undefined;
  /** [lowPc, highPc) or the DW_AT_ranges list (hot/cold split functions at -O2); empty without code. */
  ranges: AddressRange[];
  declFile: string | undefined;
  declLine: number | undefined;
  /** Undefined for void (and when unknown). */
  returnType: DwarfType | undefined;
  parameters: Local[];
  /** Variables of the function body, its blocks and the subroutines inlined into it. */
  locals: Local[];
  unit: CompileUnit;
}
