// Maps the patch area into the target. areaRequest() collects what the area must reach with a rel32
// (each trampoline site, each target a PC32/PLT32 reaches without a jump-table entry) and whether
// 32-bit absolute relocations against patch data cap its end (see choose-range.ts for the choice).
// mapNear() runs mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE) inside one stopped thread at the
// best candidate, falling back to the next when something appeared there since we read the maps, and
// then mprotects the code pages R+X (the data pages stay R+W).
import { R_X86_64_32, R_X86_64_32S, R_X86_64_PC32, R_X86_64_PLT32 } from '@katana/elf';
import type { PatchObject } from '@katana/po';
import { chooseRange, type AreaRequest, type ReachConstraint } from './choose-range.js';
import { PatchAreaError } from './errors.js';
import type { PatchPlan } from './plan.js';
import type { Module, ProcessModel } from './process.js';
import {
  MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, RemoteSyscallError, remoteMmap,
  remoteMprotect, remoteMunmap,
} from './remote-syscall.js';
import type { ResolvedSymbol } from './symbols.js';
import { JMP_REL32_SIZE, type TrampolineSite } from './write.js';

/** What the patch area of `po` must satisfy in this process. */
export function areaRequest(
  po: PatchObject,
  plan: PatchPlan,
  resolved: readonly (ResolvedSymbol | undefined)[],
  sites: readonly TrampolineSite[],
): AreaRequest {
  const reach: ReachConstraint[] = sites.map((s) => ({ start: s.site, end: s.site + BigInt(JMP_REL32_SIZE), what: `the trampoline in ${s.name}` }));
  let limit: bigint | undefined;
  for (const r of po.relocations) {
    const symbol = po.symbols[r.symbol];
    if (symbol === undefined) continue;
    const target = resolved[r.symbol];
    if ((r.type === R_X86_64_PC32 || r.type === R_X86_64_PLT32) && target?.kind === 'address' && !plan.jumpTable.entries.has(r.symbol)) {
      reach.push({ start: target.address + r.addend, end: target.address + r.addend + 1n, what: `symbol ${symbol.name}` });
    }
    if ((r.type === R_X86_64_32 || r.type === R_X86_64_32S) && symbol.defined !== undefined) {
      const cap = r.type === R_X86_64_32 ? 1n << 32n : 1n << 31n;
      if (limit === undefined || cap < limit) limit = cap;
    }
  }
  return { size: BigInt(plan.size), reach, ...(limit === undefined ? {} : { limit }) };
}

function isExists(error: unknown): boolean {
  return error instanceof RemoteSyscallError && error.errnoCode === 'EEXIST';
}

/**
 * Maps the area for `plan` in the stopped thread `tid` of the process, near the `target` module and what it must reach;
 * returns its start. Throws PatchAreaError when no range qualifies.
 */
export function mapNear(model: ProcessModel, target: Module, tid: number, plan: PatchPlan, request: AreaRequest): bigint {
  const heap = model.maps.find((m) => m.path === '[heap]');
  const around = { moduleStart: target.start, heapStart: heap?.start ?? model.exe.end };
  const candidates = chooseRange(model.maps, request, around);
  const size = plan.size;
  for (const address of candidates) {
    let start: bigint;
    try {
      start = remoteMmap(model.pid, tid, address, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    } catch (error) {
      if (isExists(error)) continue; // the target mapped something there since we read its maps
      throw error;
    }
    if (start !== address) {
      // A kernel older than 4.17 treats MAP_FIXED_NOREPLACE as a hint and may map elsewhere.
      remoteMunmap(model.pid, tid, start, size);
      continue;
    }
    if (plan.codeSize > 0) {
      try {
        remoteMprotect(model.pid, tid, start, plan.codeSize, PROT_READ | PROT_EXEC);
      } catch (error) {
        remoteMunmap(model.pid, tid, start, size);
        throw error;
      }
    }
    return start;
  }
  const what = request.reach.map((c) => c.what).join(', ');
  throw new PatchAreaError(
    `no free ${size}-byte range in pid ${model.pid} lies within ±2 GiB of ${what || target.path}${request.limit === undefined ? '' : ` and below 0x${request.limit.toString(16)}`}`,
  );
}
