// @katana/dwarf: a DWARF 4/5 reader (32-bit format, as gcc 12 emits it) with a type model.
// Entry points: readDwarf(elf) → DwarfInfo; describeType / typeName; findVariable and friends;
// CallFrameTable (.eh_frame/.debug_frame) with rowFor(pc) and evaluateExpression for unwinding.
// The raw layer (units, DIEs, attributes) is exported for anything the model does not cover.
export * from './constants.js';
export { DwarfFormatError } from './errors.js';
export { Cursor } from './cursor.js';
export { loadDebugSections } from './sections.js';
export type { DebugSection, DebugSections, RelocTarget } from './sections.js';
export { parseAbbrevTable } from './read/abbrev.js';
export type { Abbrev, AbbrevTable, AttributeSpec } from './read/abbrev.js';
export { attr, infoOffset } from './read/die.js';
export type { Attribute, AttributeValue, Die, InfoOffset, Unit } from './read/die.js';
export { readUnits } from './read/info.js';
export { readFileTable } from './read/line.js';
export type { FileTable } from './read/line.js';
export { readRanges } from './read/ranges.js';
export type { AddressRange } from './read/ranges.js';
export type * from './model.js';
export { readDwarf, readDwarfSections } from './read.js';
export { describeType, typeName } from './describe.js';
export { sizeOf } from './types.js';
export { findVariable, findSubprograms, findType, hasLocalOfType } from './find.js';
export * from './cfi/constants.js';
export { readEncodedPointer, readEncodedValue, type EncodedPointer, type PointerBases } from './cfi/pointer.js';
export { FrameSection, type FrameSectionKind, type CommonInformationEntry, type FrameDescriptionEntry } from './cfi/entries.js';
export { unwindRows, rowAt, type CfaRule, type RegisterRule, type UnwindRow } from './cfi/rows.js';
export { evaluateExpression, type ExpressionContext } from './cfi/expression.js';
export { CallFrameTable, type CfiRow } from './cfi/table.js';
