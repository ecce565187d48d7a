// Where the patch area of a PIE patched on disk holds absolute addresses. The new segments are laid
// out at link-time addresses and the loader moves the whole image by its load bias, so every
// 8-byte address relocate() writes needs an R_X86_64_RELATIVE the loader applies: the R_X86_64_64
// fields of .data.new and the GOT slots that hold an address (a thread-pointer offset needs none;
// PC-relative fields move with the code they point into). Such fields must lie in the R+W pages: in
// the R+X pages the loader could only relocate them with text relocations, which we do not write.
// A 32-bit absolute field (R_X86_64_32/32S, from -fno-pie code) cannot hold a biased address: refused.
// The jump table would hold addresses in R+X pages too; apply --file plans none for a PIE.
import { R_X86_64_32, R_X86_64_32S, R_X86_64_64, relocTypeName } from '@katana/elf';
import type { PatchObject } from '@katana/po';
import type { PatchPlan } from '../plan.js';
import type { ResolvedSymbol } from '../symbols.js';
import { PersistError } from './errors.js';

const SECTION_NAMES = { text: '.text.new', rodata: '.rodata.new', data: '.data.new', bss: '.bss.new', ehFrame: '.eh_frame' } as const;

/** Offsets in the patch area of every 8-byte absolute address relocate() writes for `po` (into `path`, a PIE), in increasing order. */
export function absoluteAddressSites(po: PatchObject, plan: PatchPlan, resolved: readonly (ResolvedSymbol | undefined)[], path: string): number[] {
  const sites: number[] = [];
  for (const r of po.relocations) {
    if (r.type !== R_X86_64_64 && r.type !== R_X86_64_32 && r.type !== R_X86_64_32S) continue;
    const where = `${relocTypeName(r.type)} against ${po.symbols[r.symbol]?.name ?? `#${r.symbol}`} in ${SECTION_NAMES[r.section]}`;
    if (r.type !== R_X86_64_64) {
      throw new PersistError(`${path} is position-independent, but the patch holds a 32-bit absolute address (${where}) that no load bias can be added to; build the patch with -fPIE`);
    }
    const offset = plan.sections[r.section].offset + r.offset;
    if (offset < plan.codeSize) {
      throw new PersistError(`${path} is position-independent, but the patch holds an absolute address in read-only memory (${where}), which the loader cannot relocate`);
    }
    sites.push(offset);
  }
  for (const [symbol, offset] of plan.got.slots) if (resolved[symbol]?.kind !== 'tpoff') sites.push(offset);
  return sites.sort((a, b) => a - b);
}
