// Decodes a symbol table section (.symtab or .dynsym): 24-byte Elf64_Sym records whose names live in
// the string table named by sh_link. st_shndx = SHN_XINDEX is resolved through the SHT_SYMTAB_SHNDX
// section linked to the table. Each local symbol after an STT_FILE symbol gets `file` = that file's
// name (gcc emits "file, its sections and locals" groups; the linker emits an empty STT_FILE before
// its own locals, which ends attribution).
import { Cursor } from './cursor.js';
import { SHN_LORESERVE, SHN_XINDEX, SHT_DYNSYM, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, STB_LOCAL, STT_FILE, shtName } from './constants.js';
import { ElfFormatError } from './errors.js';
import type { ElfSymbol, Section } from './model.js';
import { SYM_SIZE, decodeSym } from './raw.js';
import { StringTable } from './strtab.js';

/** Checks that `table` is a well-formed symbol table and returns its entry count. */
export function symbolCount(table: Section, path: string | undefined): number {
  const site = { path, section: table.name, offset: table.offset };
  if (table.type !== SHT_SYMTAB && table.type !== SHT_DYNSYM) {
    throw new ElfFormatError(`section is ${shtName(table.type)}, not a symbol table`, site);
  }
  if (table.entsize !== SYM_SIZE) throw new ElfFormatError(`symbol entry size ${table.entsize} is not ${SYM_SIZE}`, site);
  if (table.size % SYM_SIZE !== 0) throw new ElfFormatError(`size 0x${table.size.toString(16)} is not a multiple of ${SYM_SIZE}`, site);
  return table.size / SYM_SIZE;
}

/** Decodes every symbol of `table`; throws ElfFormatError on a bad link, name or index. */
export function readSymbols(sections: Section[], table: Section, path: string | undefined): ElfSymbol[] {
  const count = symbolCount(table, path);
  const site = { path, section: table.name };
  const strSection = sections[table.link];
  if (table.link === 0 || strSection === undefined || strSection.type !== SHT_STRTAB) {
    throw new ElfFormatError(`sh_link ${table.link} does not name a string table`, { ...site, offset: table.offset });
  }
  const names = new StringTable(strSection.data(), strSection.name, site);
  const xindex = extendedIndices(sections, table, count, path);
  const c = new Cursor(table.data(), 0, table.offset, site);
  const symbols: ElfSymbol[] = new Array(count);
  let file: string | undefined;
  for (let i = 0; i < count; i++) {
    const at = table.offset + i * SYM_SIZE;
    const raw = decodeSym(c);
    c.check();
    const type = raw.st_info & 0xf;
    const bind = raw.st_info >> 4;
    let shndx = raw.st_shndx;
    if (shndx === SHN_XINDEX && xindex !== undefined) shndx = xindex[i]!;
    if (shndx >= sections.length && (raw.st_shndx === SHN_XINDEX || shndx < SHN_LORESERVE)) {
      throw new ElfFormatError(`symbol ${i} refers to section ${shndx}, beyond the ${sections.length} sections`, { ...site, offset: at });
    }
    const sym: ElfSymbol = {
      index: i,
      name: names.get(raw.st_name, at),
      value: raw.st_value,
      size: raw.st_size,
      type,
      bind,
      visibility: raw.st_other & 3,
      shndx,
    };
    if (type === STT_FILE) file = sym.name === '' ? undefined : sym.name;
    else if (bind === STB_LOCAL && i !== 0 && file !== undefined) sym.file = file;
    symbols[i] = sym;
  }
  return symbols;
}

/** The u32 section indices of the SHT_SYMTAB_SHNDX section linked to `table`, if there is one. */
function extendedIndices(sections: Section[], table: Section, count: number, path: string | undefined): Uint32Array | undefined {
  const s = sections.find((x) => x.type === SHT_SYMTAB_SHNDX && x.link === table.index);
  if (s === undefined) return undefined;
  if (s.size < count * 4) {
    throw new ElfFormatError(`holds ${Math.floor(s.size / 4)} indices for ${count} symbols`, { path, section: s.name, offset: s.offset });
  }
  const d = s.data();
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}
