// Which patches a rollback removes. Patches stack: a later patch may call code, use storage or
// overwrite trampolines of an earlier one, so only the newest patches can go, always together with
// every patch above them (libcare and kpatch unload in reverse order of loading, likewise). By
// default the newest patch; `all`: every patch; named patches (an id prefix, or the PO name it was
// applied as): exactly those, which must be the newest ones; otherwise the refusal lists the patches
// above that were not named. A patch that transformed data goes only when its data can be
// transformed back: its registry entry has a data block (version 3) in which every type has a
// reverse program; otherwise it is refused (DataRollbackError), naming the reason.
import { shortPatchId } from '@katana/po';
import { DataRollbackError, NothingAppliedError, PatchUnderOthersError, UnknownPatchError } from './errors.js';
import type { RegistryEntry } from './registry-format.js';

/** What to roll back: the newest patch, all of them, or the named ones. */
export type RollbackRequest = { kind: 'newest' } | { kind: 'all' } | { kind: 'named'; patches: string[] };

/** How messages name an applied patch: "v2v3.po (9875345)". */
export function patchLabel(entry: RegistryEntry): string {
  return `${entry.name} (${shortPatchId(entry.id)})`;
}

/** The index of the first entry to remove: entries[from..] go, newest last; throws when the request cannot be met. */
export function selectRollback(pid: number, entries: readonly RegistryEntry[], request: RollbackRequest): number {
  const from = firstRemoved(pid, entries, request);
  for (const entry of entries.slice(from)) {
    const reason = irreversible(entry);
    if (reason !== undefined) throw new DataRollbackError(pid, patchLabel(entry), reason);
  }
  return from;
}

/** Why the data `entry`'s patch transformed cannot be transformed back; undefined when it can (or there is none). */
function irreversible(entry: RegistryEntry): string | undefined {
  if (entry.movedVariables === 0) return undefined;
  if (entry.data === undefined) {
    return `it transformed ${entry.movedVariables} variable(s) to a new layout, and the katana that applied it recorded no way to transform them back`;
  }
  const type = entry.data.types.find((t) => t.rollback === undefined);
  if (type !== undefined) {
    return `it transformed ${type.name}, for which katana diff could compile no reverse program (a transformer's conversion, or a change that cannot be undone)`;
  }
  return undefined;
}

function firstRemoved(pid: number, entries: readonly RegistryEntry[], request: RollbackRequest): number {
  if (entries.length === 0) throw new NothingAppliedError(pid);
  if (request.kind === 'newest') return entries.length - 1;
  if (request.kind === 'all') return 0;
  const named = new Set(request.patches.map((p) => findEntry(pid, entries, p)));
  const from = Math.min(...named);
  const above = entries.slice(from).flatMap((e, i) => (named.has(from + i) ? [] : [patchLabel(e)]));
  if (above.length > 0) throw new PatchUnderOthersError(pid, patchLabel(entries[from]!), above);
  return from;
}

// An id prefix (at least 4 hex digits) or the name the patch was applied as, matching exactly one entry.
function findEntry(pid: number, entries: readonly RegistryEntry[], patch: string): number {
  const byId = /^[0-9a-f]{4,64}$/.test(patch) ? entries.flatMap((e, i) => (e.id.startsWith(patch) ? [i] : [])) : [];
  const matches = byId.length > 0 ? byId : entries.flatMap((e, i) => (e.name === patch ? [i] : []));
  if (matches.length === 1) return matches[0]!;
  const applied = entries.map(patchLabel).join(', ');
  throw new UnknownPatchError(pid, patch, matches.length === 0 ? `the patches applied are ${applied}` : `it names ${matches.length} of them (${applied}); give more of the id`);
}
