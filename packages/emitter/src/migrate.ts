// Type discovery and data traversal (the paper's §3 "Data Patching", steps i and ii): per object
// pair, the struct and union types whose layout changed between OLD and NEW (matched by name in the
// compilation unit, compared with describeType), then every writable variable present in both
// (global, file static, static local) whose type is or contains a changed struct. Such a variable
// gets new storage in the patch and a transformation from its old layout (transform-rows.ts); a
// variable that would need pointers followed (a pointer to a changed struct, a `void *` in a changed
// struct), a changed union, or any other change katana cannot convert is refused with
// E_UNSUPPORTED_CHANGE naming the variable and the reason. Without DWARF, a size change is refused.
// The DWARF variable of a symbol is the one whose DW_AT_location relocation names it (`stats`, or
// `.bss.count.0` + 0).
import { type ElfSymbol, SHN_COMMON } from '@katana/elf';
import { describeType, type DwarfInfo, type DwarfType, readDwarf, sizeOf, typeName, type Variable } from '@katana/dwarf';
import { demangleName, type TransformedMember, type TransformRow } from '@katana/po';
import { UnsupportedChangeError } from './errors.js';
import type { ObjectDiff } from './mark.js';
import type { ObjectModel } from './objects.js';
import { compositeNameOf, pointerToChanged, strip, transformRows } from './transform-rows.js';

/** A variable to move to new storage, with the program for its (element) type. */
export interface VariableMigration {
  diff: ObjectDiff;
  /** The NEW variable and its OLD counterpart. */
  symbol: ElfSymbol;
  old: ElfSymbol;
  /** Its DWARF name (a static local's without gcc's `.0`). */
  name: string;
  type: MigratedType;
  /** Element count of the NEW variable when it is an array. */
  elements?: number;
  /** Objects transformed: 1, or the smaller element count of an array. */
  count: number;
}

/** A changed struct type as the PO describes it. */
export interface MigratedType {
  name: string;
  file: string;
  oldSize: number;
  newSize: number;
  members: TransformedMember[];
  rows: TransformRow[];
}

/** What data patching needs of a diff: the variables to migrate and, per object, the changed type names. */
export interface Migration {
  variables: VariableMigration[];
  changedTypes: Map<ObjectDiff, Set<string>>;
}

/** Finds the variables whose type changed and plans their transformation; throws UnsupportedChangeError for what cannot be moved. */
export function planMigration(diffs: ObjectDiff[], warnings: string[]): Migration {
  const variables: VariableMigration[] = [];
  const changedTypes = new Map<ObjectDiff, Set<string>>();
  for (const diff of diffs) {
    if (!diff.oldSide) continue;
    const model = diff.newSide.model;
    const oldModel = diff.oldSide.model;
    const oldInfo = dwarfOf(oldModel, warnings);
    const newInfo = dwarfOf(model, warnings);
    const changed = oldInfo && newInfo ? changedTypeNames(oldInfo, newInfo) : new Set<string>();
    changedTypes.set(diff, changed);
    const types = new Map<string, MigratedType>();
    for (const v of model.variables) {
      const old = diff.correlation.oldOf(v);
      if (!old || model.isReadOnly(v)) continue;
      const oldVar = oldInfo && variableOf(oldInfo, oldModel, old);
      const newVar = newInfo && variableOf(newInfo, model, v);
      if (!oldVar?.type || !newVar?.type) {
        if (old.size !== v.size) refuse(v, model, `changed type (${old.size} → ${v.size} bytes); without DWARF katana cannot transform it`);
        continue;
      }
      if (describeType(oldVar.type) === describeType(newVar.type)) {
        const pointee = pointerToChanged(newVar.type, changed);
        // A `void *` outside a changed struct is left alone: nothing says it points at one.
        if (pointee && pointee !== 'void *') refuse(v, model, `points to ${pointee}, whose layout changed; following pointers is not supported yet`);
        continue;
      }
      const plan = planVariable(oldVar.type, newVar.type, changed, warnings, (reason) => refuse(v, model, reason));
      const key = plan.element.name;
      let type = types.get(key);
      if (!type) {
        const result = transformRows(plan.oldElement, plan.element.type, { names: changed, warnings });
        if ('refused' in result) refuse(v, model, result.refused);
        type = {
          name: key, file: model.file, oldSize: sizeOf(plan.oldElement)!, newSize: sizeOf(plan.element.type)!,
          members: membersOf(plan.element.type), rows: result.rows,
        };
        types.set(key, type);
      }
      variables.push({ diff, symbol: v, old, name: newVar.name, type, ...(plan.elements === undefined ? {} : { elements: plan.elements }), count: plan.count });
    }
  }
  return { variables, changedTypes };
}

/** Splits a variable's type into its struct element and array counts, or refuses. */
function planVariable(
  oldType: DwarfType, newType: DwarfType, changed: Set<string>, warnings: string[], refuse: (reason: string) => never,
): { element: { name: string; type: DwarfType }; oldElement: DwarfType; elements: number | undefined; count: number } {
  const o = strip(oldType);
  const n = strip(newType);
  if (o?.kind === 'array' && n?.kind === 'array') {
    if (o.dimensions.length !== 1 || n.dimensions.length !== 1) refuse('is a multi-dimensional array of a changed type, which is not supported yet');
    const oldCount = o.dimensions[0]!.count;
    const newCount = n.dimensions[0]!.count;
    if (oldCount === undefined || newCount === undefined) refuse('is an array of unknown size');
    const element = strip(n.type);
    const oldElement = strip(o.type);
    if (element?.kind !== 'structure' || oldElement?.kind !== 'structure') refuse(`changed type (${typeName(oldType)} → ${typeName(newType)}); only structs and arrays of structs are transformed`);
    const name = compositeNameOf(n.type) ?? refuse(`is an array of an anonymous struct without a typedef name (${typeName(newType)}), which katana does not transform yet`);
    if (oldCount !== newCount) warnings.push(`array ${typeName(newType)} changes from ${oldCount} to ${newCount} elements: the first ${Math.min(oldCount, newCount)} are kept`);
    return { element: { name, type: element }, oldElement, elements: newCount, count: Math.min(oldCount, newCount) };
  }
  if (o?.kind === 'union' || n?.kind === 'union') refuse(`is a union whose members changed (${typeName(newType)}); katana cannot tell which member holds the value`);
  if (o?.kind !== 'structure' || n?.kind !== 'structure') refuse(`changed type (${typeName(oldType)} → ${typeName(newType)}); only structs and arrays of structs are transformed`);
  const name = compositeNameOf(newType) ?? refuse(`is of an anonymous struct without a typedef name (${typeName(newType)}), which katana does not transform yet`);
  if (!changed.has(name)) refuse(`changed type (${typeName(oldType)} → ${typeName(newType)})`);
  return { element: { name, type: n }, oldElement: o, elements: undefined, count: 1 };
}

/** The new layout's members as the PO's DIE describes them. */
function membersOf(type: DwarfType): TransformedMember[] {
  if (type.kind !== 'structure') return [];
  return type.members.map((m) => {
    const t = strip(m.type);
    const base = t?.kind === 'base' ? { base: { name: t.name ?? '', encoding: t.encoding } } : {};
    return { name: m.name ?? '', offset: m.offset ?? 0, size: sizeOf(m.type) ?? 0, ...base };
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
