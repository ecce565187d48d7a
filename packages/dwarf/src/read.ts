// readDwarf: from an ELF file to the model. Phases: load and relocate the sections (sections.ts),
// read every unit's DIE tree (read/info.ts), index DIEs by offset (references may cross units via
// DW_FORM_ref_addr), then walk each unit in DIE order building types (types.ts), variables and
// subprograms. Concrete instances (-O2) carry no names of their own: names, types and decl
// coordinates come through DW_AT_abstract_origin / DW_AT_specification (attributes.ts).
import type { ElfFile } from '@katana/elf';
import { flagAttr, holderOf, numberAttr, originChain, refAttr, stringAttr } from './attributes.js';
import * as C from './constants.js';
import { DwarfFormatError } from './errors.js';
import { staticLocation } from './location.js';
import type { CompileUnit, DwarfInfo, Local, Subprogram, Variable } from './model.js';
import { attr } from './read/die.js';
import type { Die, InfoOffset, Unit } from './read/die.js';
import { readUnits } from './read/info.js';
import { readFileTable } from './read/line.js';
import type { FileTable } from './read/line.js';
import { readRanges } from './read/ranges.js';
import type { AddressRange } from './read/ranges.js';
import { loadDebugSections } from './sections.js';
import type { DebugSections } from './sections.js';
import { TypeBuilder, isTypeTag } from './types.js';

/** Reads the DWARF of `elf` into the model; a file without .debug_info gives no units. Throws DwarfFormatError. */
export function readDwarf(elf: ElfFile): DwarfInfo {
  return readDwarfSections(loadDebugSections(elf));
}

/** Reads already loaded (and relocated) debug sections into the model. */
export function readDwarfSections(sections: DebugSections): DwarfInfo {
  const units = readUnits(sections);
  const dies = new Map<number, Die>();
  for (const unit of units) forEachDie(unit.root, (die) => void dies.set(die.offset, die));
  const dieAt = (offset: InfoOffset): Die | undefined => dies.get(offset);
  const builder = new TypeBuilder(dieAt);
  const files = new Map<Unit, FileTable>();
  const filesOf = (unit: Unit): FileTable => {
    let table = files.get(unit);
    if (!table) {
      const stmtList = attr(unit.root, C.DW_AT_stmt_list);
      table = stmtList && (stmtList.value.class === 'sec_offset' || stmtList.value.class === 'constant')
        ? readFileTable(sections, Number(stmtList.value.value)) : [];
      files.set(unit, table);
    }
    return table;
  };
  const context: Context = { sections, dieAt, builder, filesOf };
  const compileUnits = units.map((unit) => buildUnit(unit, context));
  return {
    path: sections.path,
    relocatable: sections.relocatable,
    units: compileUnits,
    variables: compileUnits.flatMap((u) => u.variables),
    subprograms: compileUnits.flatMap((u) => u.subprograms),
    dieAt,
    typeAt: (offset) => builder.typeAt(offset),
  };
}

interface Context {
  sections: DebugSections;
  dieAt: (offset: InfoOffset) => Die | undefined;
  builder: TypeBuilder;
  filesOf: (unit: Unit) => FileTable;
}

/** Calls `visit` on `root` and its descendants in DIE order, without recursion. */
function forEachDie(root: Die, visit: (die: Die) => void, enter: (die: Die) => boolean = () => true): void {
  const stack: Die[] = [root];
  while (stack.length > 0) {
    const die = stack.pop()!;
    visit(die);
    if (die === root || enter(die)) for (let i = die.children.length - 1; i >= 0; i--) stack.push(die.children[i]!);
  }
}

function buildUnit(unit: Unit, ctx: Context): CompileUnit {
  const root = unit.root;
  const lowPc = attr(root, C.DW_AT_low_pc);
  const cu: CompileUnit = {
    offset: unit.offset,
    version: unit.version,
    unitType: unit.unitType,
    addressSize: unit.addressSize,
    name: stringAttr(root, C.DW_AT_name),
    compDir: stringAttr(root, C.DW_AT_comp_dir),
    producer: stringAttr(root, C.DW_AT_producer),
    language: numberAttr(root, C.DW_AT_language),
    lowPc: lowPc?.value.class === 'address' ? lowPc.value.value : undefined,
    ranges: codeRanges(root, undefined, ctx),
    files: ctx.filesOf(unit),
    types: [],
    variables: [],
    subprograms: [],
    die: root,
  };
  const completed = new Set<number>();
  forEachDie(root, (die) => {
    if (die === root) return;
    if (isTypeTag(die.tag)) cu.types.push(ctx.builder.build(die));
    else if (die.tag === C.DW_TAG_variable) {
      const spec = refAttr(die, C.DW_AT_specification, ctx.dieAt);
      if (spec) completed.add(spec.offset);
      const variable = buildVariable(die, cu, ctx);
      if (variable) cu.variables.push(variable);
    } else if (die.tag === C.DW_TAG_subprogram) cu.subprograms.push(buildSubprogram(die, cu, ctx));
  });
  // A declaration completed by a definition in this unit (`extern int x; int x = 1;`) is the same
  // variable: keep only the definition.
  cu.variables = cu.variables.filter((v) => !(v.scope === 'extern-declaration' && completed.has(v.offset)));
  return cu;
}

/** The nearest enclosing subprogram or inlined subroutine of `die`, if any. */
function enclosingFunction(die: Die): Die | undefined {
  for (let p = die.parent; p; p = p.parent) {
    if (p.tag === C.DW_TAG_subprogram || p.tag === C.DW_TAG_inlined_subroutine) return p;
  }
  return undefined;
}

function nameOf(die: Die, ctx: Context): string | undefined {
  const chain = originChain(die, ctx.dieAt);
  const holder = holderOf(chain, C.DW_AT_name);
  return holder && stringAttr(holder, C.DW_AT_name);
}

function declCoordinates(chain: Die[], ctx: Context): { declFile: string | undefined; declLine: number | undefined } {
  const fileHolder = holderOf(chain, C.DW_AT_decl_file);
  const lineHolder = holderOf(chain, C.DW_AT_decl_line);
  const index = fileHolder && numberAttr(fileHolder, C.DW_AT_decl_file);
  return {
    declFile: index === undefined ? undefined : ctx.filesOf(fileHolder!.unit)[index],
    declLine: lineHolder && numberAttr(lineHolder, C.DW_AT_decl_line),
  };
}

function buildVariable(die: Die, cu: CompileUnit, ctx: Context): Variable | undefined {
  const parentTag = die.parent?.tag;
  // C++ static data members are declared inside their class; they are not variables of their own.
  if (parentTag === C.DW_TAG_structure_type || parentTag === C.DW_TAG_class_type || parentTag === C.DW_TAG_union_type) return undefined;
  const chain = originChain(die, ctx.dieAt);
  const nameHolder = holderOf(chain, C.DW_AT_name);
  const name = nameHolder && stringAttr(nameHolder, C.DW_AT_name);
  if (name === undefined) return undefined;
  const location = staticLocation(die, ctx.sections);
  const declaration = flagAttr(die, C.DW_AT_declaration);
  const fn = enclosingFunction(die);
  let scope: Variable['scope'];
  if (declaration && !location) scope = 'extern-declaration';
  else if (!fn) scope = 'file';
  else if (location) {
    // The concrete copy of a static local whose abstract instance already has the location is the
    // same variable.
    const origin = refAttr(die, C.DW_AT_abstract_origin, ctx.dieAt);
    if (origin && staticLocation(origin, ctx.sections)) return undefined;
    scope = 'static-local';
  } else return undefined; // an automatic local: it belongs to its subprogram's locals
  const typeHolder = holderOf(chain, C.DW_AT_type);
  const externalHolder = holderOf(chain, C.DW_AT_external);
  const linkageHolder = holderOf(chain, C.DW_AT_linkage_name) ?? holderOf(chain, C.DW_AT_MIPS_linkage_name);
  return {
    offset: die.offset,
    name,
    linkageName: linkageHolder && (stringAttr(linkageHolder, C.DW_AT_linkage_name) ?? stringAttr(linkageHolder, C.DW_AT_MIPS_linkage_name)),
    scope,
    function: fn && nameOf(fn, ctx),
    external: externalHolder ? flagAttr(externalHolder, C.DW_AT_external) : false,
    type: typeHolder && ctx.builder.typeOf(typeHolder),
    location,
    ...declCoordinates(chain, ctx),
    unit: cu,
  };
}

function buildSubprogram(die: Die, cu: CompileUnit, ctx: Context): Subprogram {
  const chain = originChain(die, ctx.dieAt);
  const get = <T>(name: number, read: (d: Die, n: number) => T): T | undefined => {
    const holder = holderOf(chain, name);
    return holder && read(holder, name);
  };
  const lowAttr = attr(die, C.DW_AT_low_pc);
  const low = lowAttr?.value.class === 'address' ? lowAttr.value : undefined;
  const ranges = codeRanges(die, cu.die, ctx);
  const highPc = low && attr(die, C.DW_AT_high_pc) ? ranges[0]?.high : undefined;
  const typeHolder = holderOf(chain, C.DW_AT_type);
  const { parameters, locals } = localsOf(die, ctx);
  return {
    offset: die.offset,
    name: get(C.DW_AT_name, stringAttr),
    linkageName: get(C.DW_AT_linkage_name, stringAttr) ?? get(C.DW_AT_MIPS_linkage_name, stringAttr),
    external: get(C.DW_AT_external, flagAttr) ?? false,
    declaration: flagAttr(die, C.DW_AT_declaration),
    abstract: attr(die, C.DW_AT_inline) !== undefined,
    abstractOrigin: refAttr(die, C.DW_AT_abstract_origin, ctx.dieAt)?.offset,
    lowPc: low?.value,
    highPc,
    lowPcTarget: low?.target,
    ranges,
    ...declCoordinates(chain, ctx),
    returnType: typeHolder && ctx.builder.typeOf(typeHolder),
    parameters,
    locals,
    unit: cu,
  };
}

/**
 * The code ranges of a unit or subprogram DIE: its DW_AT_ranges list (offsets relative to the
 * unit's DW_AT_low_pc), or [DW_AT_low_pc, DW_AT_high_pc) where a constant high_pc is a length.
 */
function codeRanges(die: Die, unitDie: Die | undefined, ctx: Context): AddressRange[] {
  const rangesAttr = attr(die, C.DW_AT_ranges);
  if (rangesAttr) {
    const unitLow = attr(unitDie ?? die, C.DW_AT_low_pc);
    const base = unitLow?.value.class === 'address' ? unitLow.value : { value: 0n, target: undefined };
    return readRanges(ctx.sections, die.unit, rangesAttr.value, base);
  }
  const low = attr(die, C.DW_AT_low_pc);
  const high = attr(die, C.DW_AT_high_pc);
  if (low?.value.class !== 'address' || !high) return [];
  let highPc: bigint;
  if (high.value.class === 'address') highPc = high.value.value;
  else if (high.value.class === 'constant') highPc = low.value.value + high.value.value;
  else throw new DwarfFormatError('.debug_info', high.offset, `DW_AT_high_pc of class ${high.value.class}`);
  if (highPc < low.value.value) throw new DwarfFormatError('.debug_info', high.offset, 'DW_AT_high_pc is below DW_AT_low_pc');
  return [{ low: low.value.value, high: highPc, target: low.value.target }];
}

/**
 * The parameters (direct DW_TAG_formal_parameter children) and locals (every variable below, in
 * blocks and inlined subroutines, and their parameters) of a subprogram. A concrete instance also
 * gets the locals of its abstract instance that it does not repeat (static locals live only there).
 */
function localsOf(die: Die, ctx: Context): { parameters: Local[]; locals: Local[] } {
  const parameters: Local[] = [];
  const locals: Local[] = [];
  const seenOrigins = new Set<number>();
  const collect = (top: Die, skipSeen: boolean): void => {
    forEachDie(top, (d) => {
      if (d === top || (d.tag !== C.DW_TAG_variable && d.tag !== C.DW_TAG_formal_parameter)) return;
      if (skipSeen && seenOrigins.has(d.offset)) return;
      const origin = refAttr(d, C.DW_AT_abstract_origin, ctx.dieAt);
      if (origin) seenOrigins.add(origin.offset);
      const chain = originChain(d, ctx.dieAt);
      const typeHolder = holderOf(chain, C.DW_AT_type);
      const inlined = enclosingFunction(d);
      const local: Local = {
        name: nameOf(d, ctx),
        kind: d.tag === C.DW_TAG_formal_parameter ? 'parameter' : 'variable',
        type: typeHolder && ctx.builder.typeOf(typeHolder),
        static: staticLocation(d, ctx.sections) !== undefined
          || (origin !== undefined && staticLocation(origin, ctx.sections) !== undefined),
        inlinedFrom: inlined && inlined.tag === C.DW_TAG_inlined_subroutine ? nameOf(inlined, ctx) : undefined,
      };
      if (d.parent === top && d.tag === C.DW_TAG_formal_parameter) parameters.push(local);
      else locals.push(local);
    }, (d) => d.tag !== C.DW_TAG_subprogram);
  };
  collect(die, false);
  const origin = refAttr(die, C.DW_AT_abstract_origin, ctx.dieAt);
  if (origin && origin.tag === C.DW_TAG_subprogram) collect(origin, true);
  return { parameters, locals };
}

