// The Patch Object as a value: what the emitter builds, what write.ts turns into an ELF relocatable
// and read.ts turns back, and what the applier consumes. docs/po-format.md maps each field to its
// ELF section.

/** The sections a patch brings into the process ('ehFrame': the CFI of the new code, .eh_frame). */
export type PoSectionKind = 'text' | 'rodata' | 'data' | 'bss' | 'ehFrame';

/** The ELF name of each PO section. */
export const PO_SECTION_NAMES: Record<PoSectionKind, string> = {
  text: '.text.new',
  rodata: '.rodata.new',
  data: '.data.new',
  bss: '.bss.new',
  ehFrame: '.eh_frame',
};

/** Alignment the writer gives each section, and the applier honours when laying them out. */
export const PO_SECTION_ALIGN: Record<PoSectionKind, number> = { text: 16, rodata: 32, data: 32, bss: 32, ehFrame: 8 };

export interface PatchObject {
  /** Lowercase hex NT_GNU_BUILD_ID of the module the patch applies to. */
  targetBuildId: string;
  /** File name of that module when the patch was made (for messages only, e.g. "castle"). */
  targetName: string;
  /** .text.new: the code of every changed and new function. */
  text: Uint8Array;
  /** .rodata.new: string literals and constants the new code uses. */
  rodata: Uint8Array;
  /** .data.new: new initialised variables. */
  data: Uint8Array;
  /** .bss.new: size of new zero-initialised variables. */
  bssSize: number;
  /** Every symbol the patch defines or references; relocations index into this array. */
  symbols: PoSymbol[];
  relocations: PoRelocation[];
  /** Changed and new functions, each defined in .text.new. */
  functions: PatchFunction[];
  /** .unsafe_functions: target functions no thread may be in, or return into, while the patch switches. */
  unsafe: UnsafeFunction[];
  /**
   * .eh_frame: a CIE and one FDE per function of .text.new whose compiler gave it CFI, ended by a
   * zero terminator; its R_X86_64_PC32 relocations (section 'ehFrame') point each FDE at its
   * function. Absent or empty: the patch brings no CFI.
   */
  ehFrame?: Uint8Array;
  /**
   * The patches the target must already have, oldest first, as patch ids (patchObjectId: sha256 of
   * a PO file, 64 hex digits); [] or absent for a patch made for the original build.
   */
  basePatches?: string[];
  /**
   * Struct types whose layout changed, each with the program that turns one old object into one new
   * object (.debug_info structure DIE + its .debug_frame FDE). Absent or empty: no data changes.
   */
  types?: TransformedType[];
  /** Variables of the target moved to new storage in the patch, transformed through `types`. */
  dataTransforms?: DataTransform[];
}

/**
 * A structure type whose layout changed (the paper's type discovery), as its NEW layout, with the
 * FDE program that fills one new object from one old one.
 */
export interface TransformedType {
  /** C spelling: 'struct stats' or 'union value'. */
  name: string;
  /** The source file (compile unit) the type is described in. */
  file: string;
  oldSize: number;
  newSize: number;
  /** The new layout's members (for the DIE and for `katana inspect`). */
  members: TransformedMember[];
  /** The transformation: rows covering [0, newSize) of the new object, in offset order. */
  rows: TransformRow[];
  /**
   * The reverse program, for `katana rollback`: rows covering [0, oldSize) of an OLD object, filled
   * from a NEW one (a follow row's type is the pointee's index here too: its reverse program runs on
   * it). Absent when the reverse cannot be compiled (a type converted by a transformer): a rollback
   * of the patch is refused.
   */
  rollbackRows?: TransformRow[];
  /**
   * What a rollback drops: the members of the new layout the old one lacks, as paths in the type
   * ('weight', 'inner.extra', 'items[].extra'). Absent or empty: nothing. Only with rollbackRows.
   */
  droppedOnRollback?: string[];
  /**
   * Index into PatchObject.symbols of the transformer the new source provides for the type
   * (KATANA_TRANSFORM, docs/data-patching.md): the applier calls it in the target on (new, old) for
   * each object, after the rows.
   */
  transformer?: number;
  /** The stage of the data transformation the type belongs to (see DataTransform.stage); absent: 0. */
  stage?: number;
}

/** A member of a transformed type in its new layout. */
export interface TransformedMember {
  name: string;
  offset: number;
  size: number;
  /** Set when the member is of a base type: its DWARF name and DW_ATE_* encoding. */
  base?: { name: string; encoding: number };
  /** Set when the member is a pointer the applier follows: index into PatchObject.types of its pointee. */
  pointsTo?: number;
}

/**
 * One row of a transformation program: the bytes [offset, offset + size) of the new object, and where
 * they come from. 'keep': they keep what the new object holds (the new initializer, DW_CFA_same_value);
 * 'expression': they are copied from the old object at the address the DWARF expression computes from
 * CURR_TARG_OLD (DW_CFA_expression); 'val-expression': they are the low `size` bytes of the value the
 * expression computes (DW_CFA_val_expression: integer conversion); 'follow': an 8-byte pointer copied like
 * 'expression', then followed: the object it points at (of PatchObject.types[type]) is transformed
 * too and the pointer updated to its new copy. docs/po-format.md has the encoding.
 */
export interface TransformRow {
  offset: number;
  size: number;
  rule:
    | { kind: 'keep' }
    | { kind: 'expression' | 'val-expression'; expression: Uint8Array }
    | { kind: 'follow'; expression: Uint8Array; type: number };
}

/** A variable of the target whose type changed: its old storage is transformed into new storage in the patch. */
export interface DataTransform {
  /** Its name in the source ('stats'; a static local's name without gcc's `.0`). */
  variable: string;
  /** Source file relative to the project root. */
  file: string;
  /** Index into PatchObject.types of its (element) type. */
  type: number;
  /** Index into PatchObject.symbols of the target's storage (an undefined symbol with a value). */
  oldSymbol: number;
  /** Index into PatchObject.symbols of the new storage (defined in 'data' or 'bss'). */
  newSymbol: number;
  /** Element count of the NEW variable when it is an array; undefined for a single object. */
  elements?: number;
  /** Objects transformed: 1, or for an array the smaller of the old and the new element count. */
  count: number;
  /**
   * Set when the variable keeps its storage (oldSymbol === newSymbol): its layout did not change but
   * it holds pointers to a transformed type, which are followed and updated where they are.
   */
  inPlace?: true;
  /** Set when the variable (or each element) is a pointer to PatchObject.types[type], followed and updated in place. */
  pointer?: true;
  /**
   * When the applier transforms it: every variable of stage 0 (and what its pointers reach), then
   * every variable of stage 1, reading what stage 0 wrote, and so on, all in one stop. Only a
   * composed patch has stages above 0 (`katana compose` of two patches that transform data: B's
   * variables read the storage A's wrote). A stage's variables and follow rows name types of the
   * same stage. Absent: 0.
   */
  stage?: number;
}

/** A symbol of the PO: either defined in one of its sections, or a reference into the target. */
export interface PoSymbol {
  name: string;
  /** 'section' symbols stand for the start of a PO section (relocations against anonymous data). */
  type: 'func' | 'object' | 'tls' | 'notype' | 'section';
  bind: 'local' | 'global' | 'weak';
  /** Source file (relative to the project root) for local symbols; absent for globals. */
  file?: string;
  size: number;
  /** Set when the patch defines the symbol: the section and offset inside it. */
  defined?: { section: PoSectionKind; offset: number };
  /**
   * Set when the symbol lives in the target. `value` is its link-time value in the target module
   * (st_value; for an IFUNC, the module's PLT entry that calls its implementation; for TLS, the
   * offset in the module's TLS block); the applier adds the load bias.
   * Absent `value` means: a dynamic symbol, resolved by name among the process's loaded libraries.
   */
  target?: { value?: bigint };
}

/** One RELA entry of .rela.text.new, .rela.rodata.new or .rela.data.new. */
export interface PoRelocation {
  section: PoSectionKind;
  offset: number;
  /** R_X86_64_* as the compiler emitted it. */
  type: number;
  /** Index into PatchObject.symbols. */
  symbol: number;
  addend: bigint;
}

/** A function whose code is in .text.new. */
export interface PatchFunction {
  /** Index into PatchObject.symbols of its definition (defined in 'text'). */
  symbol: number;
  name: string;
  /** Source file relative to the project root. */
  file: string;
  /** Size of the new code in bytes. */
  size: number;
  /** The target function this one replaces (link-time address, size); absent for a new function. */
  replaces?: { address: bigint; size: number };
}

/** An entry of .unsafe_functions. */
export interface UnsafeFunction {
  name: string;
  file?: string;
  /** Link-time address and size of the function in the target module. */
  address: bigint;
  size: number;
  /**
   * Index into PatchObject.symbols of the function a trampoline at `address` jumps to, or undefined
   * when the function is unsafe without being redirected (a `.cold` part, a user of changed data).
   */
  redirectTo?: number;
}
