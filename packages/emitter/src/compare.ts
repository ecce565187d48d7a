// Deciding whether a function changed (kpatch's "compare"). Two versions are equal when their bytes
// are equal once every relocation site is masked, and their relocations match one for one: same
// type, same offset in the function, and a target that is "the same thing" (see referenceKey). The
// key of a target ignores where the linker or assembler placed it: a string literal is its bytes
// (`"hello %s\n"` wherever it sits in .rodata.str1.1), a static local is its correlated name
// (`count.1` in NEW is keyed `count.0` when it correlates to OLD's `count.0`), a read-only table is its
// base name plus its contents, so editing a table changes every function reading it.
import {
  type ElfSymbol, type Relocation, SHF_STRINGS, STB_LOCAL, R_X86_64_16, R_X86_64_64, R_X86_64_8, R_X86_64_DTPMOD64,
  R_X86_64_DTPOFF64, R_X86_64_GOTOFF64, R_X86_64_PC16, R_X86_64_PC64, R_X86_64_PC8, R_X86_64_SIZE64, R_X86_64_TPOFF64,
} from '@katana/elf';
import type { Correlation } from './correlate.js';
import { isFunction, isInSection, type ObjectModel } from './objects.js';
import { pieceOf, type Reference, resolveReference } from './reference.js';

/** Width in bytes of the field a relocation type patches; every type not listed patches 4. */
const WIDTH = new Map<number, number>([
  [R_X86_64_64, 8], [R_X86_64_PC64, 8], [R_X86_64_GOTOFF64, 8], [R_X86_64_SIZE64, 8], [R_X86_64_DTPMOD64, 8],
  [R_X86_64_DTPOFF64, 8], [R_X86_64_TPOFF64, 8], [R_X86_64_16, 2], [R_X86_64_PC16, 2], [R_X86_64_8, 1], [R_X86_64_PC8, 1],
]);

/** Bytes of the field relocation type `type` patches. */
export function relocationSize(type: number): number {
  return WIDTH.get(type) ?? 4;
}

/** One side of a comparison: an object and which side of the correlation it is. */
export interface Side {
  model: ObjectModel;
  side: 'old' | 'new';
  correlation: Correlation;
}

/** True when function `oldFn` of OLD and `newFn` of NEW compile to the same code. */
export function functionsEqual(oldSide: Side, oldFn: ElfSymbol, newSide: Side, newFn: ElfSymbol): boolean {
  return oldFn.size === newFn.size && contentKey(oldSide, oldFn, 0) === contentKey(newSide, newFn, 0);
}

/**
 * The masked bytes of a function or variable followed by the key of each relocation inside it.
 * `depth` bounds the recursion through tables that point at tables (and at themselves).
 */
export function contentKey(side: Side, symbol: ElfSymbol, depth: number): string {
  const bytes = side.model.bytesOf(symbol);
  const relocations = side.model.relocationsOf(symbol);
  const code = isFunction(symbol) ? symbol : undefined;
  return rangeKey(side, bytes, Number(symbol.value), relocations, code, depth);
}

function rangeKey(side: Side, bytes: Uint8Array, start: number, relocations: Relocation[], code: ElfSymbol | undefined, depth: number): string {
  const masked = Uint8Array.from(bytes);
  const keys: string[] = [];
  for (const r of relocations) {
    const at = Number(r.offset) - start;
    masked.fill(0, at, Math.min(masked.length, at + relocationSize(r.type)));
    const target = depth > 1 ? '…' : referenceKey(side, resolveReference(side.model, r, code), depth + 1);
    keys.push(`${r.type}@${at}:${target}`);
  }
  return `${hex(masked)}|${keys.join(',')}`;
}

/** A string that is equal for two references to "the same thing" in OLD and NEW. */
export function referenceKey(side: Side, ref: Reference, depth: number): string {
  const { model } = side;
  switch (ref.kind) {
    case 'merged': {
      const data = ref.section.data();
      if ((ref.section.flags & SHF_STRINGS) !== 0n) {
        const end = data.indexOf(0, ref.offset);
        return `string:${hex(data.subarray(ref.offset, end < 0 ? data.length : end))}`;
      }
      const size = Math.max(ref.section.entsize, 1);
      const entry = ref.offset - (ref.offset % size);
      return `constant:${hex(data.subarray(entry, entry + size))}+${ref.offset % size}`;
    }
    case 'anonymous': {
      const [start, end] = pieceOf(model, ref.section, ref.offset);
      const relocations = model.relocationsIn(ref.section.index, start, end);
      const bytes = ref.section.data().subarray(start, end);
      return `anonymous:${rangeKey(side, bytes, start, relocations, undefined, depth)}+${ref.offset - start}`;
    }
    case 'symbol': {
      const s = ref.symbol;
      if (!isFunction(s) && isInSection(s) && model.isReadOnly(s)) {
        return `const ${s.name.replace(/\.\d+$/, '')}:${contentKey(side, s, depth)}+${ref.addend}`;
      }
      if (s.bind !== STB_LOCAL) return `${s.name}+${ref.addend}`;
      return `local ${side.correlation.identity(side.side, s)}+${ref.addend}`;
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
