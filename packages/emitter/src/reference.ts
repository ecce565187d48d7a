// What a relocation points at, independent of where the linker or the assembler put it. Three kinds:
// a named symbol (a global, an external, or a named local such as `helper` or `count.0`, even when gas
// wrote "section symbol + addend"), a piece of a SHF_MERGE section (a string literal or a .rodata.cst*
// constant, identified by its bytes), or an anonymous section (a jump table in `.rodata.jt`).
// Example: `lea .LC3-4(%rip)` with .LC3 at 0xa of .rodata.str1.1 is {merged, offset 0xa, addend 0x6}.
import {
  type ElfSymbol, type Relocation, type Section, R_X86_64_GOTPC32, R_X86_64_GOTPC32_TLSDESC, R_X86_64_GOTPCREL,
  R_X86_64_GOTPCRELX, R_X86_64_GOTTPOFF, R_X86_64_PC16, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PC8,
  R_X86_64_PLT32, R_X86_64_REX_GOTPCRELX, R_X86_64_TLSGD, R_X86_64_TLSLD, SHF_ALLOC, SHF_MERGE, STB_LOCAL, STT_SECTION,
} from '@katana/elf';
import { isInSection, isNamedEntity, type ObjectModel } from './objects.js';

/** The target of one relocation. */
export type Reference =
  /** A symbol by name; `addend` is relative to the symbol. */
  | { kind: 'symbol'; symbol: ElfSymbol; addend: bigint }
  /** Bytes of a SHF_MERGE section: `offset` is the byte referenced, `addend` is relative to the section. */
  | { kind: 'merged'; section: Section; offset: number; addend: bigint }
  /** A section holding no named symbol: `offset` is the byte referenced, `addend` is relative to the section. */
  | { kind: 'anonymous'; section: Section; offset: number; addend: bigint };

const PC_RELATIVE = new Set([
  R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX,
  R_X86_64_GOTTPOFF, R_X86_64_TLSGD, R_X86_64_TLSLD, R_X86_64_GOTPC32_TLSDESC, R_X86_64_GOTPC32,
  R_X86_64_PC64, R_X86_64_PC16, R_X86_64_PC8,
]);

/**
 * Resolves relocation `r` of `model`. `fn` is the function holding it (for code; PC-relative
 * addends are then corrected to the end of the instruction), undefined for data.
 */
export function resolveReference(model: ObjectModel, r: Relocation, fn?: ElfSymbol): Reference {
  const symbol = model.symbols[r.symbolIndex]!;
  const named = symbol.type !== STT_SECTION && !symbol.name.startsWith('.L');
  if (!isInSection(symbol) || symbol.bind !== STB_LOCAL || (named && isNamedEntity(symbol))) {
    return { kind: 'symbol', symbol, addend: r.addend };
  }
  const section = model.section(symbol.shndx);
  const base = symbol.value + r.addend;
  const referenced = Number(base) + pcAdjust(model, r, fn);
  if ((section.flags & SHF_MERGE) !== 0n) return { kind: 'merged', section, offset: referenced, addend: base };
  const entity = model.entityAt(section.index, referenced);
  if (entity) return { kind: 'symbol', symbol: entity, addend: base - entity.value };
  return { kind: 'anonymous', section, offset: referenced, addend: base };
}

const pieceCache = new WeakMap<ObjectModel, Map<number, number[]>>();

/**
 * The piece of anonymous section `section` holding `offset`, as [start, end). gcc -O0 puts every
 * string and constant of a file into one plain .rodata; each offset some relocation of the object
 * refers to starts a piece, so `puts("bye")` is keyed by "bye\0" rather than by all of .rodata.
 */
export function pieceOf(model: ObjectModel, section: Section, offset: number): [number, number] {
  let starts = pieceCache.get(model);
  if (!starts) {
    starts = new Map();
    for (const holder of model.object.elf.sections) {
      if ((holder.flags & SHF_ALLOC) === 0n) continue;
      for (const r of model.relocationsIn(holder.index, 0, holder.size)) {
        const fn = model.isCode(holder.index) ? model.entityAt(holder.index, Number(r.offset)) : undefined;
        const ref = resolveReference(model, r, fn);
        if (ref.kind !== 'anonymous') continue;
        starts.set(ref.section.index, [...(starts.get(ref.section.index) ?? []), ref.offset]);
      }
    }
    for (const list of starts.values()) list.sort((a, b) => a - b);
    pieceCache.set(model, starts);
  }
  const list = starts.get(section.index) ?? [];
  let start = 0;
  let end = section.size;
  for (const s of list) {
    if (s <= offset) start = s;
    else if (s < end) {
      end = s;
      break;
    }
  }
  return [start, end];
}

/** How far past the relocation site the CPU's PC is when the instruction runs (0 for absolute ones). */
function pcAdjust(model: ObjectModel, r: Relocation, fn?: ElfSymbol): number {
  if (!fn || !PC_RELATIVE.has(r.type)) return 0;
  const offset = Number(r.offset);
  const end = model.instructionEnd(fn, offset);
  return end === undefined ? 4 : end - offset;
}
