// Decodes SHT_RELA sections (gABI "Relocation"): 24-byte Elf64_Rela records, r_info split into the
// symbol index (high 32 bits) and the R_X86_64_* type (low 32 bits). The symbol index is checked
// against the symbol table named by sh_link (sh_link 0, as in a static executable's .rela.plt,
// allows only symbol 0).
import { Cursor } from './cursor.js';
import { SHT_DYNSYM, SHT_RELA, SHT_SYMTAB, shtName } from './constants.js';
import { ElfFormatError } from './errors.js';
import type { Relocation, Section } from './model.js';
import { RELA_SIZE } from './raw.js';
import { symbolCount } from './symbols.js';

/** Decodes every entry of the SHT_RELA section `rela`; throws ElfFormatError when malformed. */
export function readRelocations(sections: Section[], rela: Section, path: string | undefined): Relocation[] {
  const site = { path, section: rela.name };
  if (rela.type !== SHT_RELA) {
    throw new ElfFormatError(`section is ${shtName(rela.type)}, not SHT_RELA`, { ...site, offset: rela.offset });
  }
  if (rela.entsize !== RELA_SIZE || rela.size % RELA_SIZE !== 0) {
    throw new ElfFormatError(`entry size ${rela.entsize} and size 0x${rela.size.toString(16)} do not fit ${RELA_SIZE}-byte entries`, {
      ...site, offset: rela.offset,
    });
  }
  let symbols = 1;
  if (rela.link !== 0) {
    const symtab = sections[rela.link];
    if (symtab === undefined || (symtab.type !== SHT_SYMTAB && symtab.type !== SHT_DYNSYM)) {
      throw new ElfFormatError(`sh_link ${rela.link} does not name a symbol table`, { ...site, offset: rela.offset });
    }
    symbols = symbolCount(symtab, path);
  }
  const count = rela.size / RELA_SIZE;
  const c = new Cursor(rela.data(), 0, rela.offset, site);
  const out: Relocation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const offset = c.u64('r_offset');
    const info = c.u64('r_info');
    const addend = c.i64('r_addend');
    const symbolIndex = Number(info >> 32n);
    if (symbolIndex >= symbols) c.fail(`relocation ${i} names symbol ${symbolIndex}, beyond the ${symbols} symbols`, i * RELA_SIZE);
    c.check();
    out[i] = { offset, type: Number(info & 0xffffffffn), symbolIndex, addend };
  }
  return out;
}
