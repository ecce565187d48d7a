// composePatchObjects on patches that transform data, hand-made in the shape katana diff gives them
// (integration/test/compose-data.test.ts composes real ones and applies them): A moves `stats`
// (struct stats gains a member) and updates `head` in place (struct node gains one, followed
// through `next`); B, made after A, moves `stats` again and `config` for the first time and
// changes struct node again. AB transforms in stages, A's first; A's storage of `stats`, which B
// defines again, stays as a local untyped `stats.stage0`, written by stage 0 and read by stage 1;
// type indices of B's follow rows and pointer members move past A's types. Stages survive the PO
// writer and reader, compose again (AB then C: stage 2), and a variable whose stage is not its
// type's is refused by the reader.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  composePatchObjects, copyExpression, patchObjectId, PoFormatError, readPatchObject, writePatchObject,
  type PatchObject, type PoSymbol, type TransformedType, type TransformRow,
} from '../src/index.js';

const BUILD_ID = 'cd'.repeat(20);
const copy = (offset: number, size: number, from: number): TransformRow => ({ offset, size, rule: { kind: 'expression', expression: copyExpression(from) } });
const keep = (offset: number, size: number): TransformRow => ({ offset, size, rule: { kind: 'keep' } });
const follow = (offset: number, from: number, type: number): TransformRow => ({ offset, size: 8, rule: { kind: 'follow', expression: copyExpression(from), type } });
const member = (name: string, offset: number, size: number) => ({ name, offset, size, base: { name: 'long int', encoding: 5 } });

/** struct node of `size` bytes, its `next` at `next` (followed to type `self`), copied from `oldNext` of the old layout. */
function nodeType(oldSize: number, newSize: number, rows: TransformRow[], next: number, self: number): TransformedType {
  return {
    name: 'struct node', file: 'main.c', oldSize, newSize, rows,
    members: [member('value', 0, 8), { name: 'next', offset: next, size: 8, pointsTo: self }],
  };
}

function statsType(oldSize: number, newSize: number): TransformedType {
  return {
    name: 'struct stats', file: 'main.c', oldSize, newSize,
    members: [member('length', 0, 8), member('extra', oldSize, newSize - oldSize)],
    rows: [copy(0, oldSize, 0), keep(oldSize, newSize - oldSize)],
    rollbackRows: [copy(0, oldSize, 0)],
    droppedOnRollback: ['extra'],
  };
}

const target = (name: string, value: bigint, size: number): PoSymbol => ({ name, type: 'object', bind: 'local', file: 'main.c', size, target: { value } });
const bss = (name: string, offset: number, size: number): PoSymbol => ({ name, type: 'object', bind: 'local', file: 'main.c', size, defined: { section: 'bss', offset } });

function patch(symbols: PoSymbol[], bssSize: number, types: TransformedType[], dataTransforms: PatchObject['dataTransforms'], basePatches: string[]): PatchObject {
  return {
    targetBuildId: BUILD_ID, targetName: 'prog', text: new Uint8Array(), rodata: new Uint8Array(), data: new Uint8Array(), bssSize,
    symbols, relocations: [], functions: [], unsafe: [], basePatches, types, dataTransforms,
  };
}

// A: stats 24 -> 32 (moved to .bss.new+0), node 16 -> 24 (next at 8 -> 16), head in place.
const a = patch(
  [target('stats', 0x4060n, 24), bss('stats', 0, 32), target('head', 0x4050n, 8)],
  32,
  [statsType(24, 32), nodeType(16, 24, [copy(0, 8, 0), keep(8, 8), follow(16, 8, 1)], 16, 1)],
  [
    { variable: 'stats', file: 'main.c', type: 0, oldSymbol: 0, newSymbol: 1, count: 1 },
    { variable: 'head', file: 'main.c', type: 1, oldSymbol: 2, newSymbol: 2, count: 1, inPlace: true, pointer: true },
  ],
  [],
);
const idA = patchObjectId(writePatchObject(a));

// B, after A: config 4 -> 8 (first moved here), stats 32 -> 40, node 24 -> 32; its types in another order.
const b = patch(
  [target('config', 0x4038n, 4), bss('config', 0, 8), target('stats', 0x4060n, 32), bss('stats', 8, 40), target('head', 0x4050n, 8)],
  48,
  [
    { name: 'struct config', file: 'main.c', oldSize: 4, newSize: 8, members: [member('period', 0, 4)], rows: [copy(0, 4, 0), keep(4, 4)] },
    nodeType(24, 32, [keep(0, 8), copy(8, 16, 0), follow(24, 16, 1)], 24, 1),
    statsType(32, 40),
  ],
  [
    { variable: 'config', file: 'main.c', type: 0, oldSymbol: 0, newSymbol: 1, count: 1 },
    { variable: 'stats', file: 'main.c', type: 2, oldSymbol: 2, newSymbol: 3, count: 1 },
    { variable: 'head', file: 'main.c', type: 1, oldSymbol: 4, newSymbol: 4, count: 1, inPlace: true, pointer: true },
  ],
  [idA],
);

const compose = suite('composePatchObjects with data');

compose('A\'s variables and types are stage 0, B\'s stage 1; B\'s type indices move past A\'s', () => {
  const ab = composePatchObjects(a, b, { idA });
  assert.equal(ab.types!.map((t) => `${t.name}@${t.stage ?? 0}`), ['struct stats@0', 'struct node@0', 'struct config@1', 'struct node@1', 'struct stats@1']);
  assert.equal(ab.dataTransforms!.map((d) => `${d.variable}@${d.stage ?? 0}:${ab.types![d.type]!.name}@${ab.types![d.type]!.stage ?? 0}`), [
    'stats@0:struct stats@0', 'head@0:struct node@0', 'config@1:struct config@1', 'stats@1:struct stats@1', 'head@1:struct node@1',
  ]);
  const followed = (t: TransformedType) => t.rows.flatMap((r) => (r.rule.kind === 'follow' ? [r.rule.type] : []));
  assert.equal(followed(ab.types![1]!), [1], 'A\'s node follows to A\'s node');
  assert.equal(followed(ab.types![3]!), [3], 'B\'s node follows to B\'s node, moved past A\'s two types');
  assert.equal(ab.types![3]!.members.find((m) => m.name === 'next')!.pointsTo, 3);
});

compose('A\'s storage of stats stays as stats.stage0: stage 0 writes it, stage 1 reads it; AB defines stats once, B\'s', () => {
  const ab = composePatchObjects(a, b, { idA });
  const [statsA, , config, statsB, head] = ab.dataTransforms!;
  const held = ab.symbols[statsA!.newSymbol]!;
  assert.equal(held, { name: 'stats.stage0', type: 'notype', bind: 'local', file: 'main.c', size: 32, defined: { section: 'bss', offset: 0 } });
  assert.is(statsB!.oldSymbol, statsA!.newSymbol, 'B reads what A wrote');
  assert.equal(ab.symbols[statsB!.newSymbol]!.defined, { section: 'bss', offset: 32 + 8 }, 'B\'s storage moved past A\'s .bss.new');
  assert.equal(ab.symbols[statsA!.oldSymbol]!.target, { value: 0x4060n });
  assert.equal(ab.symbols[config!.oldSymbol]!.target, { value: 0x4038n }, 'what A left alone is read where the program has it');
  assert.is(head!.oldSymbol, ab.dataTransforms![1]!.oldSymbol, 'head once, the same target symbol');
  const definedStats = ab.symbols.filter((s) => s.name === 'stats' && s.defined !== undefined);
  assert.equal(definedStats.map((s) => s.defined), [{ section: 'bss', offset: 40 }], 'a later patch binds to B\'s stats');
});

compose('A\'s transformer that B defines again stays A\'s for stage 0', () => {
  const transformer: PoSymbol = { name: 'stats_from_old', type: 'func', bind: 'local', file: 'main.c', size: 16, defined: { section: 'text', offset: 0 } };
  const withTransformer = (po: PatchObject, type: number): PatchObject => ({
    ...po,
    text: new Uint8Array(16).fill(0xc3),
    symbols: [...po.symbols, transformer],
    types: po.types!.map((t, i) => (i === type ? { ...t, transformer: po.symbols.length } : t)),
  });
  const a2 = withTransformer(a, 0);
  const b2 = { ...withTransformer(b, 2), basePatches: [patchObjectId(writePatchObject(a2))] };
  const ab = composePatchObjects(a2, b2, { idA: b2.basePatches[0]! });
  const [statsA, , , , statsB] = ab.types!;
  assert.equal(ab.symbols[statsA!.transformer!], { ...transformer, name: 'stats_from_old.stage0', type: 'notype' });
  assert.equal(ab.symbols[statsB!.transformer!], { ...transformer, defined: { section: 'text', offset: 16 } });
});

compose('stages survive the PO writer and reader', () => {
  const ab = composePatchObjects(a, b, { idA });
  const back = readPatchObject(writePatchObject(ab), 'ab.po');
  const shape = (po: PatchObject) => po.dataTransforms!.map((d) => {
    const type = po.types![d.type]!;
    const old = po.symbols[d.oldSymbol]!;
    return [d.variable, d.stage ?? 0, type.name, type.stage ?? 0, type.oldSize, type.newSize, old.defined?.offset ?? old.target?.value, d.inPlace === true];
  });
  assert.equal(shape(back), shape(ab));
  const follows = (po: PatchObject) => po.types!.map((t) => t.rows.flatMap((r) => (r.rule.kind === 'follow' ? [`${t.name}@${t.stage ?? 0} -> ${po.types![r.rule.type]!.name}@${po.types![r.rule.type]!.stage ?? 0}`] : [])));
  assert.equal(follows(back), follows(ab));
});

compose('AB composed with C puts C at stage 2, reading B\'s stats held over as stats.stage1', () => {
  const ab = composePatchObjects(a, b, { idA });
  const idAB = patchObjectId(writePatchObject(ab));
  const c = patch(
    [target('stats', 0x4060n, 40), bss('stats', 0, 48)],
    48,
    [statsType(40, 48)],
    [{ variable: 'stats', file: 'main.c', type: 0, oldSymbol: 0, newSymbol: 1, count: 1 }],
    [idAB],
  );
  const abc = composePatchObjects(ab, c, { idA: idAB });
  const stats = abc.dataTransforms!.filter((d) => d.variable === 'stats');
  assert.equal(stats.map((d) => d.stage ?? 0), [0, 1, 2]);
  assert.is(abc.symbols[stats[2]!.oldSymbol]!.name, 'stats.stage1');
  assert.is(stats[2]!.oldSymbol, stats[1]!.newSymbol);
  assert.is(abc.symbols[stats[1]!.oldSymbol]!.name, 'stats.stage0');
});

compose('the reader refuses a variable whose stage is not its type\'s', () => {
  const ab = composePatchObjects(a, b, { idA });
  const broken: PatchObject = { ...ab, dataTransforms: ab.dataTransforms!.map((d, i) => (i === 2 ? { ...d, stage: 0 } : d)) };
  assert.throws(() => readPatchObject(writePatchObject(broken), 'broken.po'), (e: unknown) =>
    e instanceof PoFormatError && /transformed variable config \(stage 0\) is of struct config of stage 1/.test((e as Error).message));
});

compose.run();
