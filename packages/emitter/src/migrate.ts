// Type discovery and data traversal (the paper's §3 "Data Patching", steps i and ii): per object
// pair, the struct and union types whose layout changed between OLD and NEW (matched by name in the
// compilation unit, compared with describeType), then every writable variable present in both
// (global, file static, static local) that leads to one:
// - a variable whose type changed (a struct, an array of structs, a union with a transformer) gets
//   new storage in the patch and a transformation from its old layout (transform-rows.ts);
// - a variable whose type did not change but holds pointers to a changed type (`struct node *head`,
//   an array of them, a struct of them) keeps its storage and is updated in place: the applier
//   follows the pointers, transforms what they reach (heap blocks, other moved globals) and
//   rewrites them.
// Every type a followed pointer reaches gets a program too: a changed one moves its objects to new
// blocks, one of the same layout is only updated in place. A transformer (KATANA_TRANSFORM,
// transformers.ts) given for a changed type runs after its rows, and makes acceptable what the rows
// alone refuse (a changed union, a `void *`). Anything else katana cannot convert is refused with
// E_UNSUPPORTED_CHANGE naming the variable and the reason. Without DWARF, a size change is refused.
// Each type also gets its reverse program (NEW → OLD, for `katana rollback`), compiled by the same
// rules once every type of the object is known (its follow rows name the same type indices), and
// the members a rollback drops; a type converted by a transformer, or whose reverse would be refused,
// gets none, with a warning: rolling the patch back will be refused.
// The DWARF variable of a symbol is the one whose DW_AT_location relocation names it (`stats`, or
// `.bss.count.0` + 0).
import { type ElfSymbol, SHN_COMMON } from '@katana/elf';
import { describeType, type DwarfInfo, type DwarfType, readDwarf, sizeOf, typeName, type Variable } from '@katana/dwarf';
import { demangleName, type TransformedMember, type TransformRow } from '@katana/po';
import { UnsupportedChangeError } from './errors.js';
import type { ObjectDiff } from './mark.js';
import type { ObjectModel } from './objects.js';
import { findTransformers } from './transformers.js';
import { compositeNameOf, Refusal, reachesChanged, strip, transformRows, type ChangedTypes } from './transform-rows.js';

/** A variable whose data the patch transforms, with the program for its (element) type. */
export interface VariableMigration {
  diff: ObjectDiff;
  /** The NEW variable and its OLD counterpart. */
  symbol: ElfSymbol;
  old: ElfSymbol;
  /** Its DWARF name (a static local's without gcc's `.0`). */
  name: string;
  /** Index into Migration.types of its (element) type, or for a pointer its pointee's. */
  type: number;
  /** Element count of the NEW variable when it is an array. */
  elements?: number;
  /** Objects transformed: 1, or the smaller element count of an array. */
  count: number;
  /** Keeps its storage: only the pointers it holds are updated. */
  inPlace: boolean;
  /** The variable (or each element) is a pointer to the type. */
  pointer: boolean;
}

/** A type as the PO describes it; `rows` follow rows index Migration.types. */
export interface MigratedType {
  name: string;
  file: string;
  oldSize: number;
  newSize: number;
  members: TransformedMember[];
  rows: TransformRow[];
  /** The reverse program (rows over [0, oldSize) of an OLD object); absent when there is none. */
  rollbackRows?: TransformRow[];
  /** Member paths of NEW that OLD lacks: a rollback drops them. */
  droppedOnRollback?: string[];
  /** The NEW function KATANA_TRANSFORM gives for it. */
  transformer?: { diff: ObjectDiff; symbol: ElfSymbol };
}

/** What data patching needs of a diff. */
export interface Migration {
  types: MigratedType[];
  variables: VariableMigration[];
  /** Per object, the names of its changed types. */
  changedTypes: Map<ObjectDiff, Set<string>>;
}

/** Finds the variables whose data must change and plans their transformation; throws UnsupportedChangeError for what cannot be moved. */
export function planMigration(diffs: ObjectDiff[], warnings: string[]): Migration {
  const migration: Migration = { types: [], variables: [], changedTypes: new Map() };
  for (const diff of diffs) {
    if (!diff.oldSide) continue;
    const model = diff.newSide.model;
    const oldModel = diff.oldSide.model;
    const oldInfo = dwarfOf(oldModel, warnings);
    const newInfo = dwarfOf(model, warnings);
    const changed = oldInfo && newInfo ? changedTypeNames(oldInfo, newInfo) : new Set<string>();
    migration.changedTypes.set(diff, changed);
    const planner = new TypePlanner(diff, changed, migration.types, warnings);
    for (const v of model.variables) {
      const old = diff.correlation.oldOf(v);
      if (!old || model.isReadOnly(v)) continue;
      const oldVar = oldInfo && variableOf(oldInfo, oldModel, old);
      const newVar = newInfo && variableOf(newInfo, model, v);
      if (!oldVar?.type || !newVar?.type) {
        if (old.size !== v.size) refuse(v, model, `changed type (${old.size} → ${v.size} bytes); without DWARF katana cannot transform it`);
        continue;
      }
      if (!reachesChanged(newVar.type, changed)) {
        if (describeType(oldVar.type) !== describeType(newVar.type)) refuse(v, model, `changed type (${typeName(oldVar.type)} → ${typeName(newVar.type)})`);
        continue;
      }
      const plan = planVariable(oldVar.type, newVar.type, planner, warnings, (reason) => refuse(v, model, reason));
      migration.variables.push({ diff, symbol: v, old, name: newVar.name, ...plan });
    }
    planner.planRollback();
    for (const [name, fn] of planner.transformers) {
      if (!migration.types.some((t) => t.transformer?.symbol === fn)) warnings.push(`transformer ${fn.name} in ${model.file} is for ${name}, which no transformed data has: it is not called`);
    }
  }
  return migration;
}

/** The types of one object pair: each registered once, by name, with its program. */
class TypePlanner implements ChangedTypes {
  readonly transformers: Map<string, ElfSymbol>;
  private readonly indices = new Map<string, number>();
  /** The OLD and NEW DWARF type of each registered type (typedefs kept), by index. */
  private readonly pairs = new Map<number, { o: DwarfType; n: DwarfType }>();

  constructor(
    private readonly diff: ObjectDiff,
    readonly names: ReadonlySet<string>,
    private readonly types: MigratedType[],
    readonly warnings: string[],
  ) {
    this.transformers = findTransformers(diff.newSide.model);
  }

  follow(oldPointee: DwarfType, newPointee: DwarfType, what: string): number {
    const result = this.typeFor(oldPointee, newPointee);
    if (typeof result === 'string') throw new Refusal(`${what} points to ${typeName(newPointee)}: ${result}`);
    return result;
  }

  /** The index of the type OLD `oldType` → NEW `newType` (a struct or union, typedefs kept for its name), or why it cannot be transformed. */
  typeFor(oldType: DwarfType, newType: DwarfType): number | string {
    const name = compositeNameOf(newType);
    if (name === undefined) return `${typeName(newType)} is an anonymous struct or union without a typedef name, which katana does not transform yet`;
    const o = strip(oldType)!;
    const n = strip(newType)!;
    const known = this.indices.get(name);
    if (known !== undefined) return known;
    const oldSize = sizeOf(o);
    const newSize = sizeOf(n);
    if (oldSize === undefined || newSize === undefined) return `${name} has no known size`;
    const file = this.diff.newSide.model.file;
    const fn = this.transformers.get(name);
    const type: MigratedType = {
      name, file, oldSize, newSize, members: [], rows: [], ...(fn && this.names.has(name) ? { transformer: { diff: this.diff, symbol: fn } } : {}),
    };
    // Registered before its rows: a `struct node *next` inside struct node follows to itself.
    const index = this.types.push(type) - 1;
    this.indices.set(name, index);
    this.pairs.set(index, { o: oldType, n: newType });
    const result = transformRows(oldType, newType, this);
    if ('refused' in result) {
      if (!type.transformer) return result.refused;
      this.warnings.push(`${name} is converted by its transformer ${fn!.name} alone (${result.refused})`);
      type.rows = [{ offset: 0, size: newSize, rule: { kind: 'keep' } }];
    } else {
      type.rows = result.rows;
      for (const path of result.removed) this.warnings.push(`member '${path}' of ${name} was removed: its values are dropped`);
    }
    type.members = membersOf(n, this.types, this.indices);
    return index;
  }

  /**
   * Compiles the reverse program (NEW → OLD) of every type registered here, once all are: a follow
   * row of a reverse program names the pointee's index, whose own reverse program transforms it back.
   */
  planRollback(): void {
    for (const [index, { o, n }] of this.pairs) {
      const type = this.types[index]!;
      const reverse: ChangedTypes = {
        names: this.names,
        warnings: [],
        follow: (newPointee, oldPointee, what) => {
          const name = compositeNameOf(newPointee);
          const pointee = name === undefined ? undefined : this.indices.get(name);
          const pair = pointee === undefined ? undefined : this.pairs.get(pointee);
          if (pointee === undefined || !pair || compositeNameOf(pair.o) !== compositeNameOf(oldPointee)) {
            throw new Refusal(`${what} points to ${typeName(newPointee)}, which the patch does not transform from ${typeName(oldPointee)}`);
          }
          return pointee;
        },
      };
      const result = type.transformer ? { refused: `its transformer ${type.transformer.symbol.name} has no reverse` } : transformRows(n, o, reverse);
      if ('refused' in result) {
        this.warnings.push(`${type.name} cannot be transformed back (${result.refused}): katana rollback will refuse this patch`);
        continue;
      }
      type.rollbackRows = result.rows;
      if (result.removed.length > 0) type.droppedOnRollback = result.removed;
      for (const w of reverse.warnings) this.warnings.push(`on rollback, ${w}`);
    }
  }
}

/** How one variable is transformed: its (element or pointee) type, counts, in place or moved. */
function planVariable(
  oldType: DwarfType, newType: DwarfType, planner: TypePlanner, warnings: string[], refuse: (reason: string) => never,
): Omit<VariableMigration, 'diff' | 'symbol' | 'old' | 'name'> {
  const o = strip(oldType);
  const n = strip(newType);
  const inPlace = describeType(oldType) === describeType(newType);
  // The element types with their typedefs (a typedef names an anonymous struct), and stripped.
  let oldNamed: DwarfType | undefined = oldType;
  let newNamed: DwarfType | undefined = newType;
  let oldElement = o;
  let newElement = n;
  let elements: number | undefined;
  let count = 1;
  if (o?.kind === 'array' && n?.kind === 'array') {
    if (o.dimensions.length !== 1 || n.dimensions.length !== 1) refuse('is a multi-dimensional array leading to a changed type, which is not supported yet');
    const oldCount = o.dimensions[0]!.count;
    const newCount = n.dimensions[0]!.count;
    if (oldCount === undefined || newCount === undefined) refuse('is an array of unknown size');
    if (oldCount !== newCount) warnings.push(`array ${typeName(newType)} changes from ${oldCount} to ${newCount} elements: the first ${Math.min(oldCount, newCount)} are kept`);
    oldNamed = o.type;
    newNamed = n.type;
    oldElement = strip(o.type);
    newElement = strip(n.type);
    elements = newCount;
    count = Math.min(oldCount, newCount);
  }
  const pointer = newElement?.kind === 'pointer';
  if (newElement?.kind === 'pointer') {
    if (!inPlace || oldElement?.kind !== 'pointer') refuse(`changed type (${typeName(oldType)} → ${typeName(newType)})`);
    const oldPointee = strip(oldElement.type);
    const newPointee = strip(newElement.type);
    if (newPointee?.kind === 'pointer') refuse('is a pointer to a pointer leading to a changed struct, which katana does not follow');
    if (!oldPointee || !newPointee || (newPointee.kind !== 'structure' && newPointee.kind !== 'union')) refuse(`points to ${typeName(newPointee)}, which katana cannot follow`);
    oldNamed = oldElement.type;
    newNamed = newElement.type;
    oldElement = oldPointee;
    newElement = newPointee;
  }
  if (!oldElement || !newElement || (newElement.kind !== 'structure' && newElement.kind !== 'union') || newElement.kind !== oldElement.kind) {
    refuse(`changed type (${typeName(oldType)} → ${typeName(newType)}); only structs, unions with a transformer, arrays of them and pointers to them are transformed`);
  }
  const name = compositeNameOf(newNamed);
  if (name === undefined) refuse(`is of an anonymous ${newElement.kind} without a typedef name (${typeName(newType)}), which katana does not transform yet`);
  if (newElement.kind === 'union' && !planner.transformers.has(name)) {
    refuse(`is a union whose members changed (${name}); katana cannot tell which member holds the value: give it a KATANA_TRANSFORM transformer`);
  }
  const type = planner.typeFor(oldNamed!, newNamed!);
  if (typeof type === 'string') refuse(`cannot be transformed: ${type}; the new source can give ${name} a KATANA_TRANSFORM transformer (docs/data-patching.md)`);
  return { type, ...(elements === undefined ? {} : { elements }), count, inPlace, pointer };
}

/** The new layout's members as the PO's DIE describes them (pointers to a registered type point at it). */
function membersOf(type: DwarfType, types: MigratedType[], indices: ReadonlyMap<string, number>): TransformedMember[] {
  if (type.kind !== 'structure' && type.kind !== 'union') return [];
  return type.members.map((m) => {
    const t = strip(m.type);
    const base = t?.kind === 'base' ? { base: { name: t.name ?? '', encoding: t.encoding } } : {};
    const pointee = t?.kind === 'pointer' ? compositeNameOf(t.type) : undefined;
    const pointsTo = pointee !== undefined ? indices.get(pointee) : undefined;
    return { name: m.name ?? '', offset: m.offset ?? 0, size: sizeOf(m.type) ?? 0, ...base, ...(pointsTo === undefined || !types[pointsTo] ? {} : { pointsTo }) };
  });
}

/**
 * The names ('struct stats', 'union u', 'stats_t' for a typedef of an anonymous struct) of every
 * struct or union of NEW whose same-named OLD type has another layout.
 */
function changedTypeNames(oldInfo: DwarfInfo, newInfo: DwarfInfo): Set<string> {
  const oldLayouts = new Map<string, string>();
  for (const unit of oldInfo.units) {
    for (const t of unit.types) {
      const name = definedCompositeName(t);
      if (name !== undefined) oldLayouts.set(name, describeType(t));
    }
  }
  const changed = new Set<string>();
  for (const unit of newInfo.units) {
    for (const t of unit.types) {
      const name = definedCompositeName(t);
      if (name === undefined) continue;
      const old = oldLayouts.get(name);
      if (old !== undefined && old !== describeType(t)) changed.add(name);
    }
  }
  return changed;
}

/** The name of a struct or union definition with a tag, or of a typedef naming an anonymous one; undefined otherwise. */
function definedCompositeName(t: DwarfType): string | undefined {
  if (t.kind === 'structure' || t.kind === 'union') return t.name !== undefined && !t.declaration ? typeName(t) : undefined;
  if (t.kind !== 'typedef') return undefined;
  const target = strip(t.type);
  return (target?.kind === 'structure' || target?.kind === 'union') && target.name === undefined && !target.declaration ? t.name : undefined;
}

function refuse(v: ElfSymbol, model: ObjectModel, reason: string): never {
  throw new UnsupportedChangeError(`variable '${demangleName(v.name)}' in ${model.file} ${reason}`);
}

function dwarfOf(model: ObjectModel, warnings: string[]): DwarfInfo | undefined {
  if (!model.object.elf.section('.debug_info')) return undefined;
  try {
    return readDwarf(model.object.elf);
  } catch (cause) {
    warnings.push(`cannot read the DWARF of ${model.file} (${(cause as Error).message}); variable types are compared by size only`);
    return undefined;
  }
}

/** The DWARF variable whose location is symbol `s` of `model`. */
function variableOf(info: DwarfInfo, model: ObjectModel, s: ElfSymbol): Variable | undefined {
  const section = s.shndx === SHN_COMMON ? undefined : model.section(s.shndx).name;
  return info.variables.find((v) => {
    const target = v.location?.target;
    if (!target) return false;
    if (!target.sectionSymbol) return target.symbol === s.name;
    return target.symbol === section && target.addend === s.value;
  });
}
