// What `katana inspect` shows: a PatchObject summarised for a person (text) or a program (JSON):
// the target's build-id, each changed or new function with its source file and sizes, the new
// variables, the external symbols the patch needs and the functions it makes unsafe. C++ names are
// shown demangled; the JSON keeps the symbol `name` and adds `demangled` where it differs.
import { demangle } from './demangle.js';
import { shortPatchId } from './id.js';
import { Cursor, DW_OP_deref_size, DW_OP_plus_uconst } from '@katana/dwarf';
import { PO_SECTION_NAMES, type PatchObject, type PoSymbol, type TransformRow } from './model.js';

/** A symbol name, with its demangled form when it is a C++ name. */
interface Named {
  name: string;
  demangled?: string;
}

export interface PatchDescription {
  target: { name: string; buildId: string };
  /** Ids of the patches the target must already have, in order ([] = the original build). */
  base: string[];
  changed: (Named & { file: string; oldSize: number; newSize: number; address: string })[];
  added: (Named & { file: string; size: number })[];
  newVariables: (Named & { file: string; section: string; size: number })[];
  externals: (Named & { file?: string; resolution: string })[];
  unsafe: (Named & { file?: string; address: string; size: number; redirected: boolean })[];
  /**
   * Variables moved to new storage through a transformation of their (element) type, and variables
   * updated in place (`inPlace`: pointers to the type, followed; `section` is then ''). `stage`: 0,
   * or in a composed patch the stage it is transformed in; `oldAddress` is then the link-time
   * address in the target, or where an earlier stage wrote it ('.bss.new+0x20').
   */
  transformed: {
    name: string; file: string; type: string; count: number; oldAddress: string; oldSize: number; newSize: number; section: string; inPlace: boolean; stage: number;
  }[];
  /**
   * Each transformed type side by side: the new layout's members with where each comes from in the
   * old one, and the old layout's byte ranges nothing is taken from (removed members, padding).
   */
  types: {
    name: string; file: string; oldSize: number; newSize: number; transformer?: string; stage: number;
    members: { name: string; offset: number; size: number; from: string }[];
    notCarried: { offset: number; size: number }[];
    /** Whether `katana rollback` can transform its objects back, and the members it then drops. */
    rollback: { reversible: boolean; drops: string[] };
  }[];
  sizes: { text: number; rodata: number; data: number; bss: number; ehFrame: number };
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Summarises a PatchObject as plain data (what `katana inspect --json` prints). */
export function describePatchObject(po: PatchObject): PatchDescription {
  const changed: PatchDescription['changed'] = [];
  const added: PatchDescription['added'] = [];
  for (const f of po.functions) {
    if (f.replaces) changed.push({ name: f.name, file: f.file, oldSize: f.replaces.size, newSize: f.size, address: hex(f.replaces.address) });
    else added.push({ name: f.name, file: f.file, size: f.size });
  }
  // Copied anonymous data (string sections, jump tables) is named after its section, with a
  // leading dot no C identifier can have: it is not a variable.
  const moved = new Set((po.dataTransforms ?? []).map((d) => d.newSymbol));
  const newVariables: PatchDescription['newVariables'] = po.symbols
    .filter((s, i) => (s.type === 'object' || s.type === 'tls') && s.defined && s.defined.section !== 'text' && !s.name.startsWith('.') && !moved.has(i))
    .map((s) => ({ name: s.name, file: s.file ?? '', section: s.defined!.section, size: s.size }));
  // What the patch needs from the target: symbols its relocations reach. A target function named
  // only by .unsafe_functions is not needed, just guarded.
  const referenced = new Set(po.relocations.map((r) => r.symbol));
  const externals: PatchDescription['externals'] = po.symbols
    .filter((s, i) => s.target && referenced.has(i))
    .map((s) => ({
      name: s.name,
      ...(s.file === undefined ? {} : { file: s.file }),
      // Without a value: defined by a patch already applied (the applier looks there first) or a library.
      resolution: s.target!.value === undefined ? ((po.basePatches ?? []).length > 0 ? 'an applied patch or a shared library' : 'shared library') : `${s.type === 'tls' ? 'TLS offset' : 'link-time'} ${hex(s.target!.value)} in ${po.targetName}`,
    }));
  const unsafe: PatchDescription['unsafe'] = po.unsafe.map((u) => ({
    name: u.name,
    ...(u.file === undefined ? {} : { file: u.file }),
    address: hex(u.address),
    size: u.size,
    redirected: u.redirectTo !== undefined,
  }));
  withDemangled([...changed, ...added, ...newVariables, ...externals, ...unsafe]);
  const types = po.types ?? [];
  const transformed: PatchDescription['transformed'] = (po.dataTransforms ?? []).map((d) => {
    const type = types[d.type]!;
    const elements = d.elements ?? 1;
    const inPlace = d.inPlace === true;
    return {
      name: d.variable, file: d.file, type: d.elements === undefined ? type.name : `${type.name} [${d.elements}]`, count: d.count,
      oldAddress: storageOf(po.symbols[d.oldSymbol]), oldSize: po.symbols[d.oldSymbol]?.size ?? 0,
      newSize: inPlace ? po.symbols[d.oldSymbol]?.size ?? 0 : elements * type.newSize, section: inPlace ? '' : po.symbols[d.newSymbol]?.defined?.section ?? '?', inPlace,
      stage: d.stage ?? 0,
    };
  });
  return {
    target: { name: po.targetName, buildId: po.targetBuildId },
    base: po.basePatches ?? [],
    changed,
    added,
    newVariables,
    externals,
    unsafe,
    transformed,
    types: types.map((t) => ({
      name: t.name, file: t.file, oldSize: t.oldSize, newSize: t.newSize, stage: t.stage ?? 0,
      ...(t.transformer === undefined ? {} : { transformer: po.symbols[t.transformer]?.name ?? '?' }),
      members: t.members.map((m) => ({ name: m.name, offset: m.offset, size: m.size, from: memberSource(t.rows, m.offset, m.size) })),
      notCarried: notCarried(t.rows, t.oldSize),
      rollback: { reversible: t.rollbackRows !== undefined, drops: t.rollbackRows === undefined ? [] : t.droppedOnRollback ?? [] },
    })),
    sizes: { text: po.text.length, rodata: po.rodata.length, data: po.data.length, bss: po.bssSize, ehFrame: po.ehFrame?.length ?? 0 },
  };
}

/** A storage symbol as inspect shows it: its link-time address in the target, or its place in the patch. */
function storageOf(s: PoSymbol | undefined): string {
  if (s?.defined !== undefined) return `${PO_SECTION_NAMES[s.defined.section]}+${hex(BigInt(s.defined.offset))}`;
  return hex(s?.target?.value ?? 0n);
}

/**
 * Where a member's bytes come from: its row's source ('old +4'), or, for a nested struct flattened
 * into several rows, each row's source at its offset in the member ('+0 old +4, +4 initializer, ...').
 */
function memberSource(rows: TransformRow[], offset: number, size: number): string {
  const inside = rows.filter((r) => r.offset < offset + size && r.offset + r.size > offset);
  if (inside.every((r) => r.rule.kind === 'keep')) return 'initializer';
  if (inside.length === 1 && inside[0]!.offset === offset) return sourceOf(inside[0]!);
  return inside.map((r) => `+${r.offset - offset} ${sourceOf(r)}`).join(', ');
}

/** The byte ranges of the old object no row reads (a removed member, padding); unknown expressions count as reading nothing. */
function notCarried(rows: TransformRow[], oldSize: number): { offset: number; size: number }[] {
  const read = new Uint8Array(oldSize);
  for (const row of rows) {
    if (row.rule.kind === 'keep') continue;
    const e = row.rule.expression;
    if (e[0] !== DW_OP_plus_uconst) continue;
    const c = new Cursor('expression', e, 1);
    const from = c.ulebNumber();
    // A conversion reads its DW_OP_deref_size operand's bytes; a copy or a pointer, the row's size.
    const size = row.rule.kind === 'val-expression' && c.more && c.u8() === DW_OP_deref_size ? c.u8() : row.size;
    read.fill(1, Math.min(from, oldSize), Math.min(from + size, oldSize));
  }
  const ranges: { offset: number; size: number }[] = [];
  for (let at = 0; at < oldSize; at++) {
    if (read[at]) continue;
    const last = ranges[ranges.length - 1];
    if (last && last.offset + last.size === at) last.size++;
    else ranges.push({ offset: at, size: 1 });
  }
  return ranges;
}

/** Where a row's bytes come from, read off its DWARF expression ('old +4', 'old +4 converted', 'initializer'). */
function sourceOf(row: TransformRow): string {
  if (row.rule.kind === 'keep') return 'initializer';
  const e = row.rule.expression;
  // Both kinds start with DW_OP_plus_uconst <offset in the old object> (transform-program.ts).
  const from = e[0] === DW_OP_plus_uconst ? new Cursor('expression', e, 1).ulebNumber() : undefined;
  const where = from === undefined ? 'an expression' : `old +${from}`;
  if (row.rule.kind === 'follow') return `${where}, pointer followed`;
  return row.rule.kind === 'expression' ? where : `${where} converted`;
}

// Adds `demangled` to the entries whose name is a C++ name (one c++filt run for all of them).
function withDemangled(entries: Named[]): void {
  const names = demangle(entries.map((e) => e.name));
  entries.forEach((e, i) => {
    if (names[i] !== e.name) e.demangled = names[i]!;
  });
}

const shown = (n: Named): string => n.demangled ?? n.name;

/** The text `katana inspect` prints for a description. */
export function formatPatchDescription(d: PatchDescription, file: string): string {
  const lines = [`Patch Object ${file}`, `  target      ${d.target.name} (build-id ${d.target.buildId})`];
  lines.push(`  base        ${d.base.length === 0 ? 'the original build' : `after patches ${d.base.map(shortPatchId).join(', ')}`}`);
  lines.push(`  functions   ${d.changed.length} changed, ${d.added.length} new`);
  for (const f of d.changed) lines.push(`    changed   ${shown(f)} (${f.file || 'unknown file'}): ${f.oldSize} -> ${f.newSize} bytes, at ${f.address}`);
  for (const f of d.added) lines.push(`    new       ${shown(f)} (${f.file || 'unknown file'}): ${f.size} bytes`);
  lines.push(`  variables   ${d.newVariables.length === 0 ? 'no new variables' : `${d.newVariables.length} new`}`);
  for (const v of d.newVariables) lines.push(`    new       ${shown(v)} (${v.file || 'unknown file'}): ${v.size} bytes in .${v.section}.new`);
  // A composed patch transforms in stages: each line says which.
  const staged = d.transformed.some((v) => v.stage > 0);
  const stageOf = (stage: number) => (staged ? ` [stage ${stage}]` : '');
  for (const v of d.transformed) {
    if (v.inPlace) lines.push(`    followed  ${v.name} (${v.file || 'unknown file'})${stageOf(v.stage)}: ${v.oldSize} bytes at ${v.oldAddress}, pointers to ${v.type} followed and updated in place`);
    else lines.push(`    moved     ${v.name} (${v.file || 'unknown file'})${stageOf(v.stage)}: ${v.type}, ${v.oldSize} -> ${v.newSize} bytes, from ${v.oldAddress} to .${v.section}.new`);
  }
  for (const t of d.types) {
    lines.push(`    type      ${t.name} (${t.file})${stageOf(t.stage)}: ${t.oldSize} -> ${t.newSize} bytes${t.transformer ? `, then its transformer ${t.transformer}` : ''}; new member <- old bytes`);
    for (const m of t.members) lines.push(`      ${m.name} at ${m.offset}, ${m.size} bytes: ${m.from}`);
    for (const r of t.notCarried) lines.push(`      (not carried) old +${r.offset}, ${r.size} bytes: a removed member or padding`);
    const drops = t.rollback.drops.length === 0 ? '' : `, dropping ${t.rollback.drops.join(', ')}`;
    lines.push(`      rollback ${t.rollback.reversible ? `transforms it back${drops}` : 'refused: it has no reverse program'}`);
  }
  lines.push(`  externals   ${d.externals.length}`);
  for (const e of d.externals) lines.push(`    needs     ${shown(e)}${e.file ? ` (${e.file})` : ''}: ${e.resolution}`);
  lines.push(`  unsafe      ${d.unsafe.length} function(s) no thread may be in while the patch switches`);
  for (const u of d.unsafe) lines.push(`    unsafe    ${shown(u)}${u.file ? ` (${u.file})` : ''} at ${u.address}, ${u.size} bytes${u.redirected ? ', redirected' : ''}`);
  lines.push(`  sizes       .text.new ${d.sizes.text}, .rodata.new ${d.sizes.rodata}, .data.new ${d.sizes.data}, .bss.new ${d.sizes.bss}, .eh_frame ${d.sizes.ehFrame} bytes`);
  return lines.join('\n');
}
