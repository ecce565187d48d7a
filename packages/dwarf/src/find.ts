// Lookups the emitter and applier need on a DwarfInfo: a variable by name (file scope) or by
// (function, name) for static locals, which gcc renames in the symbol table (`count.0`) but not in
// DWARF; subprograms by name; named types by their C spelling.
import { typeName } from './describe.js';
import type { DwarfInfo, DwarfType, Subprogram, Variable } from './model.js';

/**
 * The variable `name`: with `options.function`, the static local of that function; otherwise the
 * file-scope definition (preferring an external one), or failing that an extern declaration.
 */
export function findVariable(info: DwarfInfo, name: string, options: { function?: string } = {}): Variable | undefined {
  const candidates = info.variables.filter((v) => v.name === name);
  if (options.function !== undefined) {
    return candidates.find((v) => v.scope === 'static-local' && v.function === options.function);
  }
  const definitions = candidates.filter((v) => v.scope === 'file');
  return definitions.find((v) => v.external) ?? definitions[0] ?? candidates.find((v) => v.scope === 'extern-declaration');
}

/** Every subprogram DIE named `name` (a declaration, an abstract instance, concrete instances, the definition). */
export function findSubprograms(info: DwarfInfo, name: string): Subprogram[] {
  return info.subprograms.filter((s) => s.name === name);
}

/** The first complete type whose C spelling is `name` ('struct point', 'point_t', 'enum color'). */
export function findType(info: DwarfInfo, name: string): DwarfType | undefined {
  let declaration: DwarfType | undefined;
  for (const unit of info.units) {
    for (const type of unit.types) {
      if (type.name === undefined || typeName(type) !== name) continue;
      if (!('declaration' in type) || !type.declaration) return type;
      declaration ??= type;
    }
  }
  return declaration;
}

/**
 * True when `function` (any of its instances) has a parameter or local whose type's C spelling is
 * `type`, looking through typedefs, qualifiers and arrays, and also through pointers when
 * `throughPointers` (a `struct node *cursor` mentions struct node).
 */
export function hasLocalOfType(info: DwarfInfo, fn: string, type: string, throughPointers = false): boolean {
  return findSubprograms(info, fn).some((s) => [...s.parameters, ...s.locals].some((l) => mentions(l.type, type, throughPointers)));
}

function mentions(t: DwarfType | undefined, name: string, throughPointers: boolean): boolean {
  for (let depth = 0; t && depth < 64; depth++) {
    if (typeName(t) === name) return true;
    if (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'atomic' || t.kind === 'array') t = t.type;
    else if (throughPointers && t.kind === 'pointer') t = t.type;
    else return false;
  }
  return false;
}
