// Reads the data-patching part of a PO back into the model: every DW_TAG_structure_type or
// DW_TAG_union_type with a DW_AT_MIPS_fde becomes a TransformedType (its FDE's instructions decoded
// into rows; a follow row's register numbers a type of the same unit; likewise the reverse program
// of DW_AT_KATANA_rollback_fde, and DW_AT_KATANA_dropped_on_rollback's member paths), every DW_TAG_variable with a
// DW_AT_KATANA_old_location a DataTransform whose old and new storage are the symbols the
// relocations of its two DW_OP_addr operands name (the same symbol: updated in place). A composed
// patch's DW_AT_KATANA_stage gives types and variables their stage; a variable, and a follow row,
// must name a type of its own stage.
import { type ElfFile } from '@katana/elf';
import {
  attr, DW_AT_byte_size, DW_AT_KATANA_dropped_on_rollback, DW_AT_KATANA_old_byte_size, DW_AT_KATANA_rollback_fde, DW_AT_KATANA_stage, DW_AT_KATANA_transformer, DW_TAG_member,
  DW_AT_KATANA_old_location, DW_AT_location, FrameSection, sizeOf, type DwarfInfo, type DwarfType,
} from '@katana/dwarf';
import type { DataTransform, PoSymbol, TransformedType, TransformRow } from './model.js';
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
  const dwarfTypes: (DwarfType & { kind: 'structure' | 'union' | 'class' })[] = [];
  const unitTypes: number[][] = [];
  for (const unit of info.units) {
    const own: number[] = [];
    unitTypes.push(own);
    // An anonymous transformed struct is named by the typedef that follows it ('stats_t').
    const typedefs = new Map<DwarfType, string>();
    for (const t of unit.types) if (t.kind === 'typedef' && t.type && t.name !== undefined) typedefs.set(t.type, t.name);
    for (const type of unit.types) {
      if ((type.kind !== 'structure' && type.kind !== 'union') || type.fde === undefined) continue;
      typeIndex.set(type, types.length);
      dwarfTypes.push(type);
      own.push(types.length);
      const kind = type.kind === 'union' ? 'union' : 'struct';
      const name = type.name !== undefined ? `${kind} ${type.name}` : typedefs.get(type) ?? `${kind} <anonymous>`;
      const stage = constant(info.dieAt(type.offset)!, DW_AT_KATANA_stage) ?? 0;
      types.push({ name, file: unit.name ?? '', oldSize: 0, newSize: 0, members: [], rows: [], ...(stage > 0 ? { stage } : {}) });
    }
  }
  info.units.forEach((unit, u) => {
    for (const index of unitTypes[u]!) {
      const type = dwarfTypes[index]!;
      const t = types[index]!;
      const die = info.dieAt(type.offset)!;
      t.newSize = type.byteSize ?? fail(`transformed type ${t.name} has no byte size`);
      t.oldSize = constant(die, DW_AT_KATANA_old_byte_size) ?? fail(`transformed type ${t.name} has no old byte size`);
      const stage = t.stage ?? 0;
      // A program: the FDE at `offset`, covering one object of `size` bytes; follow rows name types of this unit.
      const program = (offset: number, size: number, what: string): TransformRow[] => {
        const fde = frame?.fdes.find((f) => f.offset === offset) ?? fail(`the ${what} of ${t.name} names no FDE of .debug_frame`);
        if (fde.end - fde.start !== BigInt(size)) fail(`the ${what} FDE of ${t.name} covers ${fde.end - fde.start} bytes, not its ${size}`);
        const rows = decodeTransformProgram(frame!.bytes.subarray(fde.instructionsStart, fde.instructionsEnd), size);
        if (typeof rows === 'string') fail(`the ${what} of ${t.name}: ${rows}`);
        return rows.map((r) => {
          if (r.rule.kind !== 'follow') return r;
          const target = unitTypes[u]![r.rule.type] ?? fail(`the ${what} of ${t.name} follows a pointer to type ${r.rule.type} of ${unit.name}, which has ${unitTypes[u]!.length}`);
          const targetStage = types[target]!.stage ?? 0;
          if (targetStage !== stage) fail(`the ${what} of ${t.name} (stage ${stage}) follows a pointer to ${types[target]!.name} of stage ${targetStage}`);
          return { ...r, rule: { ...r.rule, type: target } };
        });
      };
      t.rows = program(type.fde!, t.newSize, 'transformation');
      const rollback = attr(die, DW_AT_KATANA_rollback_fde);
      if (rollback) {
        if (rollback.value.class !== 'sec_offset') fail(`DW_AT_KATANA_rollback_fde of ${t.name} is not a section offset`);
        t.rollbackRows = program(Number(rollback.value.value), t.oldSize, 'reverse transformation');
      }
      const dropped = attr(die, DW_AT_KATANA_dropped_on_rollback);
      if (dropped) {
        if (dropped.value.class !== 'string' || !rollback) fail(`DW_AT_KATANA_dropped_on_rollback of ${t.name} is not a string beside a reverse transformation`);
        t.droppedOnRollback = dropped.value.value.split(' ');
      }
      const memberDies = die.children.filter((c) => c.tag === DW_TAG_member);
      t.members = type.members.map((m, i) => {
        const base = m.type?.kind === 'base' ? { base: { name: m.type.name ?? '', encoding: m.type.encoding } } : {};
        const target = m.type?.kind === 'pointer' ? withoutTypedef(m.type.type) : undefined;
        const pointee = target ? typeIndex.get(target) : undefined;
        return {
          name: m.name ?? '', offset: m.offset ?? 0, size: constant(memberDies[i]!, DW_AT_byte_size) ?? sizeOf(m.type) ?? 0,
          ...base, ...(pointee === undefined ? {} : { pointsTo: pointee }),
        };
      });
      const transformer = attr(die, DW_AT_KATANA_transformer);
      if (transformer) {
        const elfIndex = relocated.get(transformer.offset) ?? fail(`the transformer of ${t.name} has no relocation`);
        t.transformer = symbolAt(elfIndex, `the transformer of ${t.name}`);
      }
    }
  });

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
    const element = v.type?.kind === 'array' ? v.type.type : v.type;
    const pointer = element?.kind === 'pointer';
    const pointee = withoutTypedef(pointer ? element.type : element);
    const type = (pointee && typeIndex.get(pointee)) ?? fail(`transformed variable ${v.name} is not of a transformed type or a pointer to one`);
    const stage = constant(die, DW_AT_KATANA_stage) ?? 0;
    if (stage !== (types[type]!.stage ?? 0)) fail(`transformed variable ${v.name} (stage ${stage}) is of ${types[type]!.name} of stage ${types[type]!.stage ?? 0}`);
    const elements = v.type?.kind === 'array' ? v.type.dimensions[0]?.count ?? fail(`array ${v.name} has no element count`) : undefined;
    const oldSize = symbols[oldSymbol]!.size;
    const t = types[type]!;
    const inPlace = newSymbol === oldSymbol;
    const objectSize = pointer ? 8 : t.oldSize;
    const count = elements === undefined ? 1 : Math.min(elements, Math.floor(oldSize / objectSize));
    if (!inPlace && symbols[newSymbol]!.defined === undefined) fail(`the new storage of ${v.name} is not in the patch`);
    // A later stage of a composed patch reads what an earlier one wrote, in the patch.
    if (symbols[oldSymbol]!.target === undefined && (stage === 0 || symbols[oldSymbol]!.defined === undefined)) {
      fail(`the old storage of ${v.name} is not in the target${stage === 0 ? '' : ' nor in the patch'}`);
    }
    if (pointer && !inPlace) fail(`pointer variable ${v.name} must be updated in place`);
    if (inPlace && !pointer && t.oldSize !== t.newSize) fail(`variable ${v.name} is updated in place but its type ${t.name} changes size`);
    dataTransforms.push({
      variable: v.name, file: v.unit.name ?? '', type, oldSymbol, newSymbol, ...(elements === undefined ? {} : { elements }), count,
      ...(inPlace ? { inPlace: true } : {}), ...(pointer ? { pointer: true } : {}), ...(stage > 0 ? { stage } : {}),
    });
  }
  return { types, dataTransforms };
}

function constant(die: Parameters<typeof attr>[0], name: number): number | undefined {
  const a = attr(die, name);
  return a?.value.class === 'constant' ? Number(a.value.value) : undefined;
}

/** A typedef's type (the anonymous struct `typedef struct { ... } stats_t` names). */
function withoutTypedef(t: DwarfType | undefined): DwarfType | undefined {
  return t?.kind === 'typedef' ? t.type : t;
}
