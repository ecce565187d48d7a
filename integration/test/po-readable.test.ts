// Every PO the data-patching cases produce (each case of integration/cases whose case.json lists
// what it `transformed`, [] included), and that of one code-only case, read by the tools people
// debug with: readelf (-a, --debug-dump=info,frames), libdwarf's dwarfdump -a and llvm-dwarfdump
// (--verify, --debug-info --debug-frame). Each must exit 0 without a diagnostic line, and each must
// show what the PO describes: per transformed struct type its DW_TAG_structure_type (name, new
// size, DW_AT_MIPS_fde) and, at that .debug_frame offset, its FDE over [0, new size), and, when it
// can be transformed back, DW_AT_KATANA_rollback_fde naming its reverse FDE over [0, old size) (with
// DW_AT_KATANA_dropped_on_rollback listing what a rollback drops); per moved
// variable its DW_TAG_variable; per function its DW_TAG_subprogram and its .eh_frame FDE. A PO
// without data transformations has no .debug_frame. The cases are built, not run (cases.test.ts
// runs them), each once.
import { readFileSync } from 'node:fs';
import { readPatchObject, type PatchObject } from '@katana/po';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCase } from '../lib/case-build.js';
import { loadCases, type CaseSpec } from '../lib/cases.js';
import { runTools, type ToolRun } from '../lib/checks.js';

/** The code-only case whose PO is checked too (a string literal changes: no data moves). */
const CODE_ONLY = 'string_literal';
/** Cases that must be among the selected ones, so that the selection cannot silently shrink. */
const REQUIRED = [
  'struct_member_added', 'struct_array', 'nested_struct', 'static_local_changed', 'global_struct_middle',
  'typedef_struct_changed', 'const_table_changed', 'const_table_member_added', CODE_ONLY,
];

const TOOLS = [
  ['readelf', ['--debug-dump=info,frames', '-W']],
  ['readelf', ['-a', '-W']],
  ['dwarfdump', ['-a']],
  ['llvm-dwarfdump', ['--verify']],
  ['llvm-dwarfdump', ['--debug-info', '--debug-frame']],
] as const;

/**
 * A diagnostic: any warning, an error (the word, so that a struct member `errors` is not one; "No
 * errors." is llvm-dwarfdump's all-clear), llvm-dwarfdump's "Errors detected", readelf's "bad
 * register" for CFA register numbers it cannot name, and libdwarf's DW_DLE_* error codes.
 */
const COMPLAINT = /warning|\berror\b|errors detected|bad register|DW_DLE/i;

const selected = loadCases().filter((s) => s.diffExit === undefined && (s.transformed !== undefined || s.name === CODE_ONLY));
const readable = suite('PO readability');

readable('the data-patching cases and a code-only case are all selected', () => {
  const names = selected.map((s) => s.name);
  for (const name of REQUIRED) assert.ok(names.includes(name), `case ${name} is not selected: ${names.join(', ')}`);
});

for (const spec of selected) {
  readable(`${spec.name}: readelf, dwarfdump and llvm-dwarfdump read its PO cleanly and show its types, FDEs, variables and functions`, async () => checkCase(spec));
}

async function checkCase(spec: CaseSpec): Promise<void> {
  const { project, po: file, diff } = await buildCase(spec);
  try {
    assert.is(diff.exitCode, 0, `katana diff failed: ${diff.stderr}`);
    const po = readPatchObject(readFileSync(file), 'fix.po');
    const runs = await runTools(file, TOOLS);
    for (const r of runs) {
      const complaints = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => COMPLAINT.test(l));
      assert.is(r.exitCode, 0, `${command(r)} exited ${r.exitCode}: ${r.stderr}`);
      assert.equal(complaints, [], `${command(r)} complained:\n${complaints.join('\n')}`);
    }
    const [readelfDebug, readelfAll, dwarfdump, , llvm] = runs.map((r) => r.stdout) as [string, string, string, string, string];
    checkTypes(po, readelfDebug, dwarfdump, llvm);
    checkVariables(po, readelfDebug, dwarfdump, llvm);
    checkFunctions(po, readelfDebug, dwarfdump, llvm);
    const hasDebugFrame = /^\s*\[\s*\d+\] \.debug_frame\s/m.test(readelfAll);
    assert.is(hasDebugFrame, (po.types ?? []).length > 0, 'a .debug_frame section exactly when the PO transforms data');
    if (spec.transformed !== undefined) {
      assert.equal((po.dataTransforms ?? []).map((d) => d.variable).sort(), [...spec.transformed].sort(), 'transformed variables');
    }
  } finally {
    project.remove();
  }
}

/**
 * Each transformed type: its DIE in all three dumps, pointing at an FDE over [0, new size) that all
 * three decode, and at its reverse FDE over [0, old size) when it has one.
 */
function checkTypes(po: PatchObject, readelf: string, dwarfdump: string, llvm: string): void {
  const types = po.types ?? [];
  const debugFrame = after(readelf, 'Contents of the .debug_frame section:');
  const fdes = debugFrame.split('\n').filter((l) => / FDE cie=/.test(l));
  const reversible = types.filter((t) => t.rollbackRows !== undefined).length;
  assert.is(fdes.length, types.length + reversible, `one .debug_frame FDE per transformed type, one more per reverse program:\n${debugFrame}`);
  const dies = readelfDies(readelf);
  for (const t of types) {
    // 'struct stats' is a struct with a tag ('union value' a union); 'stats_t' an anonymous struct that a DW_TAG_typedef names.
    const tagged = /^(struct|union) (.+)$/.exec(t.name);
    const tag = tagged?.[2];
    const dieTag = tagged?.[1] === 'union' ? 'DW_TAG_union_type' : 'DW_TAG_structure_type';
    const name = tag ?? t.name;
    const typedef = dies.find((d) => d.tag === 'DW_TAG_typedef' && d.attributes.get('DW_AT_name') === `(string) ${name}`);
    const structAt = typedef && /^\(ref4\) <0x([0-9a-f]+)>/.exec(typedef.attributes.get('DW_AT_type') ?? '')?.[1];
    const die = tag === undefined
      ? dies.find((d) => d.tag === dieTag && d.offset === structAt && !d.attributes.has('DW_AT_name'))
      : dies.find((d) => d.tag === dieTag && d.attributes.get('DW_AT_name') === `(string) ${name}`);
    assert.ok(die, `readelf shows no ${dieTag} ${tag === undefined ? `named by DW_TAG_typedef ${name}` : name}`);
    assert.is(die.attributes.get('DW_AT_byte_size'), `(udata) ${t.newSize}`, `DW_AT_byte_size of ${name}`);
    const fdeAttribute = die.attributes.get('DW_AT_MIPS_fde');
    const fde = /^\(sec_offset\) 0x([0-9a-f]+)$/.exec(fdeAttribute ?? '')?.[1];
    assert.ok(fde, `DW_AT_MIPS_fde of ${name}: ${fdeAttribute}`);
    const offset = fde.padStart(8, '0');
    const size = t.newSize.toString(16);
    assert.ok(
      fdes.some((l) => l.startsWith(`${offset} `) && l.endsWith(`FDE cie=00000000 pc=0000000000000000..${size.padStart(16, '0')}`)),
      `readelf: no FDE at .debug_frame offset 0x${fde} over [0, 0x${size}):\n${fdes.join('\n')}`,
    );
    const llvmName = tag === undefined ? '' : `\\n\\s+DW_AT_name\\s+\\("${name}"\\)`;
    const dwarfdumpName = tag === undefined ? '' : `\\n\\s+DW_AT_name\\s+${name}`;
    if (tag === undefined) {
      assert.match(llvm, new RegExp(`DW_TAG_typedef\\n\\s+DW_AT_name\\s+\\("${name}"\\)\\n\\s+DW_AT_type\\s+\\(0x0*${structAt} `), `llvm-dwarfdump: the typedef ${name}`);
      assert.match(dwarfdump, new RegExp(`DW_TAG_typedef\\n\\s+DW_AT_name\\s+${name}\\n\\s+DW_AT_type\\s+<0x0*${structAt}>`), `dwarfdump: the typedef ${name}`);
    }
    assert.match(llvm, new RegExp(`${dieTag}${llvmName}\\n\\s+DW_AT_byte_size\\s+\\(${t.newSize}\\)\\n\\s+DW_AT_MIPS_fde\\s+\\(0x${offset}\\)`), `llvm-dwarfdump: the DIE of ${name}`);
    assert.match(llvm, new RegExp(`^${offset} [0-9a-f]{8} 00000000 FDE cie=00000000 pc=00000000\\.\\.\\.${size.padStart(8, '0')}$`, 'm'), `llvm-dwarfdump: the FDE of ${name}`);
    assert.match(dwarfdump, new RegExp(`${dieTag}${dwarfdumpName}\\n\\s+DW_AT_byte_size\\s+0x${t.newSize.toString(16).padStart(8, '0')}\\n\\s+DW_AT_MIPS_fde\\s+0x${offset}\\n`), `dwarfdump: the DIE of ${name}`);
    assert.match(dwarfdump, new RegExp(`<0x00000000:0x${size.padStart(8, '0')}><[^>]*><cie offset 0x00000000::cie index\\s+0><fde offset 0x${offset} `), `dwarfdump: the FDE of ${name}`);
    checkReverse(t, name, die, fdes, dwarfdump, llvm);
  }
}

/** A type's reverse program: DW_AT_KATANA_rollback_fde names an FDE over [0, old size) in all three dumps; the dropped members are listed. */
function checkReverse(t: NonNullable<PatchObject['types']>[number], name: string, die: Die, fdes: string[], dwarfdump: string, llvm: string): void {
  const attribute = die.attributes.get('Unknown AT value: 3c04');
  if (t.rollbackRows === undefined) {
    assert.is(attribute, undefined, `${name} has no reverse program, and no DW_AT_KATANA_rollback_fde`);
    return;
  }
  const fde = /^\(sec_offset\) 0x([0-9a-f]+)$/.exec(attribute ?? '')?.[1];
  assert.ok(fde, `DW_AT_KATANA_rollback_fde of ${name}: ${attribute}`);
  const offset = fde.padStart(8, '0');
  const size = t.oldSize.toString(16);
  assert.ok(
    fdes.some((l) => l.startsWith(`${offset} `) && l.endsWith(`FDE cie=00000000 pc=0000000000000000..${size.padStart(16, '0')}`)),
    `readelf: no reverse FDE at .debug_frame offset 0x${fde} over [0, 0x${size}):\n${fdes.join('\n')}`,
  );
  assert.match(llvm, new RegExp(`DW_AT_unknown_3c04\\s+\\(0x${offset}\\)`), `llvm-dwarfdump: DW_AT_KATANA_rollback_fde of ${name}`);
  assert.match(llvm, new RegExp(`^${offset} [0-9a-f]{8} 00000000 FDE cie=00000000 pc=00000000\\.\\.\\.${size.padStart(8, '0')}$`, 'm'), `llvm-dwarfdump: the reverse FDE of ${name}`);
  assert.match(dwarfdump, new RegExp(`<0x00000000:0x${size.padStart(8, '0')}><[^>]*><cie offset 0x00000000::cie index\\s+0><fde offset 0x${offset} `), `dwarfdump: the reverse FDE of ${name}`);
  const dropped = t.droppedOnRollback ?? [];
  assert.is(die.attributes.get('Unknown AT value: 3c05'), dropped.length === 0 ? undefined : `(string) ${dropped.join(' ')}`, `DW_AT_KATANA_dropped_on_rollback of ${name}`);
}

/** Each moved variable: a DW_TAG_variable of its name (and its new storage's DW_AT_location) in all three dumps. */
function checkVariables(po: PatchObject, readelf: string, dwarfdump: string, llvm: string): void {
  const dies = readelfDies(readelf).filter((d) => d.tag === 'DW_TAG_variable');
  for (const d of po.dataTransforms ?? []) {
    const count = (po.dataTransforms ?? []).filter((x) => x.variable === d.variable).length;
    const named = dies.filter((die) => die.attributes.get('DW_AT_name') === `(string) ${d.variable}`);
    assert.is(named.length, count, `readelf: DW_TAG_variable ${d.variable}`);
    for (const die of named) {
      assert.match(die.attributes.get('DW_AT_location') ?? '', /DW_OP_addr/, `DW_AT_location of ${d.variable}`);
      assert.ok(die.attributes.has('Unknown AT value: 3c01'), `DW_AT_KATANA_old_location of ${d.variable}`);
    }
    assert.is(matches(llvm, new RegExp(`DW_TAG_variable\\n\\s+DW_AT_name\\s+\\("${d.variable}"\\)`, 'g')), count, `llvm-dwarfdump: DW_TAG_variable ${d.variable}`);
    assert.is(matches(dwarfdump, new RegExp(`DW_TAG_variable\\n\\s+DW_AT_name\\s+${d.variable}\\n`, 'g')), count, `dwarfdump: DW_TAG_variable ${d.variable}`);
  }
}

/** Each function of .text.new: its DW_TAG_subprogram in all three dumps and its .eh_frame FDE at its range. */
function checkFunctions(po: PatchObject, readelf: string, dwarfdump: string, llvm: string): void {
  const ehFrame = between(readelf, 'Contents of the .eh_frame section:', 'Contents of the .debug_');
  const subprograms = readelfDies(readelf).filter((d) => d.tag === 'DW_TAG_subprogram');
  assert.ok(po.functions.length > 0, 'the PO has functions');
  for (const f of po.functions) {
    assert.ok(subprograms.some((d) => d.attributes.get('DW_AT_name') === `(string) ${f.name}`), `readelf: DW_TAG_subprogram ${f.name}`);
    assert.match(llvm, new RegExp(`DW_TAG_subprogram\\n\\s+DW_AT_name\\s+\\("${escape(f.name)}"\\)`), `llvm-dwarfdump: DW_TAG_subprogram ${f.name}`);
    assert.match(dwarfdump, new RegExp(`DW_TAG_subprogram\\n\\s+DW_AT_name\\s+${escape(f.name)}\\n`), `dwarfdump: DW_TAG_subprogram ${f.name}`);
    const start = BigInt(po.symbols[f.symbol]!.defined!.offset);
    const range = `pc=${hex16(start)}..${hex16(start + BigInt(f.size))}`;
    assert.ok(ehFrame.split('\n').some((l) => / FDE cie=/.test(l) && l.endsWith(range)), `readelf: no .eh_frame FDE with ${range} for ${f.name}:\n${ehFrame}`);
  }
}

interface Die {
  /** The DIE's .debug_info offset in hex, as readelf prints it and DW_FORM_ref4 values name it. */
  offset: string;
  tag: string;
  attributes: Map<string, string>;
}

/** The DIEs of `readelf --debug-dump=info`: " <1><5f>: Abbrev Number: 5 (DW_TAG_structure_type)" and its "    <60>   DW_AT_name        : (string) server" lines. */
function readelfDies(readelf: string): Die[] {
  const dies: Die[] = [];
  for (const line of between(readelf, 'Contents of the .debug_info section:', 'Contents of the .debug_').split('\n')) {
    const head = /^\s*<\d+><([0-9a-f]+)>: Abbrev Number: \d+ \((DW_TAG_\w+)\)$/.exec(line);
    if (head) dies.push({ offset: head[1]!, tag: head[2]!, attributes: new Map() });
    // "DW_AT_MIPS_fde or DW_AT_HP_unmodifiable: ..." is keyed DW_AT_MIPS_fde, a vendor attribute "Unknown AT value: 3c01".
    const attribute = /^\s*<[0-9a-f]+>\s+(DW_AT_\w+|Unknown AT value: [0-9a-f]+)[^:]*: (.*)$/.exec(line);
    if (attribute && dies.length > 0) dies[dies.length - 1]!.attributes.set(attribute[1]!, attribute[2]!.trim());
  }
  return dies;
}

function after(text: string, marker: string): string {
  const at = text.indexOf(marker);
  return at < 0 ? '' : text.slice(at + marker.length);
}

function between(text: string, start: string, end: string): string {
  const rest = after(text, start);
  const stop = rest.indexOf(end);
  return stop < 0 ? rest : rest.slice(0, stop);
}

function matches(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hex16(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

function command(r: ToolRun): string {
  return `${r.tool} ${r.args.join(' ')}`;
}

readable.run();
