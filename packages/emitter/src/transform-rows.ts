// Compiles "old type → new type" into the rows of a transformation program (the FDE of a changed
// struct, see transform-program.ts of @katana/po): members are matched by name; a member of the same
// layout is copied byte for byte; integers (and enums) of different sizes are converted, sign- or
// zero-extended per the OLD type's DW_ATE encoding and truncated (low bytes kept) when narrower; a
// nested changed struct or array of them is flattened into the parent's rows; a member that did not
// exist keeps the new initializer's bytes ('keep'), as does padding; a member that no longer exists
// is returned by its path ('weight', 'inner.extra', 'items[].extra'). A pointer through which a
// changed struct is reached (a `struct node *next`, directly or as the pointee's own pointers) is a
// 'follow' row: the applier transforms what it points at and updates it; the pointee's type comes
// from `follow`. What cannot be moved safely yields a reason instead: a changed union, a `void *`
// inside a changed struct, a pointer to a pointer that reaches a changed struct, a bit field, a
// float whose size changed. The same function compiles a rollback's reverse program: called with
// NEW as `oldType` and OLD as `newType`, its removed members are those a rollback drops.
import { describeType, type DwarfType, sizeOf, typeName } from '@katana/dwarf';
import { convertExpression, copyExpression, type TransformRow } from '@katana/po';

/** DW_ATE_* encodings of integers (DWARF 5 §7.8): boolean, signed, signed_char, unsigned, unsigned_char, UTF. */
const SIGNED_ENCODINGS = new Set([0x05, 0x06]);
const INTEGER_ENCODINGS = new Set([0x02, 0x05, 0x06, 0x07, 0x08, 0x10]);

/**
 * The rows of one object and the paths of the members of `oldType` that `newType` lacks (their
 * values are dropped), or why it cannot be transformed; `warnings` collects narrowings.
 */
export type RowsResult = { rows: TransformRow[]; removed: string[] } | { refused: string };

/** What move() collects. */
interface Output {
  rows: TransformRow[];
  removed: Set<string>;
}

/** Context of one compilation unit's data patching. */
export interface ChangedTypes {
  /** The struct and union types whose layout changed. */
  names: ReadonlySet<string>;
  warnings: string[];
  /** The index of the transformed type for objects a followed pointer reaches (OLD and NEW pointee, typedefs kept); throws Refusal when it cannot be transformed. */
  follow(oldPointee: DwarfType, newPointee: DwarfType, what: string): number;
}

/** Why a type cannot be transformed; transformRows turns it into `refused`. */
export class Refusal extends Error {}

/** Rows turning one OLD `oldType` object into one NEW `newType` object (both structs, after typedefs). */
export function transformRows(oldType: DwarfType, newType: DwarfType, changed: ChangedTypes): RowsResult {
  const size = sizeOf(newType);
  if (size === undefined) return { refused: `${typeName(newType)} has no known size` };
  const out: Output = { rows: [], removed: new Set() };
  try {
    const name = compositeNameOf(newType);
    move(strip(oldType), strip(newType), 0, 0, name ?? typeName(newType), '', out, changed, name !== undefined && changed.names.has(name));
  } catch (error) {
    if (error instanceof Refusal) return { refused: error.message };
    throw error;
  }
  return { rows: fillGaps(out.rows, size), removed: [...out.removed] };
}

/**
 * Whether objects of `type` lead to a changed struct or union: it is one, contains one, or holds a
 * pointer (at any depth) to a type that does. `void *` leads nowhere: nothing says what it holds.
 */
export function reachesChanged(type: DwarfType | undefined, changed: ReadonlySet<string>, seen = new Map<DwarfType, boolean>()): boolean {
  const t = strip(type);
  if (!t) return false;
  const name = compositeNameOf(type);
  if (name !== undefined && changed.has(name)) return true;
  const known = seen.get(t);
  if (known !== undefined) return known;
  seen.set(t, false); // a cycle through pointers adds nothing new
  let result = false;
  if (t.kind === 'pointer' || t.kind === 'array') result = reachesChanged(t.type, changed, seen);
  else if (t.kind === 'structure' || t.kind === 'union' || t.kind === 'class') result = t.members.some((m) => reachesChanged(m.type, changed, seen));
  seen.set(t, result);
  return result;
}

/**
 * The name a struct or union reached through typedefs and qualifiers goes by: its tag ('struct
 * stats'), or, when it has none, the typedef that names it ('stats_t' for `typedef struct { ... }
 * stats_t`, the commonest way C names a struct). Undefined for an anonymous one without a typedef.
 */
export function compositeNameOf(type: DwarfType | undefined): string | undefined {
  let alias: string | undefined;
  let t = type;
  for (let depth = 0; t && depth < 64 && t.kind !== 'structure' && t.kind !== 'union'; depth++) {
    if (t.kind === 'typedef') alias = t.name;
    else if (t.kind !== 'const' && t.kind !== 'volatile' && t.kind !== 'restrict' && t.kind !== 'atomic') return undefined;
    t = t.type;
  }
  if (t?.kind !== 'structure' && t?.kind !== 'union') return undefined;
  return t.name !== undefined ? typeName(t) : alias;
}

/** Whether `type` is or contains (not through pointers) a `void *`. */
export function containsVoidPointer(type: DwarfType | undefined): boolean {
  const t = strip(type);
  if (!t) return false;
  if (t.kind === 'pointer') return strip(t.type) === undefined;
  if (t.kind === 'array') return containsVoidPointer(t.type);
  if (t.kind === 'structure' || t.kind === 'union' || t.kind === 'class') return t.members.some((m) => containsVoidPointer(m.type));
  return false;
}

/** Looks through typedefs and qualifiers. */
export function strip(type: DwarfType | undefined): DwarfType | undefined {
  let t = type;
  for (let depth = 0; t && depth < 64; depth++) {
    if (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'atomic') t = t.type;
    else return t;
  }
  return t;
}

// `inChanged`: the bytes belong to an object of a changed type (a `void *` there is refused: the
// layout change may be the reason it points elsewhere now).
function move(
  o: DwarfType | undefined, n: DwarfType | undefined, from: number, to: number, what: string, path: string, out: Output, changed: ChangedTypes, inChanged: boolean,
): void {
  if (!o || !n) throw new Refusal(`${what} is void`);
  const size = sizeOf(n) ?? 0;
  if (describeType(o) === describeType(n) && !reachesChanged(n, changed.names)) {
    if (inChanged && containsVoidPointer(n)) throw new Refusal(`${what} is or holds a void *, which may point at a changed struct`);
    if (size > 0) out.rows.push({ offset: to, size, rule: { kind: 'expression', expression: copyExpression(from) } });
    return;
  }
  if (o.kind === 'pointer' && n.kind === 'pointer') {
    const oldPointee = strip(o.type);
    const newPointee = strip(n.type);
    if (!oldPointee || !newPointee) throw new Refusal(`${what} changes between a void * and a typed pointer`);
    if (newPointee.kind === 'pointer') throw new Refusal(`${what} is a pointer to a pointer leading to a changed struct, which katana does not follow`);
    if (newPointee.kind !== 'structure' && newPointee.kind !== 'union' && newPointee.kind !== 'class') {
      throw new Refusal(`${what} points to ${typeName(newPointee)}, which leads to a changed struct but is not a struct katana can follow`);
    }
    out.rows.push({ offset: to, size: 8, rule: { kind: 'follow', expression: copyExpression(from), type: changed.follow(o.type!, n.type!, what) } });
    return;
  }
  if (isInteger(o) && isInteger(n)) {
    const oldSize = sizeOf(o)!;
    const newSize = size;
    if (oldSize === newSize) out.rows.push({ offset: to, size, rule: { kind: 'expression', expression: copyExpression(from) } });
    else {
      if (newSize < oldSize) changed.warnings.push(`${what} narrows from ${oldSize} to ${newSize} bytes: values keep their low ${newSize} bytes`);
      out.rows.push({ offset: to, size: newSize, rule: { kind: 'val-expression', expression: convertExpression(from, oldSize, isSigned(o)) } });
    }
    return;
  }
  if (o.kind === 'structure' && n.kind === 'structure') {
    for (const m of [...o.members, ...n.members]) {
      if (m.bitSize !== undefined) throw new Refusal(`${what} has bit fields, which katana does not transform yet`);
      if (m.name === undefined) throw new Refusal(`${what} has an anonymous member, which cannot be matched by name`);
    }
    const pathOf = (name: string): string => (path === '' ? name : `${path}.${name}`);
    for (const m of n.members) {
      const old = o.members.find((x) => x.name === m.name);
      const inner = strip(m.type);
      const innerName = compositeNameOf(m.type);
      const nested = inChanged || (innerName !== undefined && changed.names.has(innerName));
      if (old) move(strip(old.type), inner, from + (old.offset ?? 0), to + (m.offset ?? 0), `member '${m.name}' of ${typeName(n)}`, pathOf(m.name!), out, changed, nested);
    }
    for (const m of o.members) if (!n.members.some((x) => x.name === m.name)) out.removed.add(pathOf(m.name!));
    return;
  }
  if (o.kind === 'array' && n.kind === 'array') {
    const oldCount = elementCount(o);
    const newCount = elementCount(n);
    const oldElement = innermost(o);
    const newElement = innermost(n);
    const oldStride = sizeOf(oldElement);
    const newStride = sizeOf(newElement);
    if (oldCount === undefined || newCount === undefined || !oldStride || !newStride) throw new Refusal(`${what} is an array of unknown size`);
    if (oldCount !== newCount) changed.warnings.push(`${what} changes from ${oldCount} to ${newCount} elements: the first ${Math.min(oldCount, newCount)} are kept`);
    for (let i = 0; i < Math.min(oldCount, newCount); i++) {
      move(strip(oldElement), strip(newElement), from + i * oldStride, to + i * newStride, `${what}[${i}]`, `${path}[]`, out, changed, inChanged);
    }
    return;
  }
  if (o.kind === 'union' || n.kind === 'union') throw new Refusal(`${what} is a union whose members changed or lead to a changed struct; katana cannot tell which member holds the value`);
  if (o.kind === 'pointer' || n.kind === 'pointer') throw new Refusal(`${what} changes its pointer type (${typeName(o)} → ${typeName(n)})`);
  throw new Refusal(`${what} changes from ${typeName(o)} to ${typeName(n)}, which katana cannot convert`);
}

function isInteger(t: DwarfType): boolean {
  if (t.kind === 'enumeration') return true;
  return t.kind === 'base' && INTEGER_ENCODINGS.has(t.encoding) && [1, 2, 4, 8].includes(t.byteSize);
}

function isSigned(t: DwarfType): boolean {
  if (t.kind === 'enumeration') {
    const underlying = strip(t.type);
    return underlying?.kind === 'base' ? SIGNED_ENCODINGS.has(underlying.encoding) : t.enumerators.some((e) => e.value < 0n);
  }
  return t.kind === 'base' && SIGNED_ENCODINGS.has(t.encoding);
}

function elementCount(t: DwarfType & { kind: 'array' }): number | undefined {
  if (t.dimensions.some((d) => d.count === undefined)) return undefined;
  return t.dimensions.reduce((n, d) => n * d.count!, 1);
}

function innermost(t: DwarfType & { kind: 'array' }): DwarfType | undefined {
  let e = strip(t.type);
  while (e?.kind === 'array') e = strip(e.type);
  return e;
}

/** Sorted, contiguous rows over [0, size): the pieces, with 'keep' rows over every gap (new members, padding). */
function fillGaps(pieces: TransformRow[], size: number): TransformRow[] {
  const rows: TransformRow[] = [];
  let at = 0;
  for (const p of [...pieces].sort((a, b) => a.offset - b.offset)) {
    if (p.offset > at) rows.push({ offset: at, size: p.offset - at, rule: { kind: 'keep' } });
    rows.push(p);
    at = p.offset + p.size;
  }
  if (at < size) rows.push({ offset: at, size: size - at, rule: { kind: 'keep' } });
  return rows;
}
