// Data transformations in the PO: the FDE program of a changed struct round-trips through the
// writer and the validating reader, packages/dwarf's CFI reader sees the same rows, readelf,
// llvm-dwarfdump and dwarfdump decode .debug_info and .debug_frame without a warning, and a program
// with a foreign instruction is refused with PoFormatError.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfFile } from '@katana/elf';
import { FrameSection, unwindRows, DW_CFA_same_value, DW_CFA_offset_extended } from '@katana/dwarf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  convertExpression, copyExpression, decodeTransformProgram, describePatchObject, encodeTransformProgram, PoFormatError, readPatchObject,
  writePatchObject, type PatchObject, type TransformRow,
} from '../src/index.js';

// struct stats { int hits; int misses; } -> { long bytes; long misses; int hits; }: bytes is new,
// misses widens (sign-extended), hits is copied.
const ROWS: TransformRow[] = [
  { offset: 0, size: 8, rule: { kind: 'keep' } },
  { offset: 8, size: 8, rule: { kind: 'val-expression', expression: convertExpression(4, 4, true) } },
  { offset: 16, size: 4, rule: { kind: 'expression', expression: copyExpression(0) } },
  { offset: 20, size: 4, rule: { kind: 'keep' } },
];

function patchWithTransform(): PatchObject {
  return {
    targetBuildId: '0123456789abcdef', targetName: 'prog',
    text: new Uint8Array(16).fill(0xc3), rodata: new Uint8Array(), data: new Uint8Array(24 * 2), bssSize: 0,
    symbols: [
      { name: 'tick', type: 'func', bind: 'global', size: 16, defined: { section: 'text', offset: 0 } },
      { name: 'stats', type: 'object', bind: 'global', size: 48, defined: { section: 'data', offset: 0 } },
      { name: 'stats', type: 'object', bind: 'global', size: 16, target: { value: 0x404030n } },
    ],
    relocations: [{ section: 'text', offset: 2, type: 2 /* R_X86_64_PC32 */, symbol: 1, addend: -4n }],
    functions: [{ symbol: 0, name: 'tick', file: 'main.c', size: 16, replaces: { address: 0x401000n, size: 20 } }],
    unsafe: [{ name: 'tick', address: 0x401000n, size: 20, redirectTo: 0 }],
    ehFrame: new Uint8Array(),
    basePatches: [],
    types: [{
      name: 'struct stats', file: 'main.c', oldSize: 8, newSize: 24, rows: ROWS,
      members: [
        { name: 'bytes', offset: 0, size: 8, base: { name: 'long int', encoding: 5 } },
        { name: 'misses', offset: 8, size: 8, base: { name: 'long int', encoding: 5 } },
        { name: 'hits', offset: 16, size: 4, base: { name: 'int', encoding: 5 } },
      ],
    }],
    dataTransforms: [{ variable: 'stats', file: 'main.c', type: 0, oldSymbol: 2, newSymbol: 1, elements: 2, count: 2 }],
  };
}

const program = suite<{ dir: string; file: string }>('transformation program');
program.before.each((ctx) => {
  try {
    ctx.dir = mkdtempSync(join(tmpdir(), 'katana-po-'));
    ctx.file = join(ctx.dir, 'fix.po');
    writeFileSync(ctx.file, writePatchObject(patchWithTransform()));
  } catch (error) {
    console.error('before.each failed:', error);
    throw error;
  }
});
program.after.each((ctx) => {
  if (!process.env['KATANA_KEEP_TMP']) rmSync(ctx.dir, { recursive: true, force: true });
});

program('rows survive encode → decode', () => {
  assert.equal(decodeTransformProgram(encodeTransformProgram(ROWS), 24), ROWS);
});

program('types and transformed variables survive write → read', ({ file }) => {
  const read = readPatchObject(ElfFile.open(file).bytes, file);
  const written = patchWithTransform();
  assert.equal(read.types, written.types);
  const [d] = read.dataTransforms!;
  assert.equal([d!.variable, d!.file, d!.type, d!.elements, d!.count], ['stats', 'main.c', 0, 2, 2]);
  assert.equal(read.symbols[d!.newSymbol]!.defined, { section: 'data', offset: 0 });
  assert.equal(read.symbols[d!.oldSymbol]!.target, { value: 0x404030n });
});

program('a type known by a typedef name is an anonymous struct and a DW_TAG_typedef, and survives write → read', ({ dir }) => {
  const po = patchWithTransform();
  const typedefed: PatchObject = { ...po, types: [{ ...po.types![0]!, name: 'stats_t' }] };
  const file = join(dir, 'typedef.po');
  writeFileSync(file, writePatchObject(typedefed));
  const read = readPatchObject(ElfFile.open(file).bytes, file);
  assert.equal(read.types, typedefed.types);
  assert.is(read.dataTransforms![0]!.type, 0);
  const info = spawnSync('llvm-dwarfdump', ['--debug-info', file], { encoding: 'utf8' }).stdout;
  assert.match(info, /DW_TAG_structure_type\n\s+DW_AT_byte_size\s+\(24\)/);
  assert.match(info, /DW_TAG_typedef\n\s+DW_AT_name\s+\("stats_t"\)/);
  assert.match(info, /DW_TAG_array_type\n\s+DW_AT_type\s+\(0x[0-9a-f]+ "stats_t"\)/);
});

program("packages/dwarf's CFI reader sees one row per member, rules on register 0", ({ file }) => {
  const elf = ElfFile.open(file);
  const frame = FrameSection.parse('.debug_frame', elf.section('.debug_frame')!.data(), { section: 0n });
  assert.is(frame.fdes.length, 1);
  const rows = unwindRows(frame, frame.fdes[0]!);
  assert.equal(rows.map((r) => [Number(r.start), Number(r.end), r.registers.get(0)?.kind]), [
    [0, 8, 'same-value'], [8, 16, 'val-expression'], [16, 20, 'expression'], [20, 24, 'same-value'],
  ]);
});

program('readelf, llvm-dwarfdump and dwarfdump decode .debug_info and .debug_frame cleanly', ({ file }) => {
  const run = (tool: string, args: string[]): string => {
    const r = spawnSync(tool, [...args, file], { encoding: 'utf8' });
    assert.is(r.status, 0, `${tool} ${args.join(' ')} failed (is it installed?): ${r.stderr}`);
    assert.not.match(`${r.stderr}${r.stdout}`, /\b(warning|error)\b\s*:|errors detected|bad register/i, `${tool} ${args.join(' ')} complained`);
    return r.stdout;
  };
  const readelf = run('readelf', ['--debug-dump=info,frames', '-W']);
  assert.match(readelf, /DW_AT_MIPS_fde[^\n]*\(sec_offset\) 0x10/);
  assert.match(readelf, /DW_CFA_val_expression: r0 \(rax\) \(DW_OP_plus_uconst: 4; DW_OP_deref_size: 4; DW_OP_constu: 32; DW_OP_shl; DW_OP_constu: 32; DW_OP_shra\)/);
  assert.match(readelf, /DW_CFA_expression: r0 \(rax\) \(DW_OP_plus_uconst: 0\)/);
  assert.match(readelf, /DW_TAG_subrange_type[\s\S]*DW_AT_count\s*: \(udata\) 2/);
  assert.match(run('llvm-dwarfdump', ['--verify']), /No errors\./);
  assert.match(run('llvm-dwarfdump', ['--debug-frame']), /0x10: CFA=unspecified: RAX=\[DW_OP_plus_uconst 0x0\]/);
  assert.match(run('dwarfdump', ['-a']), /DW_AT_MIPS_fde\s+0x00000010/);
});

program('describePatchObject says where each member comes from, row by row inside a nested struct', () => {
  const po = patchWithTransform();
  assert.equal(describePatchObject(po).types[0]!.members.map((m) => [m.name, m.from]), [['bytes', 'initializer'], ['misses', 'old +4 converted'], ['hits', 'old +0']]);
  // The same rows under one member, as for a nested changed struct flattened into its parent's rows.
  const nested: PatchObject = { ...po, types: [{ ...po.types![0]!, members: [{ name: 'inner', offset: 0, size: 24 }] }] };
  assert.is(describePatchObject(nested).types[0]!.members[0]!.from, '+0 initializer, +8 old +4 converted, +16 old +0, +20 initializer');
});

program('a program with a foreign instruction is refused with PoFormatError', ({ file }) => {
  const bytes = Uint8Array.from(ElfFile.open(file).bytes);
  const frame = ElfFile.parse(bytes, file).section('.debug_frame')!;
  // The FDE's first instruction (DW_CFA_same_value r0) after its 24-byte header, at 0x10 + 24.
  const at = frame.offset + 0x10 + 24;
  assert.is(bytes[at], DW_CFA_same_value);
  bytes[at] = DW_CFA_offset_extended;
  assert.throws(() => readPatchObject(bytes, file), (e: unknown) => e instanceof PoFormatError && /transformation of struct stats: instruction 0x5 is not part of a transformation/.test((e as Error).message));
});

// struct node { long value; struct node *next; } -> { long value; long weight; struct node *next; },
// reached from `struct node *head` (updated in place); union value gains a member and a transformer.
function patchWithPointers(): PatchObject {
  const base = patchWithTransform();
  const follow: TransformRow[] = [
    { offset: 0, size: 8, rule: { kind: 'expression', expression: copyExpression(0) } },
    { offset: 8, size: 8, rule: { kind: 'keep' } },
    { offset: 16, size: 8, rule: { kind: 'follow', expression: copyExpression(8), type: 0 } },
  ];
  return {
    ...base,
    data: new Uint8Array(8),
    symbols: [
      base.symbols[0]!,
      { name: 'head', type: 'object', bind: 'global', size: 8, target: { value: 0x404040n } },
      { name: 'current', type: 'object', bind: 'global', size: 8, defined: { section: 'data', offset: 0 } },
      { name: 'current', type: 'object', bind: 'global', size: 4, target: { value: 0x404050n } },
      { name: 'value_from_v1', type: 'func', bind: 'local', file: 'main.c', size: 8, defined: { section: 'text', offset: 8 } },
    ],
    relocations: [],
    types: [
      {
        name: 'struct node', file: 'main.c', oldSize: 16, newSize: 24, rows: follow,
        members: [
          { name: 'value', offset: 0, size: 8, base: { name: 'long int', encoding: 5 } },
          { name: 'weight', offset: 8, size: 8, base: { name: 'long int', encoding: 5 } },
          { name: 'next', offset: 16, size: 8, pointsTo: 0 },
        ],
      },
      {
        name: 'union value', file: 'main.c', oldSize: 4, newSize: 8, rows: [{ offset: 0, size: 8, rule: { kind: 'keep' } }], transformer: 4,
        members: [{ name: 'i', offset: 0, size: 4, base: { name: 'int', encoding: 5 } }, { name: 'l', offset: 0, size: 8, base: { name: 'long int', encoding: 5 } }],
      },
    ],
    dataTransforms: [
      { variable: 'head', file: 'main.c', type: 0, oldSymbol: 1, newSymbol: 1, count: 1, inPlace: true, pointer: true },
      { variable: 'current', file: 'main.c', type: 1, oldSymbol: 3, newSymbol: 2, count: 1 },
    ],
  };
}

program('followed pointers, unions, transformers and variables updated in place survive write → read, and the tools decode them', ({ dir }) => {
  const file = join(dir, 'pointers.po');
  const written = patchWithPointers();
  writeFileSync(file, writePatchObject(written));
  const read = readPatchObject(ElfFile.open(file).bytes, file);
  // Symbol indices change on the way (the ELF writer puts locals first): compare transformers by name.
  const withoutTransformer = (types: PatchObject['types']) => types!.map(({ transformer: _, ...t }) => t);
  assert.equal(withoutTransformer(read.types), withoutTransformer(written.types));
  assert.equal(read.dataTransforms!.map((d) => [d.variable, d.type, d.inPlace, d.pointer, read.symbols[d.oldSymbol]!.name, read.symbols[d.newSymbol]!.name]), [
    ['head', 0, true, true, 'head', 'head'],
    ['current', 1, undefined, undefined, 'current', 'current'],
  ]);
  assert.is(read.symbols[read.types![1]!.transformer!]!.name, 'value_from_v1');
  const run = (tool: string, args: string[]): string => {
    const r = spawnSync(tool, [...args, file], { encoding: 'utf8' });
    assert.is(r.status, 0, `${tool} ${args.join(' ')} failed (is it installed?): ${r.stderr}`);
    assert.not.match(`${r.stderr}${r.stdout}`, /\b(warning|error)\b\s*:|errors detected|bad register|DW_DLE/i, `${tool} ${args.join(' ')} complained`);
    return r.stdout;
  };
  const readelf = run('readelf', ['--debug-dump=info,frames', '-W']);
  assert.match(readelf, /DW_TAG_union_type/);
  assert.match(readelf, /DW_TAG_pointer_type/);
  assert.match(readelf, /DW_CFA_expression: r1 \(rdx\) \(DW_OP_plus_uconst: 8\)/);
  assert.match(run('llvm-dwarfdump', ['--verify']), /No errors\./);
  // Every row of the table is exact: the follow register is reset after its row.
  assert.match(run('llvm-dwarfdump', ['--debug-frame']), /0x10: CFA=unspecified: RAX=\[DW_OP_plus_uconst 0x8\], RDX=\[DW_OP_plus_uconst 0x8\]/);
  run('dwarfdump', ['-a']);
});

program('a follow register left set into the next row is refused', () => {
  const rows: TransformRow[] = [
    { offset: 0, size: 8, rule: { kind: 'follow', expression: copyExpression(0), type: 0 } },
    { offset: 8, size: 8, rule: { kind: 'keep' } },
  ];
  const bytes = encodeTransformProgram(rows);
  assert.equal(decodeTransformProgram(bytes, 16), rows);
  // Drop the DW_CFA_undefined r1 (2 bytes) that starts the second row, after the advance.
  const at = bytes.indexOf(0x07);
  const broken = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 2)]);
  assert.is(decodeTransformProgram(broken, 16), 'register 1 still follows a pointer at offset 8');
});

// The reverse programs: struct stats back to { int hits; int misses; } (misses narrows back, bytes is
// dropped), struct node back to { long value; struct node *next; } (next followed through the
// reverse of struct node, weight dropped); union value has none (its transformer has no reverse).
const ROLLBACK_STATS: TransformRow[] = [
  { offset: 0, size: 4, rule: { kind: 'expression', expression: copyExpression(16) } },
  { offset: 4, size: 4, rule: { kind: 'val-expression', expression: convertExpression(8, 8, true) } },
];
const ROLLBACK_NODE: TransformRow[] = [
  { offset: 0, size: 8, rule: { kind: 'expression', expression: copyExpression(0) } },
  { offset: 8, size: 8, rule: { kind: 'follow', expression: copyExpression(16), type: 0 } },
];

function patchWithRollback(): PatchObject {
  const po = patchWithPointers();
  const [node, value] = po.types!;
  const stats = { ...patchWithTransform().types![0]!, rollbackRows: ROLLBACK_STATS, droppedOnRollback: ['bytes'] };
  return { ...po, types: [{ ...node!, rollbackRows: ROLLBACK_NODE, droppedOnRollback: ['weight'] }, value!, stats] };
}

program('reverse programs and dropped members survive write → read; a type without one reads back without one', ({ dir }) => {
  const file = join(dir, 'rollback.po');
  const written = patchWithRollback();
  writeFileSync(file, writePatchObject(written));
  const read = readPatchObject(ElfFile.open(file).bytes, file);
  const withoutTransformer = (types: PatchObject['types']) => types!.map(({ transformer: _, ...t }) => t);
  assert.equal(withoutTransformer(read.types), withoutTransformer(written.types));
  assert.is(read.types![1]!.rollbackRows, undefined);
  // Forward FDEs first, then one reverse FDE per type that has one, covering the OLD object.
  const frame = FrameSection.parse('.debug_frame', ElfFile.open(file).section('.debug_frame')!.data(), { section: 0n });
  assert.equal(frame.fdes.map((f) => Number(f.end - f.start)), [24, 8, 24, 16, 8]);
});

program('readelf, llvm-dwarfdump and dwarfdump decode the reverse FDEs and the new attributes cleanly', ({ dir }) => {
  const file = join(dir, 'rollback.po');
  writeFileSync(file, writePatchObject(patchWithRollback()));
  const run = (tool: string, args: string[]): string => {
    const r = spawnSync(tool, [...args, file], { encoding: 'utf8' });
    assert.is(r.status, 0, `${tool} ${args.join(' ')} failed (is it installed?): ${r.stderr}`);
    assert.not.match(`${r.stderr}${r.stdout}`, /\b(warning|error)\b\s*:|errors detected|bad register|DW_DLE/i, `${tool} ${args.join(' ')} complained`);
    return r.stdout;
  };
  const readelf = run('readelf', ['--debug-dump=info,frames', '-W']);
  assert.match(readelf, /Unknown AT value: 3c04[^\n]*\(sec_offset\) 0x/);
  assert.match(readelf, /Unknown AT value: 3c05: \(string\) weight/);
  assert.match(readelf, /DW_CFA_val_expression: r0 \(rax\) \(DW_OP_plus_uconst: 8; DW_OP_deref_size: 8\)/);
  assert.match(run('llvm-dwarfdump', ['--verify']), /No errors\./);
  const dump = run('llvm-dwarfdump', ['--debug-info', '--debug-frame']);
  assert.match(dump, /DW_AT_unknown_3c04\s+\(0x0+98\)[\s\S]*DW_AT_unknown_3c05\s+\("weight"\)/);
  // The reverse FDE of struct node: [0, 16) of an old node, its next at 8 followed.
  assert.match(dump, /0x8: CFA=unspecified: RAX=\[DW_OP_plus_uconst 0x10\], RDX=\[DW_OP_plus_uconst 0x10\]/);
  run('dwarfdump', ['-a']);
});

program.run();
