// Waiting for a safe moment (the paper's §4), shared by apply and rollback: stop every thread and
// run the safety check; while threads are in unsafe code, get them out of it, and look again:
//   - threads inside a replaced function are single-stepped out, each alone (step-out.ts);
//   - otherwise, when every verdict says where its thread will have left (the return address of
//     its outermost unsafe frame), the target runs with int3 at those addresses until one is hit
//     (wait-for-exit.ts);
//   - otherwise (an unreliable stack has no such address) the target runs a few ms.
// Until the deadline; then every thread still blocking is named in one UnsafeStateError.
import type { ProcessMemory } from '@katana/ptrace';
import type { UnsafeStateError } from './errors.js';
import type { SafetyCheck } from './safety.js';
import { stepOut } from './step-out.js';
import type { ThreadGroup } from './threads.js';
import { waitUntilLeft, type ResumeSite } from './wait-for-exit.js';

/** Pause between two checks when no breakpoint can tell when to look again. */
const RETRY_PAUSE_MS = 5;

/** How the safe moment was reached. */
export interface SafeMoment {
  /** How many times every thread was stopped and checked (1 when it was safe at once). */
  attempts: number;
  /** From the first stop to the verdict "safe", in µs. */
  safeAfterMicros: number;
}

/**
 * Returns with every thread of `group` stopped and none in code `safety` guards; throws
 * UnsafeStateError (naming every blocking thread) when that does not happen within `timeoutMs`.
 */
export function stopAtSafeMoment(group: ThreadGroup, memory: ProcessMemory, safety: SafetyCheck, timeoutMs: number): SafeMoment {
  const deadline = Date.now() + timeoutMs;
  const firstStop = process.hrtime.bigint();
  for (let attempts = 1; ; attempts++) {
    group.stopAll();
    const problems = unsafeThreads(group, safety);
    if (problems.length === 0) return { attempts, safeAfterMicros: Number((process.hrtime.bigint() - firstStop) / 1000n) };
    if (Date.now() >= deadline) throw problems[0]!.afterWaiting(timeoutMs, problems.slice(1));
    // Each thread inside a replaced function is stepped out alone, whatever the others' verdicts
    // (a thread being born meanwhile can have an unreliable stack for a moment); then look again.
    const steppedOut = problems.filter((p) => p.how === 'is in' && stepOut(group, memory, p.tid, safety.ranges));
    if (steppedOut.length > 0) continue;
    const sites = problems.map((p) => ({ tid: p.tid, resumeAt: p.resumeAt }));
    if (sites.every((s): s is ResumeSite => s.resumeAt !== undefined)) {
      if (waitUntilLeft(group, memory, sites, deadline) === 'timeout') throw problems[0]!.afterWaiting(timeoutMs, problems.slice(1));
      continue;
    }
    group.resumeAll();
    sleepMs(RETRY_PAUSE_MS);
  }
}

/** The safety verdict of every thread in unsafe code; empty when all are safe. */
function unsafeThreads(group: ThreadGroup, safety: SafetyCheck): UnsafeStateError[] {
  const problems: UnsafeStateError[] = [];
  for (const thread of group.threads) {
    const problem = safety.check(thread, group.regs(thread));
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

/** Blocks this thread for `ms` (the applier is synchronous: ptrace must stay on one OS thread). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
