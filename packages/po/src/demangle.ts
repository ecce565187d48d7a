// C++ symbol names for people: `_ZNK6Square4areaEv` → `Square::area() const`, also with gcc's clone
// suffixes (`_Z1fi.constprop.0` → `f(int) [clone .constprop.0]`). Runs binutils' c++filt once for
// a whole list (names that are not Itanium-mangled, i.e. do not start with `_Z`, are left alone and
// cost nothing). Display only: when c++filt cannot run, the mangled names are shown.
import { spawnSync } from 'node:child_process';

/** The demangled form of each name, in order; a name c++filt does not know comes back unchanged. */
export function demangle(names: readonly string[]): string[] {
  const mangled = [...new Set(names.filter((n) => n.startsWith('_Z') && !n.includes('\n')))];
  if (mangled.length === 0) return [...names];
  const r = spawnSync('c++filt', [], { input: `${mangled.join('\n')}\n`, encoding: 'utf8' });
  const lines = r.status === 0 ? r.stdout.split('\n') : [];
  const byName = new Map(mangled.map((n, i) => [n, lines.length > mangled.length ? lines[i]! : n]));
  return names.map((n) => byName.get(n) ?? n);
}

/** The demangled form of one name. */
export function demangleName(name: string): string {
  return demangle([name])[0]!;
}
