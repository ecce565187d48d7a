// Stepping a thread out of unsafe code while every other thread stays stopped. A thread caught
// inside a short replaced function (64 threads calling it in a tight loop: at any stop some of them
// are inside) leaves it within a few instructions; letting the whole target run on to wait for a
// moment when none is inside may never succeed, since others enter meanwhile. So the thread is
// single-stepped, alone, until its rip is outside every unsafe range. We give up (and the caller
// waits instead) when the thread is in a system call or is about to make one (stepping could block
// on it), or after MAX_STEPS instructions (it called something long, or spins on a lock held by a
// stopped thread).
import type { ProcessMemory } from '@katana/ptrace';
import type { UnsafeRange } from './safety.js';
import type { ThreadGroup } from './threads.js';

/** Most instructions stepped per thread. */
export const MAX_STEPS = 256;

/** True when the thread was stepped (or already was) out of every range; false when we gave up. */
export function stepOut(group: ThreadGroup, memory: ProcessMemory, tid: number, ranges: readonly UnsafeRange[]): boolean {
  for (let steps = 0; ; steps++) {
    const regs = group.regs(tid);
    const rip = regs.rip;
    if (!ranges.some((r) => rip >= r.start && rip < r.end)) return true;
    // orig_rax is -1 outside a system call; otherwise the kernel would restart the call on resume.
    if (steps === MAX_STEPS || BigInt.asIntN(64, regs.orig_rax) >= 0n || isSyscallAt(memory, rip)) return false;
    if (!group.singleStep(tid)) return true; // the thread exited: it is in no function any more
  }
}

function isSyscallAt(memory: ProcessMemory, address: bigint): boolean {
  const bytes = memory.tryRead(address, 2);
  return bytes === null || (bytes[0] === 0x0f && bytes[1] === 0x05);
}
