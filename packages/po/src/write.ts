// Turns a PatchObject into the bytes of an ELF64 relocatable (the paper's Figure 3 layout):
// .text.new, .rodata.new, .data.new, .bss.new and .eh_frame with their .rela sections,
// .unsafe_functions, .note.katana (with the base note), .symtab and .strtab. Target functions named only in .unsafe_functions get an
// undefined symbol of their own, so every entry can point at a symbol for its name and file.
import {
  concatBytes,
  EM_X86_64,
  R_X86_64_32,
  R_X86_64_64,
  RelocatableWriter,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_NOTE,
  SHT_PROGBITS,
  SHT_X86_64_UNWIND,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_TLS,
  type SymbolRef,
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
import { PO_SECTION_ALIGN, PO_SECTION_NAMES, type PatchObject, type PoSectionKind, type PoSymbol } from './model.js';
import { encodeDebugFrame } from './debug-frame.js';
import { encodeDebugInfo } from './debug-info.js';
import { encodeNote } from './note.js';

const SECTION_FLAGS: Record<PoSectionKind, bigint> = {
  text: SHF_ALLOC | SHF_EXECINSTR,
  rodata: SHF_ALLOC,
  data: SHF_ALLOC | SHF_WRITE,
  bss: SHF_ALLOC | SHF_WRITE,
  ehFrame: SHF_ALLOC,
};

const ELF_TYPE: Record<PoSymbol['type'], number> = {
  func: STT_FUNC,
  object: STT_OBJECT,
  tls: STT_TLS,
  notype: STT_NOTYPE,
  section: STT_NOTYPE, // never used: section symbols go through addSectionSymbol
};

const ELF_BIND: Record<PoSymbol['bind'], number> = { local: STB_LOCAL, global: STB_GLOBAL, weak: STB_WEAK };

/** Serialises a PatchObject as an ELF64 relocatable file. */
export function writePatchObject(po: PatchObject): Uint8Array {
  const writer = new RelocatableWriter(EM_X86_64);

  const sectionIndex = new Map<PoSectionKind, number>();
  const contents: Record<PoSectionKind, Uint8Array | number> = {
    text: po.text,
    rodata: po.rodata,
    data: po.data,
    bss: po.bssSize,
    ehFrame: po.ehFrame ?? new Uint8Array(),
  };
  for (const kind of ['text', 'rodata', 'data', 'bss', 'ehFrame'] as const) {
    const content = contents[kind];
    const size = typeof content === 'number' ? content : content.length;
    // .text.new is always present; the other sections only when the patch has something for them.
    if (kind !== 'text' && size === 0 && !po.symbols.some((s) => s.defined?.section === kind)) continue;
    sectionIndex.set(
      kind,
      writer.addSection(
        typeof content === 'number'
          ? { name: PO_SECTION_NAMES[kind], type: SHT_NOBITS, flags: SECTION_FLAGS[kind], addralign: PO_SECTION_ALIGN[kind], size: content }
          : { name: PO_SECTION_NAMES[kind], type: kind === 'ehFrame' ? SHT_X86_64_UNWIND : SHT_PROGBITS, flags: SECTION_FLAGS[kind], addralign: PO_SECTION_ALIGN[kind], data: content },
      ),
    );
  }

  // Unsafe functions without a symbol of their own get an undefined one (name + file + value).
  const symbols = [...po.symbols];
  const unsafeSymbol = po.unsafe.map((u) => {
    const existing = symbols.findIndex(
      (s) => s.target?.value === u.address && s.name === u.name && (s.file ?? undefined) === (u.file ?? undefined),
    );
    if (existing >= 0) return existing;
    symbols.push({
      name: u.name,
      type: 'func',
      bind: u.file === undefined ? 'global' : 'local',
      ...(u.file === undefined ? {} : { file: u.file }),
      size: u.size,
      target: { value: u.address },
    });
    return symbols.length - 1;
  });

  const refs = addSymbols(writer, symbols, sectionIndex);

  for (const [kind, index] of sectionIndex) {
    const relocs = po.relocations.filter((r) => r.section === kind);
    if (relocs.length === 0) continue;
    writer.addRelocations(
      index,
      relocs.map((r) => ({ offset: BigInt(r.offset), type: r.type, symbol: refAt(refs, r.symbol), addend: r.addend })),
    );
  }

  addDebugInfo(writer, po, sectionIndex.get('text')!, refs);

  writer.addSection({
    name: UNSAFE_SECTION,
    type: SHT_KATANA_UNSAFE,
    flags: 0n,
    addralign: 8,
    entsize: UNSAFE_ENTRY_SIZE,
    data: () => {
      const out = new Uint8Array(po.unsafe.length * UNSAFE_ENTRY_SIZE);
      const view = new DataView(out.buffer);
      po.unsafe.forEach((u, i) => {
        const at = i * UNSAFE_ENTRY_SIZE;
        view.setUint32(at, writer.symbolIndex(refAt(refs, unsafeSymbol[i]!)), true);
        view.setUint32(at + 4, u.redirectTo === undefined ? 0 : writer.symbolIndex(refAt(refs, u.redirectTo)), true);
        view.setBigUint64(at + 8, u.address, true);
        view.setBigUint64(at + 16, BigInt(u.size), true);
      });
      return out;
    },
  });

  writer.addSection({
    name: NOTE_SECTION,
    type: SHT_NOTE,
    flags: 0n,
    addralign: 4,
    data: () => {
      const version = new Uint8Array(4);
      new DataView(version.buffer).setUint32(0, PO_FORMAT_VERSION, true);
      const valued = symbols.flatMap((s, i) => (s.target?.value === undefined ? [] : [[i, s.target.value] as const]));
      const values = new Uint8Array(valued.length * SYMBOL_VALUE_ENTRY_SIZE);
      const view = new DataView(values.buffer);
      valued.forEach(([i, value], n) => {
        view.setUint32(n * SYMBOL_VALUE_ENTRY_SIZE, writer.symbolIndex(refAt(refs, i)), true);
        view.setBigUint64(n * SYMBOL_VALUE_ENTRY_SIZE + 8, value, true);
      });
      return concatBytes([
        encodeNote(KATANA_NOTE_NAME, NT_KATANA_VERSION, version),
        encodeNote(KATANA_NOTE_NAME, NT_KATANA_BUILD_ID, hexToBytes(po.targetBuildId)),
        encodeNote(KATANA_NOTE_NAME, NT_KATANA_TARGET_NAME, new TextEncoder().encode(`${po.targetName}\0`)),
        encodeNote(KATANA_NOTE_NAME, NT_KATANA_SYMBOL_VALUES, values),
        encodeNote(KATANA_NOTE_NAME, NT_KATANA_BASE, concatBytes((po.basePatches ?? []).map(patchIdBytes))),
      ]);
    },
  });

  return writer.write();
}

/**
 * Adds .debug_abbrev and .debug_info (a compile unit per source file: functions, transformed types
 * and variables) with their relocations, and, when the patch transforms data, .debug_frame (one FDE
 * per transformed type, one more per reverse program) with its own.
 */
function addDebugInfo(writer: RelocatableWriter, po: PatchObject, textIndex: number, refs: SymbolRef[]): void {
  const types = po.types ?? [];
  const frame = encodeDebugFrame(types);
  const encoded = encodeDebugInfo(
    po.functions.map((f) => {
      const symbol = po.symbols[f.symbol]!;
      return { name: f.name, file: f.file, external: symbol.bind !== 'local', offset: symbol.defined?.offset ?? 0, size: f.size };
    }),
    'katana',
    {
      types,
      fdeOffsets: frame.fdeOffsets,
      rollbackFdeOffsets: frame.rollbackFdeOffsets,
      variables: (po.dataTransforms ?? []).map((d) => ({
        name: d.variable,
        file: d.file,
        external: po.symbols[d.newSymbol]?.bind !== 'local',
        type: d.type,
        ...(d.elements === undefined ? {} : { elements: d.elements }),
        newSymbol: d.newSymbol,
        oldSymbol: d.oldSymbol,
        ...(d.pointer ? { pointer: true } : {}),
        ...(d.stage === undefined ? {} : { stage: d.stage }),
      })),
    },
  );
  const abbrevIndex = writer.addSection({ name: '.debug_abbrev', type: SHT_PROGBITS, flags: 0n, addralign: 1, data: encoded.abbrev });
  const infoIndex = writer.addSection({ name: '.debug_info', type: SHT_PROGBITS, flags: 0n, addralign: 1, data: encoded.info });
  const text = writer.addSectionSymbol(textIndex);
  const abbrev = writer.addSectionSymbol(abbrevIndex);
  const frameIndex = types.length === 0
    ? undefined
    : writer.addSection({ name: '.debug_frame', type: SHT_PROGBITS, flags: 0n, addralign: 8, data: frame.bytes });
  const frameSymbol = frameIndex === undefined ? undefined : writer.addSectionSymbol(frameIndex);
  writer.addRelocations(infoIndex, [
    ...encoded.abbrevOffsets.map((at) => ({ offset: BigInt(at), type: R_X86_64_32, symbol: abbrev, addend: 0n })),
    ...encoded.lowPcs.map((l) => ({ offset: BigInt(l.at), type: R_X86_64_64, symbol: text, addend: BigInt(l.textOffset) })),
    ...encoded.fdes.map((f) => ({ offset: BigInt(f.at), type: R_X86_64_32, symbol: frameSymbol!, addend: BigInt(f.fdeOffset) })),
    ...encoded.addresses.map((a) => ({ offset: BigInt(a.at), type: R_X86_64_64, symbol: refAt(refs, a.symbol), addend: 0n })),
  ]);
  if (frameIndex !== undefined && frameSymbol !== undefined) {
    writer.addRelocations(
      frameIndex,
      frame.ciePointers.map((p) => ({ offset: BigInt(p.at), type: R_X86_64_32, symbol: frameSymbol, addend: BigInt(p.cie) })),
    );
  }
}

/**
 * Adds the symbols in ELF order: locals without a file, then each file's locals after its
 * STT_FILE symbol, then globals (the writer keeps globals last whatever the call order).
 */
function addSymbols(writer: RelocatableWriter, symbols: PoSymbol[], sectionIndex: Map<PoSectionKind, number>): SymbolRef[] {
  const refs: SymbolRef[] = new Array(symbols.length);
  const add = (i: number) => {
    const s = symbols[i]!;
    if (s.type === 'section') {
      const index = s.defined && sectionIndex.get(s.defined.section);
      if (index === undefined) throw new RangeError(`section symbol ${s.name} names no PO section`);
      refs[i] = writer.addSectionSymbol(index);
      return;
    }
    const shndx = s.defined ? sectionIndex.get(s.defined.section) : SHN_UNDEF;
    if (shndx === undefined) throw new RangeError(`symbol ${s.name} is defined in an absent section`);
    refs[i] = writer.addSymbol({
      name: s.name,
      value: BigInt(s.defined?.offset ?? 0),
      size: s.size,
      type: ELF_TYPE[s.type],
      bind: ELF_BIND[s.bind],
      shndx,
    });
  };
  const order = symbols.map((_, i) => i);
  const isLocal = (i: number) => symbols[i]!.bind === 'local';
  for (const i of order) if (isLocal(i) && symbols[i]!.file === undefined) add(i);
  const files = [...new Set(order.filter(isLocal).map((i) => symbols[i]!.file).filter((f): f is string => f !== undefined))];
  for (const file of files) {
    writer.addFileSymbol(file);
    for (const i of order) if (isLocal(i) && symbols[i]!.file === file) add(i);
  }
  for (const i of order) if (!isLocal(i)) add(i);
  return refs;
}

function refAt(refs: SymbolRef[], index: number): SymbolRef {
  const ref = refs[index];
  if (ref === undefined) throw new RangeError(`relocation or entry names symbol ${index}, which does not exist`);
  return ref;
}

function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})+$/.test(hex)) throw new RangeError(`build-id '${hex}' is not lowercase hex`);
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

function patchIdBytes(id: string): Uint8Array {
  if (!new RegExp(`^[0-9a-f]{${PATCH_ID_SIZE * 2}}$`).test(id)) throw new RangeError(`base patch id '${id}' is not ${PATCH_ID_SIZE * 2} lowercase hex digits`);
  return hexToBytes(id);
}

