// Waiting for a safe moment with breakpoints (Katana §4): when a thread is in code the patch may not
// switch under, put an int3 where it will have left that code (resumeAt: the return address of its
// outermost unsafe frame), let the target run, and come back as soon as any thread executes one of
// them; the caller then checks safety again. Instead of polling the target blindly, we stop it the
// moment a thread leaves. The applier is synchronous (ptrace belongs to this OS thread), so the wait
// polls every traced thread with waitpid(WNOHANG) and sleeps 1 ms when nothing happened.
// Whatever happens (a hit, the deadline, an error, the target dying), every thread is stopped,
// every int3 is removed and every rip that stood past one is moved back before we return or throw.
import { readFileSync } from 'node:fs';
import { SIGTRAP, getRegs, isPtraceError, setRegs, type ProcessMemory } from '@katana/ptrace';
import { Breakpoints } from './breakpoints.js';
import { ApplierError } from './errors.js';
import { processEndsWithin } from './os-errors.js';
import type { ThreadGroup } from './threads.js';

/** An unsafe thread and the address at which it will have left the unsafe code. */
export interface ResumeSite {
  tid: number;
  resumeAt: bigint;
}

/** How a wait ended: a thread reached a breakpoint, or the deadline passed first. */
export type WaitOutcome = 'left' | 'timeout';

/** How long a failed wait looks for the target's end before reporting the failure itself. */
const ENDING_GRACE_MS = 200;
/** Poll interval while no thread reports anything. */
const IDLE_MS = 1;
const idle = new Int32Array(new SharedArrayBuffer(4));

/**
 * With every thread of `group` stopped: inserts an int3 at each distinct resumeAt, resumes the
 * threads and waits until one executes any of them ('left') or `deadline` (a Date.now() time)
 * passes ('timeout'). Returns with every thread stopped and no breakpoint left in the target.
 */
export function waitUntilLeft(group: ThreadGroup, memory: ProcessMemory, sites: ResumeSite[], deadline: number): WaitOutcome {
  const breakpoints = new Breakpoints(memory);
  let hit = false;
  // Claims the SIGTRAP of our int3 (rip moved back, the signal never delivered); any other signal
  // goes on to the target as it came. While threads run, the hitting thread is held stopped.
  // A thread killed meanwhile (ESRCH) is left to report its exit.
  group.onSignalStop = (tid, signal) => {
    if (signal !== SIGTRAP) return signal;
    try {
      const regs = getRegs(tid);
      if (!breakpoints.owns(tid, regs)) return signal;
      Breakpoints.rewind(regs);
      setRegs(tid, regs);
    } catch (error) {
      if (isPtraceError(error, 'ESRCH')) return signal;
      throw error;
    }
    hit = true;
    return 'hold';
  };
  try {
    for (const site of sites) breakpoints.insert(site.resumeAt);
    group.resumeAll();
    while (!hit && Date.now() < deadline) {
      if (group.size === 0) throw new ApplierError(`pid ${group.pid} exited while katana waited for a safe moment`, undefined, 'E_NO_PROCESS');
      if (group.poll() === 0) Atomics.wait(idle, 0, 0, IDLE_MS);
    }
    stopAndClear(group, breakpoints);
  } catch (error) {
    try {
      stopAndClear(group, breakpoints);
    } catch {
      // The target died or cannot be stopped: the original error says more.
    }
    // A memory error of a dying target: say it is gone (its /proc entry catches up within a moment).
    if (processEndsWithin(group.pid, ENDING_GRACE_MS)) throw new ApplierError(`pid ${group.pid} exited while katana waited for a safe moment`, { cause: error }, 'E_NO_PROCESS');
    throw error;
  } finally {
    group.onSignalStop = undefined;
  }
  return hit ? 'left' : 'timeout';
}

// Stops every thread (the hook still claims breakpoint SIGTRAPs meanwhile), takes each SIGTRAP that
// raced with the interrupt, then restores every original byte.
function stopAndClear(group: ThreadGroup, breakpoints: Breakpoints): void {
  let failure: unknown;
  try {
    if (group.size > 0) group.stopAll();
    for (const tid of group.threads) {
      // A thread that executed an int3 just as it was interrupted stops in the event stop first,
      // rip past the int3, its SIGTRAP still pending; delivered after detach, it would kill the target.
      for (let tries = 0; tries < 3 && breakpoints.has(group.regs(tid).rip - 1n) && sigtrapPending(group.pid, tid); tries++) {
        group.settlePendingSignal(tid);
      }
    }
  } catch (error) {
    failure = error;
  }
  const removal = breakpoints.removeAll();
  failure ??= removal;
  if (failure !== undefined) throw failure;
}

// Whether SIGTRAP is in the thread's own pending set (SigPnd in /proc/PID/task/TID/status).
function sigtrapPending(pid: number, tid: number): boolean {
  const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  const mask = /^SigPnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(SIGTRAP - 1))) !== 0n;
}
