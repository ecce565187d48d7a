// Reads the data-patching part of a PO back into the model: every DW_TAG_structure_type with a
// DW_AT_MIPS_fde becomes a TransformedType (its FDE's instructions decoded into rows), every
// DW_TAG_variable with a DW_AT_KATANA_old_location a DataTransform whose old and new storage are
// the symbols the relocations of its two DW_OP_addr operands name.
import { type ElfFile } from '@katana/elf';
import {
  attr, DW_AT_byte_size, DW_AT_KATANA_old_byte_size, DW_TAG_member, DW_AT_KATANA_old_location, DW_AT_location, FrameSection, sizeOf,
  type DwarfInfo, type DwarfType,
} from '@katana/dwarf';
import type { DataTransform, PoSymbol, TransformedMember, TransformedType } from './model.js';
import { decodeTransformProgram } from './transform-program.js';

/** Rebuilds `types` and `dataTransforms`; `symbolAt` maps an ELF symbol index to the model's, `fail` reports a PoFormatError. */
export function readDataTransforms(
  elf: ElfFile,
  info: DwarfInfo,
  symbols: PoSymbol[],
  symbolAt: (elfIndex: number, what: string) => number,
  fail: (detail: string) => never,
): { types: TransformedType[]; dataTransforms: DataTransform[] } {
  const infoSection = elf.section('.debug_info');
  const relocated = new Map<number, number>();
  if (infoSection) for (const r of elf.relocationsFor(infoSection)) relocated.set(Number(r.offset), r.symbolIndex);
  const frameSection = elf.section('.debug_frame');
  const frame = frameSection ? FrameSection.parse('.debug_frame', frameSection.data(), { section: 0n }) : undefined;

  const types: TransformedType[] = [];
  const typeIndex = new Map<DwarfType, number>();
  for (const unit of info.units) {
    // An anonymous transformed struct is named by the typedef that follows it ('stats_t').
    const typedefs = new Map<DwarfType, string>();
    for (const t of unit.types) if (t.kind === 'typedef' && t.type && t.name !== undefined) typedefs.set(t.type, t.name);
    for (const type of unit.types) {
      if (type.kind !== 'structure' || type.fde === undefined) continue;
      const die = info.dieAt(type.offset)!;
      const name = type.name !== undefined ? `struct ${type.name}` : typedefs.get(type) ?? 'struct <anonymous>';
      const newSize = type.byteSize ?? fail(`transformed type ${name} has no byte size`);
      const oldSize = constant(die, DW_AT_KATANA_old_byte_size) ?? fail(`transformed type ${name} has no old byte size`);
      const fde = frame?.fdes.find((f) => f.offset === type.fde) ?? fail(`DW_AT_MIPS_fde of ${name} names no FDE of .debug_frame`);
      if (fde.end - fde.start !== BigInt(newSize)) fail(`the FDE of ${name} covers ${fde.end - fde.start} bytes, not its ${newSize}`);
      const rows = decodeTransformProgram(frame!.bytes.subarray(fde.instructionsStart, fde.instructionsEnd), newSize);
      if (typeof rows === 'string') fail(`the transformation of ${name}: ${rows}`);
      const members: TransformedMember[] = type.members.map((m, i) => {
        const memberDie = die.children.filter((c) => c.tag === DW_TAG_member)[i]!;
        const base = m.type?.kind === 'base' ? { name: m.type.name ?? '', encoding: m.type.encoding } : undefined;
        return { name: m.name ?? '', offset: m.offset ?? 0, size: constant(memberDie, DW_AT_byte_size) ?? sizeOf(m.type) ?? 0, ...(base ? { base } : {}) };
      });
      typeIndex.set(type, types.length);
      types.push({ name, file: unit.name ?? '', oldSize, newSize, members, rows: rows as TransformedType['rows'] });
    }
  }

  const dataTransforms: DataTransform[] = [];
  for (const v of info.variables) {
    const die = info.dieAt(v.offset)!;
    const old = attr(die, DW_AT_KATANA_old_location);
    if (!old) continue;
    const symbolOf = (a: typeof old, what: string): number => {
      // exprloc: a one-byte length, DW_OP_addr, then the relocated 8-byte operand.
      const elfIndex = relocated.get(a.offset + 2) ?? fail(`the ${what} of variable ${v.name} has no relocation`);
      return symbolAt(elfIndex, `the ${what} of variable ${v.name}`);
    };
    const newSymbol = symbolOf(attr(die, DW_AT_location) ?? fail(`transformed variable ${v.name} has no DW_AT_location`), 'location');
    const oldSymbol = symbolOf(old, 'old location');
    const named = v.type?.kind === 'array' ? v.type.type : v.type;
    const element = named?.kind === 'typedef' ? named.type : named;
    const type = (element && typeIndex.get(element)) ?? fail(`transformed variable ${v.name} is not of a transformed type`);
    const elements = v.type?.kind === 'array' ? v.type.dimensions[0]?.count ?? fail(`array ${v.name} has no element count`) : undefined;
    const oldSize = symbols[oldSymbol]!.size;
    const t = types[type]!;
    const count = elements === undefined ? 1 : Math.min(elements, Math.floor(oldSize / t.oldSize));
    if (symbols[newSymbol]!.defined === undefined) fail(`the new storage of ${v.name} is not in the patch`);
    if (symbols[oldSymbol]!.target === undefined) fail(`the old storage of ${v.name} is not in the target`);
    dataTransforms.push({ variable: v.name, file: v.unit.name ?? '', type, oldSymbol, newSymbol, ...(elements === undefined ? {} : { elements }), count });
  }
  return { types, dataTransforms };
}

function constant(die: Parameters<typeof attr>[0], name: number): number | undefined {
  const a = attr(die, name);
  return a?.value.class === 'constant' ? Number(a.value.value) : undefined;
}
