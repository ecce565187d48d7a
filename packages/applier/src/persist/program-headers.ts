// Program headers of an executable, as raw ELF64 records (gABI "Program Header", 56 bytes each), and
// the ELF header fields a new table needs: apply --file writes a whole new table elsewhere in the file
// and points e_phoff at it, rather than squeezing entries into the old one (which has no room).
import type { Segment } from '@katana/elf';

/** Bytes of one Elf64_Phdr. */
export const PHDR_SIZE = 56;
/** Offsets in the Elf64_Ehdr. */
const E_PHOFF = 32;
const E_PHENTSIZE = 54;
const E_PHNUM = 56;

/** Encodes `segments` as a program header table. */
export function encodeProgramHeaders(segments: readonly Segment[]): Uint8Array {
  const out = new Uint8Array(segments.length * PHDR_SIZE);
  const view = new DataView(out.buffer);
  segments.forEach((s, i) => {
    const at = i * PHDR_SIZE;
    view.setUint32(at, s.type, true);
    view.setUint32(at + 4, s.flags, true);
    view.setBigUint64(at + 8, BigInt(s.offset), true);
    view.setBigUint64(at + 16, s.vaddr, true);
    view.setBigUint64(at + 24, s.paddr, true);
    view.setBigUint64(at + 32, BigInt(s.filesz), true);
    view.setBigUint64(at + 40, BigInt(s.memsz), true);
    view.setBigUint64(at + 48, BigInt(s.align), true);
  });
  return out;
}

/** Points the ELF header in `file` at a table of `count` program headers at file offset `offset`. */
export function setProgramHeaderTable(file: Uint8Array, offset: number, count: number): void {
  const view = new DataView(file.buffer, file.byteOffset, file.length);
  view.setBigUint64(E_PHOFF, BigInt(offset), true);
  view.setUint16(E_PHENTSIZE, PHDR_SIZE, true);
  view.setUint16(E_PHNUM, count, true);
}
