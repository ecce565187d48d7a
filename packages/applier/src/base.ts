// Does the process have the base a patch was made for? A PO names the patches that must already be
// applied, oldest first (NT_KATANA_BASE; none for a patch made from the original build). The
// registry lists what is applied, in order. The same PO again is AlreadyAppliedError; any other
// difference is BaseMismatchError naming both lists. Both checks read the registry only: they run
// before anything is stopped or written.
import { AlreadyAppliedError, BaseMismatchError } from './errors.js';
import type { RegistryEntry } from './registry-format.js';

/** Throws unless the patches applied to `pid` are exactly `expected`, in order, and `id` is not among them. */
export function checkBase(pid: number, poName: string, id: string, expected: readonly string[], registry: { entries: readonly RegistryEntry[] } | undefined): void {
  const entries = registry?.entries ?? [];
  const same = entries.find((e) => e.id === id);
  if (same) throw new AlreadyAppliedError(pid, poName, id, new Date(same.appliedAt));
  const applied = entries.map((e) => e.id);
  if (applied.length !== expected.length || applied.some((a, i) => a !== expected[i])) {
    throw new BaseMismatchError(pid, poName, applied, [...expected]);
  }
}
