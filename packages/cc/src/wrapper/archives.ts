// Tracks objects that reach a link through a static archive: `cc -o prog main.o libutil.a` or
// `cc -o prog main.o -L. -lutil`. A `-l` library is looked up the way ld does in the `-L` folders
// the call names (lib<name>.so, then lib<name>.a; archives only under -static; `-l:file` by file
// name); the system folders hold no store objects and are not searched. Each member of the archive
// is hashed and looked up in the store.
//
// The linker takes only the members that resolve an undefined symbol. A member counts as linked
// when the output defines, with the same size, one of the global symbols the member defines; an
// output without .symtab (linked with -s) cannot tell, so every store member counts.
// Loaded only by links (record.ts imports it lazily), like the ELF reader it needs.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ElfFile, type ElfSymbol, SHN_LORESERVE, SHN_UNDEF, STB_GLOBAL, STB_GNU_UNIQUE, STB_WEAK } from '@katana/elf';
import { readArchive } from '../archive.js';
import { sha256 } from '../hash.js';
import type { LinkRecord } from '../records.js';
import type { ObjectStore } from '../store.js';

/** How ld finds `-lname`: the file it would open among the `-L` folders, if one exists. */
export function findLibrary(arg: string, libraryDirs: readonly string[], staticLink: boolean, cwd: string): string | undefined {
  const name = arg.slice(2);
  const candidates = name.startsWith(':') ? [name.slice(1)] : staticLink ? [`lib${name}.a`] : [`lib${name}.so`, `lib${name}.a`];
  for (const dir of libraryDirs) {
    for (const candidate of candidates) {
      const path = resolve(cwd, dir, candidate);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/** The defined global symbols of an output, name → size ('stripped' when it has no .symtab). */
export type OutputSymbols = Map<string, number> | 'stripped';

/** Reads the defined global and weak symbols of the linked output at `path`. */
export function outputSymbols(path: string): OutputSymbols {
  const symbols = ElfFile.open(path).symbols();
  if (symbols.length === 0) return 'stripped';
  return new Map(symbols.filter(isDefinedGlobal).map((s) => [s.name, s.size]));
}

function isDefinedGlobal(s: ElfSymbol): boolean {
  return (s.bind === STB_GLOBAL || s.bind === STB_WEAK || s.bind === STB_GNU_UNIQUE) && s.shndx !== SHN_UNDEF && s.shndx < SHN_LORESERVE && s.name !== '';
}

/**
 * The store objects among the members of `archive` that the link took, as link-record entries named
 * like ld names them: `/abs/libutil.a(util.o)`.
 */
export function linkedArchiveMembers(archive: string, store: ObjectStore, output: OutputSymbols): LinkRecord['objects'] {
  const objects: LinkRecord['objects'] = [];
  for (const member of readArchive(archive)) {
    const hash = sha256(member.data);
    if (!store.hasObject(hash)) continue;
    const path = `${archive}(${member.name})`;
    if (output !== 'stripped') {
      const defined = ElfFile.parse(member.data, path).symbols().filter(isDefinedGlobal);
      if (!defined.some((s) => output.get(s.name) === s.size)) continue;
    }
    objects.push({ path, hash });
  }
  return objects;
}
