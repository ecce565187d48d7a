// @katana/elf: ELF64 x86-64 reader (ElfFile, readBuildId) and ET_REL writer (RelocatableWriter).
// The public API is described in ../CONTRACT.md; everything a package needs is re-exported here.
export { KatanaError, isKatanaError } from '@katana/errors';
export * from './constants.js';
export { ElfFormatError, ElfIoError, ElfWriteError, type ElfErrorSite } from './errors.js';
export type { ElfHeader, Section, Segment, ElfSymbol, Relocation, ElfNote } from './model.js';
export { ElfFile } from './read.js';
export { readBuildId } from './buildid.js';
export { pltEntry } from './plt.js';
export { parseNotes, buildIdOf } from './notes.js';
export { StringTable, StringTableBuilder } from './strtab.js';
export { toSafeNumber } from './cursor.js';
export { concatBytes, equalBytes } from './bytes.js';
export { RelocatableWriter, type OutSection, type OutSymbol, type OutRelocation, type SymbolRef } from './write.js';
