// The PLT entry that jumps through a given GOT slot (x86-64 psABI "Procedure Linkage Table"). Every
// flavour of entry jumps with `jmp *rel32(%rip)` (ff 25 rel32), possibly behind a bnd prefix (f2)
// and an endbr64 (f3 0f 1e fa): lazy .plt entries (jmp first), .plt.sec and .plt.got (endbr64; bnd
// jmp with IBT), and the 8-byte `jmp; xchg %ax,%ax` entries ld writes into .plt for the IFUNC calls
// of a static executable. The entry is found by its code, not by assuming a layout: the jmp whose
// rel32 lands on the slot, backed up over the prefixes that belong to it.
import type { ElfFile } from './read.js';

const PLT_SECTIONS = ['.plt.sec', '.plt', '.plt.got', '.iplt'];
const ENDBR64 = [0xf3, 0x0f, 0x1e, 0xfa];
const BND = 0xf2;

/** The link-time address of the PLT entry of `elf` whose `jmp *rel32(%rip)` reads the GOT slot at `slot`, if any. */
export function pltEntry(elf: ElfFile, slot: bigint): bigint | undefined {
  for (const name of PLT_SECTIONS) {
    const plt = elf.section(name);
    if (plt === undefined || plt.size === 0) continue;
    const code = plt.data();
    const view = new DataView(code.buffer, code.byteOffset, code.length);
    for (let at = 0; at + 6 <= code.length; at++) {
      if (code[at] !== 0xff || code[at + 1] !== 0x25) continue;
      if (plt.addr + BigInt(at + 6 + view.getInt32(at + 2, true)) !== slot) continue;
      let start = at;
      if (start >= 1 && code[start - 1] === BND) start--;
      if (start >= 4 && ENDBR64.every((b, i) => code[start - 4 + i] === b)) start -= 4;
      return plt.addr + BigInt(start);
    }
  }
  return undefined;
}
