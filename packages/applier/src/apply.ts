// applyPatch: the orchestration, arranged to keep the target's stop window as short as possible.
//   1. With nothing stopped: read the process model, check the build-id, resolve symbols, plan the
//      area, read the code the safety check needs.
//   2. Seize every thread (PTRACE_SEIZE stops nothing); stop ONE thread just long enough to mmap the
//      area near the executable and mprotect its code pages; resume it.
//   3. With the target running: relocate and write the area (nothing executes those pages yet).
//   4. Stop all threads, check that none is in or returning into a replaced function (while one is,
//      wait for it to leave: at breakpoints, wait-for-exit.ts), write the trampolines, detach. Only
//      the last stop counts as `stoppedMicros`.
//   5. On any error: roll back every write and mapping (undo.ts), detach, rethrow a typed error.
// The target is never left half-patched, and keeps running in every case.
import type { PatchObject } from '@katana/po';
import { ProcessMemory } from '@katana/ptrace';
import { BuildIdMismatchError, type UnsafeStateError } from './errors.js';
import { areaRequest, mapNear } from './map.js';
import { explainOsError } from './os-errors.js';
import { planArea } from './plan.js';
import { withHighPriority } from './priority.js';
import { readProcess } from './process.js';
import { relocate, symbolAddress } from './relocate.js';
import { remoteMunmap } from './remote-syscall.js';
import { SafetyCheck, unsafeRanges } from './safety.js';
import { resolveSymbols } from './symbols.js';
import { ThreadGroup } from './threads.js';
import { stepOut } from './step-out.js';
import { UndoLog } from './undo.js';
import { waitUntilLeft, type ResumeSite } from './wait-for-exit.js';
import { prepareTrampoline, trampolineSites, writeBody, writeTrampoline } from './write.js';

/** What to apply where. */
export interface ApplyOptions {
  pid: number;
  po: PatchObject;
  /** How messages name the patch (e.g. the .po file name); "the patch" when absent. */
  poName?: string;
  /** How long to keep retrying while a thread is in unsafe code, in ms (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Default bound on waiting for a safe moment. */
export const DEFAULT_TIMEOUT_MS = 2000;
/** Pause between two safety checks while the target runs on. */
const RETRY_PAUSE_MS = 5;

/** What an apply did. */
export interface ApplyReport {
  pid: number;
  /** Each patched function: its old entry and its new code. */
  functions: { name: string; from: bigint; to: bigint }[];
  /** Where the patch was mapped. */
  area: { start: bigint; size: number };
  /** Threads of the target at the moment of the switch. */
  threads: number;
  /** Wall time from the first interrupt to the last thread resumed, in the stop that switched. */
  stoppedMicros: number;
  /** How many times the safety of every thread was checked (1 when it was safe at once). */
  attempts: number;
  /** Wall time from the first stop to the moment every thread was found safe. */
  safeAfterMicros: number;
  totalMillis: number;
}

/** Applies `po` to the running process `pid`; throws an ApplierError subclass, leaving the target unchanged, on failure. */
export function applyPatch(options: ApplyOptions): ApplyReport {
  return withHighPriority(() => applyAtCurrentPriority(options));
}

function applyAtCurrentPriority(options: ApplyOptions): ApplyReport {
  const started = process.hrtime.bigint();
  const { pid, po } = options;

  // Phase 1: nothing stopped.
  const model = readProcess(pid);
  if (model.buildId !== po.targetBuildId.toLowerCase()) {
    throw new BuildIdMismatchError(pid, options.poName ?? 'the patch', po.targetBuildId, model.exePath, model.buildId);
  }
  let memory: ProcessMemory;
  try {
    memory = new ProcessMemory(pid);
  } catch (error) {
    throw explainOsError(pid, error);
  }
  try {
    const bias = model.exe.bias;
    const resolved = resolveSymbols(model, po, memory);
    const plan = planArea(po, resolved);
    const sites = trampolineSites(po, bias);
    const request = areaRequest(po, plan, resolved, sites);
    const safety = new SafetyCheck(unsafeRanges(po, bias), memory, model.maps);
    safety.warmUp();

    // Phase 2: seize, and map the area in one briefly stopped thread.
    const group = ThreadGroup.seize(pid);
    const undo = new UndoLog();
    let allStopped = false;
    try {
      group.stopOne(pid);
      const base = mapNear(model, pid, plan, request);
      undo.recordMapping(base, plan.size);
      // V8 compiles a function on its first call; running the window's safety check once here, on
      // the thread we hold anyway, keeps that compilation out of the stop window. Its verdict is
      // ignored: only the check inside the window counts.
      const leader = group.regs(pid);
      safety.check({ tid: pid, rip: leader.rip, rsp: leader.rsp });
      group.resumeOne(pid);

      // Phase 3: target running; fill the fresh pages and prepare the trampolines.
      const input = { po, plan, base, resolved };
      writeBody(memory, base, relocate(input));
      const functions = sites.map((s) => ({ name: s.name, from: s.site, to: symbolAddress(input, s.symbol) }));
      const trampolines = functions.map((f) => prepareTrampoline(memory, f.from, f.to));

      // Phase 4: the stop window. While threads are in unsafe code, get them out of it: step them
      // out alone when they are inside a replaced function (step-out.ts); else wait at breakpoints
      // where each verdict says it will have left (wait-for-exit.ts); else let the target run a
      // few ms and look again. Until the deadline; then the last verdict is the error.
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const deadline = Date.now() + timeoutMs;
      let attempts = 0;
      const firstStop = process.hrtime.bigint();
      let safeAt: bigint;
      for (;;) {
        attempts++;
        group.stopAll();
        allStopped = true;
        const problems = unsafeThreads(group, safety);
        if (problems.length === 0) {
          safeAt = process.hrtime.bigint();
          break;
        }
        if (Date.now() >= deadline) throw problems[0]!.afterWaiting(timeoutMs);
        // Threads inside a replaced function: step each out alone (step-out.ts), then look again.
        const inside = problems.filter((p) => p.how === 'is in');
        if (inside.length === problems.length && inside.every((p) => stepOut(group, memory, p.tid, safety.ranges))) continue;
        const resumeSites = problems.map((p) => ({ tid: p.tid, resumeAt: p.resumeAt }));
        if (resumeSites.every((s): s is ResumeSite => s.resumeAt !== undefined)) {
          allStopped = false;
          const outcome = waitUntilLeft(group, memory, resumeSites, deadline);
          allStopped = true;
          if (outcome === 'timeout') throw problems[0]!.afterWaiting(timeoutMs);
          continue;
        }
        group.resumeAll();
        allStopped = false;
        sleepMs(RETRY_PAUSE_MS);
      }
      for (const t of trampolines) writeTrampoline(memory, undo, t);
      const threads = group.threads.length;
      group.detachAll();
      const stopEnded = process.hrtime.bigint();

      return {
        pid,
        functions,
        area: { start: base, size: plan.size },
        threads,
        stoppedMicros: Number((stopEnded - group.lastStopStarted) / 1000n),
        attempts,
        safeAfterMicros: Number((safeAt - firstStop) / 1000n),
        totalMillis: Number((process.hrtime.bigint() - started) / 1_000_000n),
      };
    } catch (error) {
      rollBack(group, memory, undo, allStopped);
      throw error;
    }
  } catch (error) {
    throw explainOsError(pid, error);
  } finally {
    memory.close();
  }
}

/** The safety verdict of every thread in unsafe code; empty when all are safe. */
function unsafeThreads(group: ThreadGroup, safety: SafetyCheck): UnsafeStateError[] {
  const problems: UnsafeStateError[] = [];
  for (const thread of group.threads) {
    const regs = group.regs(thread);
    const problem = safety.check({ tid: thread, rip: regs.rip, rsp: regs.rsp });
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

/** Blocks this thread for `ms` (the applier is synchronous: ptrace must stay on one OS thread). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Undoes every change (munmap needs a stopped thread), then lets every thread go. Best effort: the original error matters more. */
function rollBack(group: ThreadGroup, memory: ProcessMemory, undo: UndoLog, allStopped: boolean): void {
  try {
    if (!undo.empty) {
      if (!allStopped) group.stopAll();
      const tid = group.threads[0]!;
      undo.rollback(memory, (start, size) => remoteMunmap(group.pid, tid, start, size));
    }
  } catch {
    // The process may have died; nothing more can be restored.
  } finally {
    try {
      group.detachAll();
    } catch {
      // Already detached or gone.
    }
  }
}
