// The registry's bytes: entries and headers round-trip through encode/decode (with the data block:
// types with their reverse programs and dropped members, variables with their storage and, since
// version 4, their stage), only committed entries count, a version 2 registry written by an older
// katana still reads (its entries have no data block), a version 3 one too (every variable of stage
// 0), and every corruption (flipped or truncated bytes, a newer version) is a
// RegistryFormatError naming the registry, never a crash or a silently wrong list.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyExpression, decodeTransformProgram, encodeTransformProgram, type TransformRow } from '@katana/po';
import {
  REGISTRY_COMMIT_OFFSET, REGISTRY_HEADER_SIZE, REGISTRY_VERSION, REGISTRY_VERSION_OFFSET, RegistryFormatError, decodeRegistry, encodeRegistryCommit,
  encodeRegistryEntry, encodeRegistryHeader, type RegistryEntry,
} from '../src/index.js';

// struct node { long value; long weight; struct node *next; } back to { long value; struct node *next; }.
const ROLLBACK_NODE: TransformRow[] = [
  { offset: 0, size: 8, rule: { kind: 'expression', expression: copyExpression(0) } },
  { offset: 8, size: 8, rule: { kind: 'follow', expression: copyExpression(16), type: 0 } },
];

const first: RegistryEntry = {
  id: 'ab12cd34ef56'.padEnd(64, '7'),
  name: 'fix.po',
  appliedAt: Date.UTC(2024, 4, 1, 12, 0, 0),
  area: { start: 0x3ff000n, size: 0x2000 },
  cfi: { start: 0x3ff000n, end: 0x3ff04an, ehFrameAddress: 0x3ff0c0n, ehFrameSize: 0x6c },
  functions: [
    { name: 'status_code', address: 0x401136n, to: 0x3ff000n, original: Uint8Array.from([0x55, 0x48, 0x89, 0xe5, 0x89]) },
    { name: 'report', address: 0x401150n, to: 0x3ff020n, original: Uint8Array.from([0xe9, 1, 2, 3, 4]) },
  ],
  symbols: [
    { name: 'status_code', kind: 'func', bind: 'global', address: 0x3ff000n, size: 0x1a },
    { name: 'helper', file: 'src/main.c', kind: 'func', bind: 'local', address: 0x3ff020n, size: 0x2a },
    { name: 'counter', kind: 'object', bind: 'weak', address: 0x400000n, size: 4 },
  ],
  movedVariables: 2,
  data: {
    allocator: { malloc: { address: 0x7f12345678a0n, size: 0x1c2 }, free: { address: 0x7f1234567c40n, size: 0xf0 } },
    types: [
      { name: 'struct node', oldSize: 16, newSize: 24, rollback: encodeTransformProgram(ROLLBACK_NODE), dropped: ['weight'] },
      { name: 'union value', oldSize: 4, newSize: 8, dropped: [] },
      { name: 'struct stats', oldSize: 12, newSize: 40, rollback: encodeTransformProgram([{ offset: 0, size: 12, rule: { kind: 'expression', expression: copyExpression(0) } }]), dropped: ['inner.extra', 'items[].extra', 'ünï'] },
    ],
    variables: [
      { name: 'head', file: '', type: 0, oldAddress: 0x404040n, newAddress: 0x404040n, count: 1, oldStride: 8, newStride: 8, inPlace: true, pointer: true, stage: 0 },
      { name: 'stats', file: 'src/main.c', type: 2, oldAddress: 0x404060n, newAddress: 0x3ff100n, count: 3, oldStride: 12, newStride: 40, inPlace: false, pointer: false, stage: 1 },
    ],
  },
};
const second: RegistryEntry = {
  id: '0'.repeat(63) + '1',
  name: 'second patch with a long name, ünïcode included.po',
  appliedAt: Date.UTC(2024, 4, 2),
  movedVariables: 0,
  area: { start: 0x7f0000000000n, size: 0x1000 },
  functions: [{ name: 'x', address: 0x1000n, to: 0x2000n, original: new Uint8Array(5) }],
  symbols: [],
};

/** A registry region holding `entries`, all committed. */
function registryOf(entries: RegistryEntry[], regionSize = 0x2000): Uint8Array {
  const encoded = entries.map(encodeRegistryEntry);
  const used = REGISTRY_HEADER_SIZE + encoded.reduce((n, e) => n + e.length, 0);
  const out = new Uint8Array(regionSize);
  out.set(encodeRegistryHeader({ generation: 3, regionSize, count: entries.length, used, creatorPid: 4242 }), 0);
  let at = REGISTRY_HEADER_SIZE;
  for (const e of encoded) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

const format = suite('registry format');

format('entries round-trip in order, with their functions, original bytes, CFI, symbols and data blocks', () => {
  const { header, entries } = decodeRegistry(registryOf([first, second]), 'pid 4242');
  assert.equal(entries, [first, second]);
  assert.is(header.version, REGISTRY_VERSION);
  assert.is(header.count, 2);
  assert.is(header.generation, 3);
  assert.is(header.creatorPid, 4242);
  assert.is(header.regionSize, 0x2000);
});

format('a reverse program read back decodes with decodeTransformProgram, its follow register naming a type of the entry', () => {
  const [entry] = decodeRegistry(registryOf([first]), 'pid 1').entries;
  const node = entry!.data!.types[0]!;
  assert.equal(decodeTransformProgram(node.rollback!, node.oldSize), ROLLBACK_NODE);
  assert.is(entry!.data!.types[1]!.rollback, undefined, 'a type without a reverse program has none');
});

format('a version 2 registry from an older katana reads: entries without data blocks, movedVariables kept', () => {
  const { data: _, ...older } = first;
  const bytes = registryOf([older, second]);
  new DataView(bytes.buffer).setUint16(REGISTRY_VERSION_OFFSET, 2, true);
  const { header, entries } = decodeRegistry(bytes, 'pid 5');
  assert.is(header.version, 2);
  assert.equal(entries, [older, second]);
  assert.is(entries[0]!.movedVariables, 2);
  assert.is(entries[0]!.data, undefined);
});

format('a version 2 entry is a version 3 entry without a data block: the bytes of both encodings agree up to the block', () => {
  const { data: _, ...older } = first;
  const withData = encodeRegistryEntry(first);
  const without = encodeRegistryEntry(older);
  assert.equal([...withData.subarray(4, without.length)], [...without.subarray(4)]);
  assert.ok(withData.length > without.length);
});

format('a version 3 registry reads every variable as stage 0: its writer had no stages', () => {
  const bytes = registryOf([first]);
  new DataView(bytes.buffer).setUint16(REGISTRY_VERSION_OFFSET, 3, true);
  const { header, entries } = decodeRegistry(bytes, 'pid 5');
  assert.is(header.version, 3);
  assert.equal(entries[0]!.data!.variables.map((v) => v.stage), [0, 0]);
  assert.equal(decodeRegistry(registryOf([first]), 'pid 5').entries[0]!.data!.variables.map((v) => v.stage), [0, 1]);
});

format('entries are multiples of 8 bytes long', () => {
  for (const e of [first, second]) assert.is(encodeRegistryEntry(e).length % 8, 0);
});

format('an entry written past `used` does not count until the commit word says so', () => {
  const bytes = registryOf([first, second]);
  const oneOnly = bytes.slice();
  oneOnly.set(encodeRegistryCommit(1, REGISTRY_HEADER_SIZE + encodeRegistryEntry(first).length), REGISTRY_COMMIT_OFFSET);
  assert.equal(decodeRegistry(oneOnly, 'pid 1').entries, [first]);
  const empty = bytes.slice();
  empty.set(encodeRegistryCommit(0, REGISTRY_HEADER_SIZE), REGISTRY_COMMIT_OFFSET);
  assert.equal(decodeRegistry(empty, 'pid 1').entries, []);
});

format('a newer format version is refused by name, an older one than 2 too', () => {
  const bytes = registryOf([first]);
  bytes[8] = 5;
  assert.throws(() => decodeRegistry(bytes, 'pid 7'), (e: unknown) => e instanceof RegistryFormatError && /pid 7 .*format version 5 is not supported \(this katana reads 2, 3 and 4\)/.test((e as Error).message));
  bytes[8] = 1;
  assert.throws(() => decodeRegistry(bytes, 'pid 7'), (e: unknown) => e instanceof RegistryFormatError && /format version 1 is not supported/.test((e as Error).message));
});

format('a variable record naming a type the data block lacks is refused', () => {
  const broken = { ...first, data: { ...first.data!, variables: [{ ...first.data!.variables[0]!, type: 3 }] } };
  assert.throws(() => decodeRegistry(registryOf([broken]), 'pid 8'), (e: unknown) => e instanceof RegistryFormatError && /names type 3, but the data block has 3/.test((e as Error).message));
});

format('flipped and truncated bytes give RegistryFormatError or a decodable registry, nothing else', () => {
  const bytes = registryOf([first, second]);
  const used = REGISTRY_HEADER_SIZE + encodeRegistryEntry(first).length + encodeRegistryEntry(second).length;
  let refused = 0;
  for (let at = 0; at < used; at++) {
    const broken = bytes.slice();
    broken[at] = broken[at]! ^ 0x5a;
    try {
      decodeRegistry(broken, 'pid 9');
    } catch (error) {
      if (!(error instanceof RegistryFormatError)) throw new Error(`flipping byte ${at} raised ${String(error)}`);
      refused++;
    }
  }
  assert.ok(refused > 0, 'some flips are detected');
  for (let length = 0; length < used; length += 5) {
    assert.throws(() => decodeRegistry(bytes.subarray(0, length), 'pid 9'), (e: unknown) => e instanceof RegistryFormatError, `truncated to ${length}`);
  }
});

format('a count larger than the entries present is refused', () => {
  const bytes = registryOf([first]);
  const used = REGISTRY_HEADER_SIZE + encodeRegistryEntry(first).length;
  bytes.set(encodeRegistryCommit(2, used), REGISTRY_COMMIT_OFFSET);
  assert.throws(() => decodeRegistry(bytes, 'pid 3'), (e: unknown) => e instanceof RegistryFormatError && /entry 2 of 2/.test((e as Error).message));
});

format.run();
