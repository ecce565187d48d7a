// The registry's bytes: entries and headers round-trip through encode/decode, only committed
// entries count, and every corruption (flipped or truncated bytes, a newer version) is a
// RegistryFormatError naming the registry, never a crash or a silently wrong list.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  REGISTRY_COMMIT_OFFSET, REGISTRY_HEADER_SIZE, RegistryFormatError, decodeRegistry, encodeRegistryCommit, encodeRegistryEntry,
  encodeRegistryHeader, type RegistryEntry,
} from '../src/index.js';

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
function registryOf(entries: RegistryEntry[], regionSize = 0x1000): Uint8Array {
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

format('entries round-trip in order, with their functions, original bytes, CFI and symbols', () => {
  const { header, entries } = decodeRegistry(registryOf([first, second]), 'pid 4242');
  assert.equal(entries, [first, second]);
  assert.is(header.count, 2);
  assert.is(header.generation, 3);
  assert.is(header.creatorPid, 4242);
  assert.is(header.regionSize, 0x1000);
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

format('a newer format version is refused by name', () => {
  const bytes = registryOf([first]);
  bytes[8] = 3;
  assert.throws(() => decodeRegistry(bytes, 'pid 7'), (e: unknown) => e instanceof RegistryFormatError && /pid 7 .*format version 3 is not supported/.test((e as Error).message));
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
