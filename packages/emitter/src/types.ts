// Refusing changed variable types. New code must use the target's storage of every variable that
// still exists; if the variable's type changed (a field added to `struct config`), the old storage
// has the old layout and new code would misread it. Transforming data is not supported yet, so a
// writable variable present in OLD and NEW is refused when its DWARF type layout (describeType of
// @katana/dwarf) differs, or, for objects without DWARF, when its size differs. The DWARF variable
// of a symbol is the one whose DW_AT_location relocation names it (`config`, or `.bss.count.0` + 0).
import { type ElfSymbol, SHN_COMMON } from '@katana/elf';
import { describeType, type DwarfInfo, readDwarf, typeName, type Variable } from '@katana/dwarf';
import { demangleName } from '@katana/po';
import { UnsupportedChangeError } from './errors.js';
import type { ObjectDiff } from './mark.js';
import type { ObjectModel } from './objects.js';

/** Throws UnsupportedChangeError naming the first variable whose type changed between OLD and NEW. */
export function checkVariableTypes(diffs: ObjectDiff[], warnings: string[]): void {
  for (const diff of diffs) {
    if (!diff.oldSide) continue;
    const model = diff.newSide.model;
    const oldModel = diff.oldSide.model;
    const oldInfo = dwarfOf(oldModel, warnings);
    const newInfo = dwarfOf(model, warnings);
    for (const v of model.variables) {
      const old = diff.correlation.oldOf(v);
      if (!old || model.isReadOnly(v)) continue;
      const oldVar = oldInfo && variableOf(oldInfo, oldModel, old);
      const newVar = newInfo && variableOf(newInfo, model, v);
      if (oldVar?.type && newVar?.type) {
        if (describeType(oldVar.type) === describeType(newVar.type)) continue;
        refuse(v, model, `${typeName(newVar.type)}: ${old.size} → ${v.size} bytes`);
      }
      if (old.size !== v.size) refuse(v, model, `${old.size} → ${v.size} bytes`);
    }
  }
}

function refuse(v: ElfSymbol, model: ObjectModel, change: string): never {
  throw new UnsupportedChangeError(
    `variable '${demangleName(v.name)}' in ${model.file} changed type (${change}); data patching of changed types is not supported yet`,
  );
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
