// Reads and validates a Patch Object: parses the ELF, checks it is an x86-64 relocatable with the
// Katana note, and rebuilds the PatchObject model. Every inconsistency (a relocation past its
// section, an entry naming a symbol that does not exist, an unknown format version) is reported as
// one PoFormatError naming the file, so the applier never acts on a half-understood patch.
import {
  EM_X86_64,
  ET_REL,
  ElfFile,
  SHN_UNDEF,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_SECTION,
  STT_TLS,
  SHT_PROGBITS,
  SHT_X86_64_UNWIND,
  isKatanaError,
  type ElfSymbol,
  type Section,
} from '@katana/elf';
import {
  KATANA_NOTE_NAME,
  NOTE_SECTION,
  NT_KATANA_BASE,
  NT_KATANA_BUILD_ID,
  NT_KATANA_SYMBOL_VALUES,
  NT_KATANA_TARGET_NAME,
  NT_KATANA_VERSION,
  PATCH_ID_SIZE,
  PO_FORMAT_VERSION,
  SHT_KATANA_UNSAFE,
  SYMBOL_VALUE_ENTRY_SIZE,
  UNSAFE_ENTRY_SIZE,
  UNSAFE_SECTION,
} from './constants.js';
import { PoFormatError } from './errors.js';
import {
  PO_SECTION_NAMES,
  type PatchFunction,
  type PatchObject,
  type PoRelocation,
  type PoSectionKind,
  type PoSymbol,
  type UnsafeFunction,
} from './model.js';
import { readDataTransforms } from './read-data.js';
import { relocationWidth } from './relocation-width.js';
import { readDwarf } from '@katana/dwarf';

/** Parses and validates a Patch Object; `file` names it in error messages. */
export function readPatchObject(bytes: Uint8Array, file = 'the patch object'): PatchObject {
  let elf: ElfFile;
  try {
    elf = ElfFile.parse(bytes, file);
  } catch (error) {
    if (isKatanaError(error)) throw new PoFormatError(file, error.message, { cause: error });
    throw error;
  }
  try {
    return decode(elf, file);
  } catch (error) {
    if (error instanceof PoFormatError) throw error;
    if (isKatanaError(error)) throw new PoFormatError(file, error.message, { cause: error });
    throw error;
  }
}

function decode(elf: ElfFile, file: string): PatchObject {
  const fail = (detail: string): never => {
    throw new PoFormatError(file, detail);
  };
  if (elf.header.type !== ET_REL) fail('it is not an ELF relocatable object');
  if (elf.header.machine !== EM_X86_64) fail('it is not for x86-64');

  const noteSection = elf.section(NOTE_SECTION) ?? fail(`it has no ${NOTE_SECTION} section`);
  const notes = elf.notes().filter((n) => n.name === KATANA_NOTE_NAME);
  const note = (type: number) => notes.find((n) => n.type === type)?.desc;
  const version = note(NT_KATANA_VERSION) ?? fail(`${noteSection.name} has no format version`);
  if (version.length !== 4) fail('its format version note is malformed');
  const formatVersion = new DataView(version.buffer, version.byteOffset, 4).getUint32(0, true);
  if (formatVersion !== PO_FORMAT_VERSION) fail(`format version ${formatVersion} is not supported (this katana reads ${PO_FORMAT_VERSION})`);
  const buildId = note(NT_KATANA_BUILD_ID) ?? fail('it names no target build-id');
  if (buildId.length === 0) fail('its target build-id is empty');
  const targetName = new TextDecoder().decode(note(NT_KATANA_TARGET_NAME) ?? new Uint8Array()).replace(/\0+$/, '');
  const base = note(NT_KATANA_BASE) ?? new Uint8Array();
  if (base.length % PATCH_ID_SIZE !== 0) fail(`its base note is not a list of ${PATCH_ID_SIZE}-byte patch ids`);
  const basePatches: string[] = [];
  for (let at = 0; at < base.length; at += PATCH_ID_SIZE) basePatches.push(toHex(base.subarray(at, at + PATCH_ID_SIZE)));

  const sections = new Map<PoSectionKind, Section>();
  for (const kind of ['text', 'rodata', 'data', 'bss', 'ehFrame'] as const) {
    const section = elf.section(PO_SECTION_NAMES[kind]);
    if (section) sections.set(kind, section);
  }
  const ehFrame = sections.get('ehFrame');
  if (ehFrame && ehFrame.type !== SHT_X86_64_UNWIND && ehFrame.type !== SHT_PROGBITS) fail(`${ehFrame.name} has the wrong section type`);
  const text = sections.get('text') ?? fail(`it has no ${PO_SECTION_NAMES.text} section`);
  const kindOf = new Map([...sections].map(([kind, s]) => [s.index, kind]));

  // ELF symbol index -> model index; FILE and the null symbol have no model counterpart.
  const elfSymbols = elf.symbols();
  const modelIndex = new Map<number, number>();
  const symbols: PoSymbol[] = [];
  for (const s of elfSymbols) {
    if (s.index === 0 || s.type === STT_FILE) continue;
    // Section symbols of the debug sections serve their relocations only; the model has no use for them.
    if (s.type === STT_SECTION && !kindOf.has(s.shndx) && elf.sections[s.shndx]?.name.startsWith('.debug_')) continue;
    modelIndex.set(s.index, symbols.length);
    symbols.push(decodeSymbol(s, kindOf, fail));
  }
  const symbolAt = (elfIndex: number, what: string): number =>
    modelIndex.get(elfIndex) ?? fail(`${what} names symbol ${elfIndex}, which does not exist`);

  const values = note(NT_KATANA_SYMBOL_VALUES) ?? new Uint8Array();
  if (values.length % SYMBOL_VALUE_ENTRY_SIZE !== 0) fail('its symbol value note has a partial entry');
  const valuesView = new DataView(values.buffer, values.byteOffset, values.length);
  for (let at = 0; at < values.length; at += SYMBOL_VALUE_ENTRY_SIZE) {
    const symbol = symbols[symbolAt(valuesView.getUint32(at, true), 'the symbol value note')]!;
    const target = symbol.target ?? fail(`the symbol value note gives a value to ${symbol.name}, which the patch defines`);
    target.value = valuesView.getBigUint64(at + 8, true);
  }

  const relocations: PoRelocation[] = [];
  for (const [kind, section] of sections) {
    for (const r of elf.relocationsFor(section)) {
      const width = relocationWidth(r.type) ?? fail(`${section.name} has an unsupported relocation type ${r.type}`);
      if (r.offset < 0n || r.offset + BigInt(width) > BigInt(section.size)) {
        fail(`a relocation at ${section.name}+0x${r.offset.toString(16)} lies outside the section`);
      }
      relocations.push({
        section: kind,
        offset: Number(r.offset),
        type: r.type,
        symbol: symbolAt(r.symbolIndex, `a relocation in ${section.name}`),
        addend: r.addend,
      });
    }
  }

  const unsafeSection = elf.section(UNSAFE_SECTION) ?? fail(`it has no ${UNSAFE_SECTION} section`);
  if (unsafeSection.type !== SHT_KATANA_UNSAFE) fail(`${UNSAFE_SECTION} has the wrong section type`);
  const unsafeBytes = unsafeSection.data();
  if (unsafeBytes.length % UNSAFE_ENTRY_SIZE !== 0) fail(`${UNSAFE_SECTION} has a partial entry`);
  const unsafeView = new DataView(unsafeBytes.buffer, unsafeBytes.byteOffset, unsafeBytes.length);
  const unsafe: UnsafeFunction[] = [];
  for (let at = 0; at < unsafeBytes.length; at += UNSAFE_ENTRY_SIZE) {
    const old = symbols[symbolAt(unsafeView.getUint32(at, true), UNSAFE_SECTION)]!;
    const redirect = unsafeView.getUint32(at + 4, true);
    const entry: UnsafeFunction = {
      name: old.name,
      ...(old.file === undefined ? {} : { file: old.file }),
      address: unsafeView.getBigUint64(at + 8, true),
      size: Number(unsafeView.getBigUint64(at + 16, true)),
    };
    if (redirect !== 0) {
      entry.redirectTo = symbolAt(redirect, UNSAFE_SECTION);
      const target = symbols[entry.redirectTo]!;
      if (target.defined?.section !== 'text') fail(`${UNSAFE_SECTION} redirects ${old.name} to ${target.name}, which is not in ${text.name}`);
    }
    unsafe.push(entry);
  }

  // .debug_info names the source file of every function, globals included (ELF only ties locals
  // to a file): a compile unit per file, a subprogram whose low pc is the function's offset.
  const fileAt = new Map<number, string>();
  const dwarf = readDwarf(elf);
  for (const unit of dwarf.units) {
    for (const sub of unit.subprograms) {
      if (sub.lowPcTarget?.section === text.name && sub.lowPc !== undefined) fileAt.set(Number(sub.lowPc), unit.name ?? '');
    }
  }
  const functions: PatchFunction[] = [];
  symbols.forEach((s, i) => {
    if (s.type !== 'func' || s.defined?.section !== 'text') return;
    if (s.defined.offset + s.size > text.size) fail(`function ${s.name} extends past the end of ${text.name}`);
    const replaced = unsafe.find((u) => u.redirectTo === i);
    functions.push({
      symbol: i,
      name: s.name,
      file: s.file ?? fileAt.get(s.defined.offset) ?? '',
      size: s.size,
      ...(replaced ? { replaces: { address: replaced.address, size: replaced.size } } : {}),
    });
  });

  const { types, dataTransforms } = readDataTransforms(elf, dwarf, symbols, symbolAt, fail);

  return {
    targetBuildId: toHex(buildId),
    targetName,
    text: text.data(),
    rodata: sections.get('rodata')?.data() ?? new Uint8Array(),
    data: sections.get('data')?.data() ?? new Uint8Array(),
    bssSize: sections.get('bss')?.size ?? 0,
    symbols,
    relocations,
    functions,
    unsafe,
    ehFrame: ehFrame?.data() ?? new Uint8Array(),
    basePatches,
    types,
    dataTransforms,
  };
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function decodeSymbol(s: ElfSymbol, kindOf: Map<number, PoSectionKind>, fail: (detail: string) => never): PoSymbol {
  const bind = s.bind === STB_LOCAL ? 'local' : s.bind === STB_GLOBAL ? 'global' : s.bind === STB_WEAK ? 'weak' : fail(`symbol ${s.name} has binding ${s.bind}`);
  const file = s.file === undefined ? {} : { file: s.file };
  if (s.type === STT_SECTION) {
    const section = kindOf.get(s.shndx) ?? fail(`a section symbol names section ${s.shndx}, which the patch does not load`);
    return { name: PO_SECTION_NAMES[section], type: 'section', bind, size: 0, defined: { section, offset: 0 } };
  }
  const type =
    s.type === STT_FUNC ? 'func' : s.type === STT_OBJECT ? 'object' : s.type === STT_TLS ? 'tls' : s.type === STT_NOTYPE ? 'notype' : fail(`symbol ${s.name} has type ${s.type}`);
  if (s.shndx === SHN_UNDEF) return { name: s.name, type, bind, ...file, size: s.size, target: {} };
  const section = kindOf.get(s.shndx) ?? fail(`symbol ${s.name} is defined in section ${s.shndx}, which the patch does not load`);
  return { name: s.name, type, bind, ...file, size: s.size, defined: { section, offset: Number(s.value) } };
}
