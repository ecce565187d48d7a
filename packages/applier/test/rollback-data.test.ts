// prepareRollbackData: a registry entry's data block becomes the stop window's work with the
// reverse programs (objects read in the patch's layout, written in the one before it), every
// variable from the storage the apply wrote back to the storage it read, into memory the process
// has; a malformed program or a dangling type index is a DataTransformError naming the patch.
import { convertExpression, copyExpression, encodeTransformProgram, type TransformRow } from '@katana/po';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DataTransformError, droppedMembers, prepareRollbackData, type RegistryEntry } from '../src/index.js';

// struct stats { int hits; int errors; long misses; long bytes; } (24 bytes) back to
// { int hits; int misses; int errors; } (12 bytes): misses narrows back, bytes is dropped.
const REVERSE_STATS: TransformRow[] = [
  { offset: 0, size: 4, rule: { kind: 'expression', expression: copyExpression(0) } },
  { offset: 4, size: 4, rule: { kind: 'val-expression', expression: convertExpression(8, 8, true) } },
  { offset: 8, size: 4, rule: { kind: 'expression', expression: copyExpression(4) } },
];
// struct node { long value; long weight; struct node *next; } back to { long value; struct node *next; }.
const REVERSE_NODE: TransformRow[] = [
  { offset: 0, size: 8, rule: { kind: 'expression', expression: copyExpression(0) } },
  { offset: 8, size: 8, rule: { kind: 'follow', expression: copyExpression(16), type: 1 } },
];

const entry: RegistryEntry = {
  id: 'ab'.repeat(32), name: 'fix.po', appliedAt: 0, area: { start: 0x7f0000000000n, size: 0x2000 }, functions: [], symbols: [], movedVariables: 2,
  data: {
    allocator: { malloc: { address: 0x7f1000001000n, size: 0x200 }, free: { address: 0x7f1000002000n, size: 0x100 } },
    types: [
      { name: 'struct stats', oldSize: 12, newSize: 24, rollback: encodeTransformProgram(REVERSE_STATS), dropped: ['bytes'] },
      { name: 'struct node', oldSize: 16, newSize: 24, rollback: encodeTransformProgram(REVERSE_NODE), dropped: ['weight'] },
    ],
    variables: [
      { name: 'stats', file: 'main.c', type: 0, oldAddress: 0x404040n, newAddress: 0x7f0000001000n, count: 1, oldStride: 12, newStride: 24, inPlace: false, pointer: false, stage: 0 },
      { name: 'head', file: 'main.c', type: 1, oldAddress: 0x404060n, newAddress: 0x404060n, count: 1, oldStride: 8, newStride: 8, inPlace: true, pointer: true, stage: 0 },
    ],
  },
};

const prepare = suite('prepareRollbackData');

prepare('each variable goes from the storage the apply wrote to the storage it read, into existing memory', () => {
  const prepared = prepareRollbackData(entry)!;
  assert.equal(prepared.names, ['struct stats', 'struct node']);
  assert.equal(prepared.migrations.map((m) => [m.variable, m.oldAddress, m.newAddress, m.oldStride, m.newStride, m.destination.kind, m.inPlace, m.pointer]), [
    ['stats', 0x7f0000001000n, 0x404040n, 24, 12, 'existing', false, false],
    ['head', 0x404060n, 0x404060n, 8, 8, 'existing', true, true],
  ]);
  assert.ok(prepared.callsTarget, 'pointers are followed: heap blocks get new ones from malloc');
  assert.equal(prepared.transformers, [undefined, undefined]);
});

prepare('a composed patch is reversed last stage first', () => {
  assert.equal(prepareRollbackData(entry)!.stages, [0]);
  const variables = entry.data!.variables.map((v, i) => ({ ...v, stage: i === 0 ? 1 : 0 }));
  const composed = prepareRollbackData({ ...entry, data: { ...entry.data!, variables } })!;
  assert.equal(composed.stages, [1, 0]);
  assert.equal(composed.migrations.map((m) => [m.variable, m.stage]), [['stats', 1], ['head', 0]]);
});

prepare('the programs read the new layout and fill the old one', () => {
  const [stats, node] = prepareRollbackData(entry)!.programs;
  assert.equal([stats!.oldSize, stats!.newSize, node!.oldSize, node!.newSize], [24, 12, 24, 16]);
  const v2 = new Uint8Array(24);
  const view = new DataView(v2.buffer);
  view.setInt32(0, 41, true); // hits
  view.setInt32(4, 7, true); // errors
  view.setBigInt64(8, -3n, true); // misses
  view.setBigInt64(16, 4097n, true); // bytes: dropped
  const v1 = new Uint8Array(12);
  stats!.run(v2, 0, v1, 0, 'stats');
  const back = new DataView(v1.buffer);
  assert.equal([back.getInt32(0, true), back.getInt32(4, true), back.getInt32(8, true)], [41, -3, 7]);
  const followed: [number, number, number][] = [];
  const newNode = new Uint8Array(24);
  new DataView(newNode.buffer).setBigUint64(16, 0x5555000010n, true);
  node!.run(newNode, 0, new Uint8Array(16), 0, 'node', (offset, value, type) => followed.push([offset, value, type]));
  assert.equal(followed, [[8, 0x5555000010, 1]]);
});

prepare('what a rollback drops, one phrase per member; nothing without a data block', () => {
  assert.equal(droppedMembers(entry), ["member 'bytes' of struct stats", "member 'weight' of struct node"]);
  const { data: _, ...older } = entry;
  assert.is(prepareRollbackData(older), undefined);
  assert.equal(droppedMembers(older), []);
});

prepare('a malformed reverse program or a type index past the entry is refused, naming the patch', () => {
  const types = entry.data!.types;
  const broken = { ...entry, data: { ...entry.data!, types: [{ ...types[0]!, rollback: Uint8Array.from([0x2f]) }, types[1]!] } };
  assert.throws(() => prepareRollbackData(broken), (e: unknown) => e instanceof DataTransformError && /^the reverse program of struct stats in the registry entry of patch fix\.po \(ababababab\w*\) is malformed: /.test((e as Error).message));
  const dangling = { ...entry, data: { ...entry.data!, types: [types[0]!, { ...types[1]!, rollback: encodeTransformProgram([REVERSE_NODE[0]!, { ...REVERSE_NODE[1]!, rule: { ...REVERSE_NODE[1]!.rule, type: 5 } as TransformRow['rule'] }]) }] } };
  assert.throws(() => prepareRollbackData(dangling), (e: unknown) => e instanceof DataTransformError && /follows a pointer to type 5, but the entry has 2/.test((e as Error).message));
});

prepare.run();
