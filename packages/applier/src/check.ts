// checkPatch: the analysis of an apply without the apply (`katana check`). With nothing stopped it
// runs apply's phase 1 (prepare.ts: the module the PO changes, the patches applied and the PO's
// base, symbols, the CFI of every module and applied patch); then it seizes the process, stops
// every thread, walks each stack, and detaches. Nothing is written to the target, so it carries on exactly as before. The answer: could the patch
// be applied at this moment, and if not, which threads are in or returning into unsafe code.
import type { PatchObject } from '@katana/po';
import { explainOsError, openProcessMemory } from './os-errors.js';
import { preparePatch } from './prepare.js';
import { readProcess } from './process.js';
import type { UnsafeThread } from './safety.js';
import { ThreadGroup } from './threads.js';

/** What to check. */
export interface CheckOptions {
  pid: number;
  po: PatchObject;
  /** How messages name the patch (e.g. the .po file name); "the patch" when absent. */
  poName?: string;
  /** The patch's id (patchObjectId of the PO file): checked against the registry like apply does. */
  id: string;
}

/** The verdict of a check. */
export interface CheckReport {
  pid: number;
  /** True when no thread is in, or will return into, a function the patch replaces or marks unsafe. */
  canApplyNow: boolean;
  /** Threads of the target when it was stopped. */
  threads: number;
  /** The threads that block the patch, with their unsafe function and callers. */
  blocking: UnsafeThread[];
  /** Wall time the target was stopped, in µs. */
  stoppedMicros: number;
}

/** Checks whether `po` could be applied to `pid` right now, changing nothing in the process. */
export function checkPatch(options: CheckOptions): CheckReport {
  const { pid, po } = options;
  const model = readProcess(pid);
  const memory = openProcessMemory(pid);
  try {
    const { safety } = preparePatch(model, memory, po, options.poName ?? 'the patch', options.id);
    const group = ThreadGroup.seize(pid);
    const blocking: UnsafeThread[] = [];
    try {
      const stopBegan = process.hrtime.bigint();
      group.stopAll();
      for (const tid of group.threads) {
        const unsafe = safety.inspect(tid, group.regs(tid)).unsafe;
        if (unsafe !== undefined) blocking.push(unsafe);
      }
      const threads = group.threads.length;
      group.detachAll();
      const stoppedMicros = Number((process.hrtime.bigint() - stopBegan) / 1000n);
      return { pid, canApplyNow: blocking.length === 0, threads, blocking, stoppedMicros };
    } catch (error) {
      try {
        group.detachAll();
      } catch {
        // Already detached or gone; the original error matters more.
      }
      throw error;
    }
  } catch (error) {
    throw explainOsError(pid, error);
  } finally {
    memory.close();
  }
}
