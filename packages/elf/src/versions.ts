// GNU symbol versioning for .dynsym (LSB "Symbol Versioning"): .gnu.version holds one u16 per dynamic
// symbol, an index into the versions defined in .gnu.version_d (Elf64_Verdef + Elf64_Verdaux) or
// needed in .gnu.version_r (Elf64_Verneed + Elf64_Vernaux), with bit 0x8000 marking a hidden
// version (`name@VER` rather than the default `name@@VER`); a needed version also names its file.
// Indices 0 and 1 mean local and unversioned global. Both chains are walked with a bound on the
// entry count, so a corrupt vd_next or vn_next cannot loop.
import { Cursor } from './cursor.js';
import { SHT_GNU_verdef, SHT_GNU_verneed, SHT_GNU_versym, SHT_STRTAB, VERSYM_HIDDEN, VERSYM_VERSION } from './constants.js';
import { ElfFormatError } from './errors.js';
import type { ElfSymbol, Section } from './model.js';
import { StringTable } from './strtab.js';

/** A version's name and, for needed versions, the object that defines it. */
interface VersionName {
  name: string;
  file: string | undefined;
}

const VERDEF_SIZE = 20;
const VERNEED_SIZE = 16;

/** Sets `version` and `versionHidden` on the symbols of `dynsym` from the GNU version sections. */
export function applyVersions(sections: Section[], dynsym: Section, symbols: ElfSymbol[], path: string | undefined): void {
  const versym = sections.find((s) => s.type === SHT_GNU_versym && (s.link === dynsym.index || s.link === 0));
  if (versym === undefined) return;
  const site = { path, section: versym.name, offset: versym.offset };
  if (versym.size < symbols.length * 2) {
    throw new ElfFormatError(`holds ${Math.floor(versym.size / 2)} entries for ${symbols.length} dynamic symbols`, site);
  }
  const names = new Map<number, VersionName>();
  for (const s of sections) {
    if (s.type === SHT_GNU_verdef) readVerdef(sections, s, names, path);
    else if (s.type === SHT_GNU_verneed) readVerneed(sections, s, names, path);
  }
  const d = versym.data();
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  for (let i = 0; i < symbols.length; i++) {
    const v = view.getUint16(i * 2, true);
    const sym = symbols[i]!;
    sym.versionHidden = (v & VERSYM_HIDDEN) !== 0;
    const index = v & VERSYM_VERSION;
    if (index < 2) continue;
    const name = names.get(index);
    if (name === undefined) {
      throw new ElfFormatError(`symbol ${sym.name} has version index ${index}, which no verdef or verneed entry defines`, {
        ...site, offset: versym.offset + i * 2,
      });
    }
    sym.version = name.name;
    if (name.file !== undefined) sym.versionFile = name.file;
  }
}

function stringsOf(sections: Section[], s: Section, path: string | undefined): StringTable {
  const strtab = sections[s.link];
  if (s.link === 0 || strtab === undefined || strtab.type !== SHT_STRTAB) {
    throw new ElfFormatError(`sh_link ${s.link} does not name a string table`, { path, section: s.name, offset: s.offset });
  }
  return new StringTable(strtab.data(), strtab.name, { path, section: s.name });
}

/** Elf64_Verdef chain: vd_ndx → the name in its first Elf64_Verdaux. */
function readVerdef(sections: Section[], s: Section, names: Map<number, VersionName>, path: string | undefined): void {
  const strings = stringsOf(sections, s, path);
  const c = new Cursor(s.data(), 0, s.offset, { path, section: s.name });
  const limit = Math.floor(s.size / VERDEF_SIZE);
  let at = 0;
  for (let n = 0; n < limit; n++) {
    c.pos = at;
    c.u16('vd_version');
    c.u16('vd_flags');
    const ndx = c.u16('vd_ndx');
    const cnt = c.u16('vd_cnt');
    c.u32('vd_hash');
    const aux = c.u32('vd_aux');
    const next = c.u32('vd_next');
    c.check();
    if (cnt > 0) {
      c.pos = at + aux;
      const name = c.u32('vda_name');
      c.check();
      names.set(ndx & VERSYM_VERSION, { name: strings.get(name, s.offset + at + aux), file: undefined });
    }
    if (next === 0) return;
    at += next;
  }
}

/** Elf64_Verneed chain: each Elf64_Vernaux's vna_other → its vna_name. */
function readVerneed(sections: Section[], s: Section, names: Map<number, VersionName>, path: string | undefined): void {
  const strings = stringsOf(sections, s, path);
  const c = new Cursor(s.data(), 0, s.offset, { path, section: s.name });
  const limit = Math.floor(s.size / VERNEED_SIZE);
  let at = 0;
  let budget = limit;
  for (let n = 0; n < limit; n++) {
    c.pos = at;
    c.u16('vn_version');
    const cnt = c.u16('vn_cnt');
    const file = c.u32('vn_file');
    const aux = c.u32('vn_aux');
    const next = c.u32('vn_next');
    c.check();
    const fileName = strings.get(file, s.offset + at);
    let auxAt = at + aux;
    for (let j = 0; j < cnt && budget-- > 0; j++) {
      c.pos = auxAt;
      c.u32('vna_hash');
      c.u16('vna_flags');
      const other = c.u16('vna_other');
      const name = c.u32('vna_name');
      const auxNext = c.u32('vna_next');
      c.check();
      names.set(other & VERSYM_VERSION, { name: strings.get(name, s.offset + auxAt), file: fileName });
      if (auxNext === 0) break;
      auxAt += auxNext;
    }
    if (next === 0) return;
    at += next;
  }
}
