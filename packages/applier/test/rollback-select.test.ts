// selectRollback: the newest patch by default, all with `all`, named patches (id prefix or PO name)
// only when they are the newest ones; otherwise a refusal that lists the patches above. A patch that
// transformed data goes only when its registry entry says how to transform it back.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DataRollbackError, NothingAppliedError, PatchUnderOthersError, UnknownPatchError, selectRollback, type RegistryEntry } from '../src/index.js';

const entry = (id: string, name: string): RegistryEntry => ({
  id: id.padEnd(64, '0'), name, appliedAt: 0, area: { start: 0x1000n, size: 0x1000 }, functions: [], symbols: [], movedVariables: 0,
});
const entries = [entry('aaaa11', 'v1v2.po'), entry('bbbb22', 'v2v3.po'), entry('cccc33', 'v3v4.po')];

const select = suite('selectRollback');

select('the newest patch by default, every patch with all', () => {
  assert.is(selectRollback(7, entries, { kind: 'newest' }), 2);
  assert.is(selectRollback(7, entries, { kind: 'all' }), 0);
});

select('named patches by id prefix or name, when they are the newest ones', () => {
  assert.is(selectRollback(7, entries, { kind: 'named', patches: ['cccc'] }), 2);
  assert.is(selectRollback(7, entries, { kind: 'named', patches: ['v2v3.po', 'cccc33'] }), 1);
});

select('a patch under others is refused, listing the ones above that were not named', () => {
  assert.throws(() => selectRollback(7, entries, { kind: 'named', patches: ['v1v2.po', 'v3v4.po'] }), (e: unknown) =>
    e instanceof PatchUnderOthersError && e.message === 'patch v1v2.po (aaaa11000000) of pid 7 is under v2v3.po (bbbb22000000); roll it back with it (name it, or --all)');
  assert.throws(() => selectRollback(7, entries, { kind: 'named', patches: ['aaaa'] }), (e: unknown) =>
    e instanceof PatchUnderOthersError && /is under v2v3\.po \(bbbb22000000\), v3v4\.po \(cccc33000000\); roll them back with it \(name them all, or --all\)$/.test(e.message));
});

select('unknown or ambiguous names and an empty registry are refused', () => {
  assert.throws(() => selectRollback(7, entries, { kind: 'named', patches: ['dddd'] }), (e: unknown) => e instanceof UnknownPatchError && /pid 7 has no applied patch dddd/.test(e.message));
  const twice = [...entries, entry('aaaa99', 'again.po')];
  assert.throws(() => selectRollback(7, twice, { kind: 'named', patches: ['aaaa'] }), (e: unknown) => e instanceof UnknownPatchError && /names 2 of them/.test(e.message));
  assert.throws(() => selectRollback(7, [], { kind: 'newest' }), (e: unknown) => e instanceof NothingAppliedError && e.code === 'E_NOTHING_APPLIED');
});

select('a patch that moved data without a record of how to move it back (an older katana) is refused, also under --all; the patches above it stay removable', () => {
  const moved = [entries[0]!, { ...entries[1]!, movedVariables: 2 }, entries[2]!];
  assert.is(selectRollback(7, moved, { kind: 'newest' }), 2);
  assert.throws(() => selectRollback(7, moved, { kind: 'all' }), (e: unknown) =>
    e instanceof DataRollbackError && e.code === 'E_DATA_ROLLBACK' &&
    e.message === 'patch v2v3.po (bbbb22000000) of pid 7 cannot be rolled back: it transformed 2 variable(s) to a new layout, and the katana that applied it recorded no way to transform them back');
});

select('a patch whose data can be transformed back goes; one with a type lacking a reverse program is refused by name', () => {
  const variable = { name: 'current', file: 'main.c', type: 0, oldAddress: 0x4000n, newAddress: 0x5000n, count: 1, oldStride: 4, newStride: 8, inPlace: false, pointer: false, stage: 0 };
  const reversible = { ...entries[2]!, movedVariables: 1, data: { types: [{ name: 'struct config', oldSize: 4, newSize: 8, rollback: new Uint8Array([0x08, 0x00]), dropped: ['limit'] }], variables: [variable] } };
  assert.is(selectRollback(7, [entries[0]!, entries[1]!, reversible], { kind: 'newest' }), 2);
  const irreversible = { ...reversible, data: { types: [{ name: 'union value', oldSize: 4, newSize: 8, dropped: [] }], variables: [variable] } };
  assert.throws(() => selectRollback(7, [entries[0]!, entries[1]!, irreversible], { kind: 'newest' }), (e: unknown) =>
    e instanceof DataRollbackError &&
    e.message === "patch v3v4.po (cccc33000000) of pid 7 cannot be rolled back: it transformed union value, for which katana diff could compile no reverse program (a transformer's conversion, or a change that cannot be undone)");
});

select.run();
