// Stacking on the registry's record of earlier patches: a referenced symbol resolves to the newest
// patch that defines it (statics by name and file), and a site an earlier patch redirected gets one
// more trampoline at each earlier copy of the function, which becomes unsafe code.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { definedByPatches, stackedSites, type RegistryEntry } from '../src/index.js';

const patch = (n: number, reportAt: bigint, symbols: RegistryEntry['symbols']): RegistryEntry => ({
  id: String(n).repeat(64), name: `p${n}.po`, appliedAt: 0, movedVariables: 0, area: { start: reportAt, size: 0x1000 },
  functions: [{ name: 'report', address: 0x401000n, to: reportAt, original: new Uint8Array(5) }],
  symbols,
});
const first = patch(1, 0x3f0000n, [
  { name: 'report', kind: 'func', bind: 'global', address: 0x3f0000n, size: 40 },
  { name: 'counter', kind: 'object', bind: 'global', address: 0x3f1000n, size: 4 },
  { name: 'helper', file: 'a.c', kind: 'func', bind: 'local', address: 0x3f0040n, size: 12 },
]);
const second = patch(2, 0x3e0000n, [{ name: 'report', kind: 'func', bind: 'global', address: 0x3e0000n, size: 60 }]);

const stack = suite('stacking');

stack('a symbol resolves to the newest patch that defines it', () => {
  assert.is(definedByPatches({ name: 'report', type: 'func', bind: 'global', size: 0, target: {} }, [first, second])?.address, 0x3e0000n);
  assert.is(definedByPatches({ name: 'counter', type: 'object', bind: 'global', size: 0, target: {} }, [first, second])?.address, 0x3f1000n);
  assert.is(definedByPatches({ name: 'printf', type: 'func', bind: 'global', size: 0, target: {} }, [first, second]), undefined);
});

stack('a static matches only a static of the same file', () => {
  const helper = (file: string, bind: 'local' | 'global') => ({ name: 'helper', type: 'func' as const, bind, ...(bind === 'local' ? { file } : {}), size: 0, target: {} });
  assert.is(definedByPatches(helper('a.c', 'local'), [first])?.address, 0x3f0040n);
  assert.is(definedByPatches(helper('b.c', 'local'), [first]), undefined);
  assert.is(definedByPatches(helper('', 'global'), [first]), undefined);
});

stack('a function patched twice gets a trampoline at every earlier copy, each unsafe', () => {
  const { sites, unsafe } = stackedSites([{ name: 'report', site: 0x401000n, symbol: 3 }], [first, second]);
  assert.equal(sites, [
    { name: `report (patch ${'1'.repeat(12)})`, site: 0x3f0000n, symbol: 3 },
    { name: `report (patch ${'2'.repeat(12)})`, site: 0x3e0000n, symbol: 3 },
  ]);
  assert.equal(unsafe.map((u) => [u.start, u.end]), [[0x3f0000n, 0x3f0028n], [0x3e0000n, 0x3e003cn]]);
  assert.equal(stackedSites([{ name: 'other', site: 0x402000n, symbol: 1 }], [first, second]), { sites: [], unsafe: [] });
});

stack.run();
