// The x86-64 relocation types a Patch Object may carry, and how many bytes each one patches
// (System V x86-64 psABI, Table "Relocation Types"). Anything else is refused when a PO is read.
import {
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_GOTPCREL,
  R_X86_64_GOTPCRELX,
  R_X86_64_GOTTPOFF,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PLT32,
  R_X86_64_REX_GOTPCRELX,
  R_X86_64_TPOFF32,
} from '@katana/elf';

const WIDTH = new Map<number, number>([
  [R_X86_64_64, 8],
  [R_X86_64_PC64, 8],
  [R_X86_64_PC32, 4],
  [R_X86_64_PLT32, 4],
  [R_X86_64_32, 4],
  [R_X86_64_32S, 4],
  [R_X86_64_GOTPCREL, 4],
  [R_X86_64_GOTPCRELX, 4],
  [R_X86_64_REX_GOTPCRELX, 4],
  [R_X86_64_GOTTPOFF, 4],
  [R_X86_64_TPOFF32, 4],
]);

/** Bytes patched by a relocation of this type, or undefined when a PO may not carry it. */
export function relocationWidth(type: number): number | undefined {
  return WIDTH.get(type);
}
