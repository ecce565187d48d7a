// Where a new registry entry goes: a first region of REGISTRY_INITIAL_SIZE, the current region while
// it has room, else a region twice as big (or big enough) under the next generation.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REGISTRY_HEADER_SIZE, type Registry } from '../src/index.js';
import { REGISTRY_INITIAL_SIZE, placeRegistryEntry } from '../src/registry-write.js';

const registryWith = (used: number, regionSize: number, generation = 1): Registry => ({
  region: { start: 0x7f0000000000n, size: regionSize, header: { version: 2, generation, regionSize, count: 3, used, creatorPid: 1 } },
  entries: [],
  stale: [],
});

const place = suite('placeRegistryEntry');

place('a process without a registry gets a first region', () => {
  assert.equal(placeRegistryEntry(undefined, 200), { kind: 'create', size: REGISTRY_INITIAL_SIZE, generation: 1 });
  assert.equal(placeRegistryEntry(undefined, REGISTRY_INITIAL_SIZE), { kind: 'create', size: REGISTRY_INITIAL_SIZE + 0x1000, generation: 1 });
});

place('an entry that fits goes after the committed ones, up to the last byte', () => {
  assert.equal(placeRegistryEntry(registryWith(REGISTRY_HEADER_SIZE + 400, 0x1000), 200), { kind: 'append' });
  assert.equal(placeRegistryEntry(registryWith(0x1000 - 200, 0x1000), 200), { kind: 'append' });
});

place('a full region moves to one twice as big, or big enough, under the next generation', () => {
  assert.equal(placeRegistryEntry(registryWith(0x1000 - 100, 0x1000, 4), 200), { kind: 'create', size: 0x2000, generation: 5 });
  assert.equal(placeRegistryEntry(registryWith(0x1000 - 100, 0x1000, 4), 0x3000), { kind: 'create', size: 0x4000, generation: 5 });
});

place.run();
