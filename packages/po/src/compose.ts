// compose(A, B): one Patch Object that does what applying A and then B does, for B made on top of
// A (B's base = A's base + A's id, same build-id). AB keeps A's base. Sections are A's followed by
// B's (each part at its section's alignment; A's .eh_frame loses its zero terminator so that the
// FDEs of both follow each other). B's definitions take precedence over A's (Katana §5): an A
// function or variable that B defines again is dropped from the symbols, A's references to it go
// to B's, and its redirect becomes B's; A's FDE for the dropped code stays valid against the
// .text.new section symbol. B's references to what A defines become references to A's definitions,
// as the applier would have resolved them through the registry. Unsafe functions: the union, B's
// entry winning for a function both redirect.
// Data: AB transforms in stages, A's first (DataTransform.stage): B's variables read what A's wrote,
// in the same stop. A's types and variables keep their stages, B's come after them. Storage (or a
// transformer) of A that B defines again is still where A's stage writes (or what it calls) and B's
// stage reads: it stays in AB as a local, untyped symbol `<name>.stage<k>`, which no later patch
// binds to; B's reference to the old storage goes to it.
import { ComposeError } from './errors.js';
import {
  PO_SECTION_ALIGN, type DataTransform, type PatchObject, type PoRelocation, type PoSectionKind, type PoSymbol, type TransformedType, type TransformRow,
  type UnsafeFunction,
} from './model.js';

const INT3 = 0xcc;

/** How compose names its inputs: A's id (patchObjectId of A's PO file) and, for messages, their names. */
export interface ComposeInputs {
  idA: string;
  names?: { a: string; b: string };
}

/** The PO that applies `a` then `b`; throws ComposeError unless b is made on top of a. */
export function composePatchObjects(a: PatchObject, b: PatchObject, inputs: ComposeInputs): PatchObject {
  const { idA, names = { a: 'A', b: 'B' } } = inputs;
  const expected = [...(a.basePatches ?? []), idA];
  const baseB = b.basePatches ?? [];
  if (a.targetBuildId !== b.targetBuildId) {
    throw new ComposeError(`${names.b} is for build-id ${b.targetBuildId}, but ${names.a} is for build-id ${a.targetBuildId}`);
  }
  if (baseB.length !== expected.length || baseB.some((id, i) => id !== expected[i])) {
    const list = (ids: string[]) => (ids.length === 0 ? 'no patches' : `patches [${ids.map((id) => id.slice(0, 12)).join(', ')}]`);
    throw new ComposeError(`${names.b} expects ${list(baseB)} applied, but ${names.a} leaves ${list(expected)}; it must be made with katana diff --after ${names.a}`);
  }

  // Where B's part of each section starts.
  const ehFrameA = withoutTerminator(a.ehFrame ?? new Uint8Array());
  if (ehFrameA.length % 4 !== 0) throw new ComposeError(`the .eh_frame of ${names.a} is not a whole number of 4-byte words`);
  const shift: Record<PoSectionKind, number> = {
    text: alignUp(a.text.length, PO_SECTION_ALIGN.text),
    rodata: alignUp(a.rodata.length, PO_SECTION_ALIGN.rodata),
    data: alignUp(a.data.length, PO_SECTION_ALIGN.data),
    bss: alignUp(a.bssSize, PO_SECTION_ALIGN.bss),
    ehFrame: ehFrameA.length,
  };

  const symbols: PoSymbol[] = [];
  const overriddenBy = new Map<number, number>(); // A's symbol index → B's symbol index
  a.symbols.forEach((s, i) => {
    const j = s.defined === undefined ? -1 : b.symbols.findIndex((t) => t.defined !== undefined && t.type === s.type && sameName(s, t));
    if (j >= 0 && (s.type === 'func' || s.type === 'object')) overriddenBy.set(i, j);
  });
  const mapA = new Map<number, number>();
  a.symbols.forEach((s, i) => {
    if (!overriddenBy.has(i)) mapA.set(i, symbols.push(s) - 1);
  });
  // A's stages come first; B's are numbered after them.
  const stagesA = stageCount(a);
  const heldOverA = new Map<number, number>();
  const heldOver = (i: number): number => {
    let k = heldOverA.get(i);
    if (k === undefined) {
      const s = a.symbols[i]!;
      k = symbols.push({ name: `${s.name}.stage${Math.max(stagesA - 1, 0)}`, type: 'notype', bind: 'local', ...(s.file === undefined ? {} : { file: s.file }), size: s.size, defined: s.defined! }) - 1;
      heldOverA.set(i, k);
    }
    return k;
  };
  const mapB = new Map<number, number>();
  b.symbols.forEach((s, j) => {
    if (s.defined !== undefined) {
      mapB.set(j, symbols.push({ ...s, defined: { section: s.defined.section, offset: s.defined.offset + shift[s.defined.section] } }) - 1);
      return;
    }
    // What A defines is where B's reference goes (A's held-over copy when B defines it again: B's
    // data transformation reads A's storage); otherwise the same target symbol once.
    const fromA = a.symbols.findIndex((t) => t.defined !== undefined && (t.type === 'func' || t.type === 'object') && sameName(s, t));
    if (fromA >= 0 && s.type !== 'tls') {
      mapB.set(j, overriddenBy.has(fromA) ? heldOver(fromA) : mapA.get(fromA)!);
      return;
    }
    const same = symbols.findIndex((t) => t.defined === undefined && t.type === s.type && sameName(s, t) && t.target?.value === s.target?.value);
    mapB.set(j, same >= 0 ? same : symbols.push(s) - 1);
  });
  for (const [i, j] of overriddenBy) mapA.set(i, mapB.get(j)!);

  // A's FDEs of dropped code keep pointing at that code, through the .text.new section symbol.
  let textSymbol: number | undefined;
  const relocations: PoRelocation[] = [];
  for (const r of a.relocations) {
    const dropped = a.symbols[r.symbol]!;
    if (r.section === 'ehFrame' && overriddenBy.has(r.symbol) && dropped.defined !== undefined) {
      textSymbol ??= symbols.push({ name: '.text.new', type: 'section', bind: 'local', size: 0, defined: { section: 'text', offset: 0 } }) - 1;
      relocations.push({ ...r, symbol: textSymbol, addend: r.addend + BigInt(dropped.defined.offset) });
    } else {
      relocations.push({ ...r, symbol: mapA.get(r.symbol)! });
    }
  }
  for (const r of b.relocations) relocations.push({ ...r, offset: r.offset + shift[r.section], symbol: mapB.get(r.symbol)! });

  const functionsB = b.functions.map((f) => ({ ...f, symbol: mapB.get(f.symbol)! }));
  const functionsA = a.functions
    .filter((f) => !overriddenBy.has(f.symbol) && !b.functions.some((g) => g.replaces && f.replaces && g.replaces.address === f.replaces.address))
    .map((f) => ({ ...f, symbol: mapA.get(f.symbol)! }));
  const unsafeB = b.unsafe.map((u) => remapUnsafe(u, mapB));
  const unsafeA = a.unsafe.filter((u) => !b.unsafe.some((v) => v.address === u.address)).map((u) => remapUnsafe(u, mapA));

  // A's data part keeps A's storage and transformers even where B defines them again.
  const dataSymbolA = (i: number): number => (overriddenBy.has(i) ? heldOver(i) : mapA.get(i)!);
  const typesA = a.types ?? [];
  const types = [
    ...typesA.map((t) => withTypeMapped(t, 0, 0, dataSymbolA)),
    ...(b.types ?? []).map((t) => withTypeMapped(t, typesA.length, stagesA, (j) => mapB.get(j)!)),
  ];
  const dataTransforms = [
    ...(a.dataTransforms ?? []).map((d) => withTransformMapped(d, 0, 0, dataSymbolA)),
    ...(b.dataTransforms ?? []).map((d) => withTransformMapped(d, typesA.length, stagesA, (j) => mapB.get(j)!)),
  ];

  return {
    targetBuildId: a.targetBuildId,
    targetName: a.targetName,
    text: concat(a.text, shift.text, b.text, INT3),
    rodata: concat(a.rodata, shift.rodata, b.rodata, 0),
    data: concat(a.data, shift.data, b.data, 0),
    bssSize: shift.bss + b.bssSize,
    symbols,
    relocations,
    functions: [...functionsA, ...functionsB],
    unsafe: [...unsafeA, ...unsafeB],
    ehFrame: concat(ehFrameA, shift.ehFrame, ehFrameTail(b, ehFrameA), 0),
    basePatches: a.basePatches ?? [],
    ...(types.length === 0 ? {} : { types }),
    ...(dataTransforms.length === 0 ? {} : { dataTransforms }),
  };
}

/** How many stages of data transformation `po` has: 0 without any, else one more than its highest. */
function stageCount(po: PatchObject): number {
  if ((po.dataTransforms?.length ?? 0) === 0) return 0;
  return 1 + Math.max(...po.dataTransforms!.map((d) => d.stage ?? 0), ...(po.types ?? []).map((t) => t.stage ?? 0));
}

/** `stage` + `shift`, absent when 0 (the model's default). */
function stagePart(stage: number | undefined, shift: number): { stage?: number } {
  const k = (stage ?? 0) + shift;
  return k === 0 ? {} : { stage: k };
}

/** A type of one of the parts, in AB: its type indices moved by `typeShift`, its stage by `stageShift`, its symbol through `symbol`. */
function withTypeMapped(t: TransformedType, typeShift: number, stageShift: number, symbol: (i: number) => number): TransformedType {
  const rows = (r: TransformRow): TransformRow => (r.rule.kind === 'follow' ? { ...r, rule: { ...r.rule, type: r.rule.type + typeShift } } : r);
  const { stage: _stage, ...rest } = t;
  return {
    ...rest,
    members: t.members.map((m) => (m.pointsTo === undefined ? m : { ...m, pointsTo: m.pointsTo + typeShift })),
    rows: t.rows.map(rows),
    ...(t.rollbackRows === undefined ? {} : { rollbackRows: t.rollbackRows.map(rows) }),
    ...(t.transformer === undefined ? {} : { transformer: symbol(t.transformer) }),
    ...stagePart(t.stage, stageShift),
  };
}

/** A transformed variable of one of the parts, in AB (see withTypeMapped). */
function withTransformMapped(d: DataTransform, typeShift: number, stageShift: number, symbol: (i: number) => number): DataTransform {
  const { stage: _stage, ...rest } = d;
  return { ...rest, type: d.type + typeShift, oldSymbol: symbol(d.oldSymbol), newSymbol: symbol(d.newSymbol), ...stagePart(d.stage, stageShift) };
}

/** The same name for the applier's lookup: globals by name, statics by name and source file. */
function sameName(s: PoSymbol, t: PoSymbol): boolean {
  return s.name === t.name && (s.bind === 'local') === (t.bind === 'local') && (s.bind !== 'local' || s.file === t.file);
}

function remapUnsafe(u: UnsafeFunction, map: Map<number, number>): UnsafeFunction {
  return u.redirectTo === undefined ? u : { ...u, redirectTo: map.get(u.redirectTo)! };
}

/** An .eh_frame without its final 4-byte zero terminator (empty stays empty). */
function withoutTerminator(ehFrame: Uint8Array): Uint8Array {
  const n = ehFrame.length;
  return n >= 4 && ehFrame[n - 1] === 0 && ehFrame[n - 2] === 0 && ehFrame[n - 3] === 0 && ehFrame[n - 4] === 0 ? ehFrame.subarray(0, n - 4) : ehFrame;
}

/** What follows A's FDEs: B's .eh_frame with its terminator, or just a terminator when only A has CFI. */
function ehFrameTail(b: PatchObject, ehFrameA: Uint8Array): Uint8Array {
  if ((b.ehFrame?.length ?? 0) > 0) return b.ehFrame!;
  return ehFrameA.length > 0 ? new Uint8Array(4) : new Uint8Array();
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** `first`, padding with `fill` up to `at`, then `second`. */
function concat(first: Uint8Array, at: number, second: Uint8Array, fill: number): Uint8Array {
  const out = new Uint8Array(at + second.length).fill(fill, first.length, at);
  out.set(first, 0);
  out.set(second, at);
  return out;
}
