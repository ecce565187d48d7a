// Where the new file region of `apply --file` goes, in the file and in memory. Its first page holds
// the new program header table, so the kernel's AT_PHDR must find it: kernels before 5.18 compute
// AT_PHDR as (first PT_LOAD's vaddr − offset) + e_phoff, later ones from the PT_LOAD holding
// e_phoff; both agree when the region's vaddr − offset equals the first PT_LOAD's.
// - ET_EXEC: just below the lowest PT_LOAD (0x400000 leaves ~4 MiB above mmap_min_addr): within rel32
//   reach of all code, under 4 GiB for the R_X86_64_32 addresses of -fno-pie code, away from the heap
//   that starts past .bss. Its own header segment becomes the first PT_LOAD, so the offset is the
//   file's end (page-aligned) and the address is free.
// - PIE: the lowest PT_LOAD is at 0, so the region goes just above the image's end (past .bss; brk
//   then starts past the region). The old first PT_LOAD stays first, so the region's offset is
//   padded until vaddr − offset matches it (the file grows by the .bss and alignment gaps).
import { PT_LOAD, type Segment } from '@katana/elf';
import { MIN_MAP_ADDRESS } from '../choose-range.js';
import { PAGE_SIZE } from '../plan.js';
import { PersistError } from './errors.js';

const PAGE = BigInt(PAGE_SIZE);

/** The region's place: its file offset and address (both page-aligned), and where its PT_LOADs go in the table. */
export interface RegionPlace {
  offset: number;
  vaddr: bigint;
  /** Index in the program header table before which the new PT_LOADs are inserted (address order). */
  insertAt: number;
}

/** Places a region of `size` bytes (a multiple of the page size) into `path`, `fileLength` bytes long, with program headers `segments`. */
export function placeRegion(segments: readonly Segment[], fileLength: number, size: number, pie: boolean, path: string): RegionPlace {
  const loads = segments.filter((s) => s.type === PT_LOAD);
  const fileEnd = Math.ceil(fileLength / PAGE_SIZE) * PAGE_SIZE;
  if (!pie) {
    const lowest = loads.reduce((a, b) => (b.vaddr < a.vaddr ? b : a));
    const vaddr = (lowest.vaddr & ~(PAGE - 1n)) - BigInt(size);
    if (vaddr < MIN_MAP_ADDRESS) {
      throw new PersistError(`${path} has no room below its lowest segment (0x${lowest.vaddr.toString(16)}) for ${size} more bytes of patches`);
    }
    return { offset: fileEnd, vaddr, insertAt: segments.findIndex((s) => s.type === PT_LOAD) };
  }
  const first = loads[0]!;
  const delta = first.vaddr - BigInt(first.offset);
  const imageEnd = loads.reduce((end, s) => (s.vaddr + BigInt(s.memsz) > end ? s.vaddr + BigInt(s.memsz) : end), 0n);
  const offset = Math.max(fileEnd, Number((imageEnd + PAGE - 1n) / PAGE * PAGE - delta));
  const lastLoad = segments.reduce((last, s, i) => (s.type === PT_LOAD ? i : last), -1);
  return { offset, vaddr: BigInt(offset) + delta, insertAt: lastLoad + 1 };
}
