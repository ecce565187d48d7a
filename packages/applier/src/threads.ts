// ThreadGroup: stops and resumes every thread of a traced process, for the shortest stop window.
// seize() attaches to each task in /proc/PID/task with PTRACE_SEIZE + PTRACE_O_TRACECLONE (threads
// keep running; threads created later are attached by the kernel) and rescans until no new task
// appears. stopAll() first sends PTRACE_INTERRUPT to every thread, then waits for each to report
// PTRACE_EVENT_STOP. On the way: a thread that exits is dropped; a PTRACE_EVENT_CLONE names a new
// thread, which starts in an event stop of its own and joins the group; a signal-delivery-stop is
// resumed with that same signal, so it is delivered exactly as it would have been (the pending
// interrupt then stops the thread before any handler code runs). Signals swallowed by a remote
// system call (remote-syscall.ts) are re-delivered by resumeOne/resumeAll/detachAll.
// Note: between seize and detach, a thread that calls clone() waits in its clone event until the
// next stopAll/stopOne/detachAll; nothing is lost, it is only delayed.
import { readdirSync } from 'node:fs';
import {
  PTRACE_EVENT_CLONE,
  PTRACE_EVENT_STOP,
  PTRACE_O_TRACECLONE,
  Registers,
  WNOHANG,
  cont,
  detach,
  getEventMsg,
  getRegs,
  interrupt,
  isPtraceError,
  seize,
  tgkill,
  waitpid,
  type WaitResult,
} from '@katana/ptrace';
import { ApplierError } from './errors.js';
import { explainOsError } from './os-errors.js';
import { takeDeferredSignals } from './remote-syscall.js';

/** Thread ids listed in /proc/PID/task. */
export function listTasks(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
}

/** The threads of one traced process and whether each is stopped. */
export class ThreadGroup {
  readonly pid: number;
  // tid → true when the thread is in a ptrace-stop we have consumed with waitpid.
  #stopped = new Map<number, boolean>();

  private constructor(pid: number) {
    this.pid = pid;
  }

  /** Seizes every thread of `pid` without stopping it; on failure nothing stays traced. */
  static seize(pid: number): ThreadGroup {
    const group = new ThreadGroup(pid);
    try {
      for (let fresh = group.#unknownTasks(); fresh.length > 0; fresh = group.#unknownTasks()) {
        for (const tid of fresh) group.#seizeTask(tid);
      }
    } catch (error) {
      group.#release();
      throw explainOsError(pid, error);
    }
    return group;
  }

  /** Thread ids of the group, ascending. */
  get threads(): number[] {
    return [...this.#stopped.keys()].sort((a, b) => a - b);
  }

  /** True when `tid` is stopped (after stopAll or stopOne). */
  isStopped(tid: number): boolean {
    return this.#stopped.get(tid) === true;
  }

  /** Stops every thread: interrupts all first, then waits for each (and for threads born meanwhile). */
  stopAll(): void {
    for (const tid of this.threads) {
      if (!this.isStopped(tid)) this.#interrupt(tid);
    }
    this.#waitUntilStopped(new Set(this.threads), true);
    if (this.#stopped.size === 0) {
      throw new ApplierError(`pid ${this.pid} exited while its threads were being stopped`, undefined, 'E_NO_PROCESS');
    }
  }

  /** Stops one thread (the leader by default) while the others keep running. */
  stopOne(tid: number = this.pid): void {
    this.#check(tid);
    if (this.isStopped(tid)) return;
    this.#interrupt(tid);
    this.#waitUntilStopped(new Set([tid]), false);
    if (!this.#stopped.has(tid)) {
      throw new ApplierError(`thread ${tid} of pid ${this.pid} exited while being stopped`, undefined, 'E_NO_PROCESS');
    }
  }

  /** Resumes one stopped thread, delivering any signal it was holding. */
  resumeOne(tid: number = this.pid): void {
    this.#check(tid);
    if (!this.isStopped(tid)) return;
    const [first = 0, ...rest] = takeDeferredSignals(tid);
    for (const signal of rest) tgkill(this.pid, tid, signal);
    try {
      cont(tid, first);
      this.#stopped.set(tid, false);
    } catch (error) {
      if (!isPtraceError(error, 'ESRCH')) throw error;
      this.#forget(tid);
    }
  }

  /** Resumes every stopped thread. */
  resumeAll(): void {
    for (const tid of this.threads) this.resumeOne(tid);
  }

  /**
   * Detaches from every thread (stopping each first, as PTRACE_DETACH requires), delivering held
   * signals; tries every thread even when one fails, then throws the first failure.
   */
  detachAll(): void {
    const failure = this.#release();
    if (failure !== undefined) throw explainOsError(this.pid, failure);
  }

  /** Registers of a stopped thread. */
  regs(tid: number): Registers {
    this.#check(tid);
    if (!this.isStopped(tid)) throw new ApplierError(`thread ${tid} of pid ${this.pid} is running; stop it before reading its registers`);
    return getRegs(tid);
  }

  // Stops and detaches everything; returns the first error instead of throwing.
  #release(): unknown {
    let failure: unknown;
    if (this.#stopped.size === 0) return failure;
    try {
      this.stopAll();
    } catch (error) {
      failure = error;
    }
    for (const tid of this.threads) {
      if (!this.isStopped(tid)) continue;
      try {
        const [first = 0, ...rest] = takeDeferredSignals(tid);
        for (const signal of rest) tgkill(this.pid, tid, signal);
        detach(tid, first);
        this.#stopped.delete(tid);
      } catch (error) {
        if (isPtraceError(error, 'ESRCH')) this.#forget(tid);
        else failure ??= error;
      }
    }
    return failure;
  }

  #unknownTasks(): number[] {
    return listTasks(this.pid).filter((tid) => !this.#stopped.has(tid));
  }

  // Seizes one task found in /proc/PID/task. ESRCH: it exited after the listing (the leader must
  // exist). EPERM: already traced, either by us (a thread cloned after we seized its parent, now
  // waiting in its first event stop) or by someone else (then waitpid fails with ECHILD).
  #seizeTask(tid: number): void {
    try {
      seize(tid, PTRACE_O_TRACECLONE);
      this.#stopped.set(tid, false);
    } catch (error) {
      if (isPtraceError(error, 'ESRCH') && tid !== this.pid) return;
      if (!isPtraceError(error, 'EPERM') || tid === this.pid) throw error;
      this.#stopped.set(tid, false);
      this.#waitUntilStopped(new Set([tid]), false);
      if (this.isStopped(tid)) this.resumeOne(tid);
    }
  }

  #interrupt(tid: number): void {
    try {
      interrupt(tid);
    } catch (error) {
      if (!isPtraceError(error, 'ESRCH')) throw error;
      this.#forget(tid);
    }
  }

  // Waits until every thread of `targets` still alive is stopped. With `holdNew`, threads born
  // meanwhile join the targets (stopAll); otherwise they are let go after their first stop.
  #waitUntilStopped(targets: Set<number>, holdNew: boolean): void {
    for (;;) {
      const tid = [...targets].find((t) => this.#stopped.get(t) === false);
      if (tid === undefined) return;
      this.#handle(waitpid(tid)!, targets, holdNew);
    }
  }

  // Applies one wait result to the model, resuming the thread when the stop is not the one we want.
  #handle(result: WaitResult, targets: Set<number>, holdNew: boolean): void {
    const tid = result.pid;
    if (!result.stopped) {
      this.#stopped.delete(tid);
      return;
    }
    if (result.event === PTRACE_EVENT_STOP) {
      this.#stopped.set(tid, true);
      return;
    }
    if (result.event === PTRACE_EVENT_CLONE) {
      this.#adopt(getEventMsg(tid), targets, holdNew);
      this.#continue(tid, 0);
      return;
    }
    // A signal-delivery-stop (event 0): deliver the signal now; the pending interrupt follows.
    // Any other event (none is enabled) is simply continued.
    this.#continue(tid, result.event === 0 ? (result.stopSignal ?? 0) : 0);
  }

  // PTRACE_CONT from a stop we do not keep; ESRCH means the thread was killed meanwhile, and the
  // next waitpid reports its exit.
  #continue(tid: number, signal: number): void {
    try {
      cont(tid, signal);
    } catch (error) {
      if (!isPtraceError(error, 'ESRCH')) throw error;
    }
  }

  // A new thread auto-attached by PTRACE_O_TRACECLONE: it starts with an event stop of its own.
  #adopt(child: number, targets: Set<number>, holdNew: boolean): void {
    if (this.#stopped.has(child)) return;
    this.#stopped.set(child, false);
    if (holdNew) {
      targets.add(child);
      return;
    }
    this.#waitUntilStopped(new Set([child]), false);
    this.resumeOne(child);
  }

  // Drops a thread that no longer exists, reaping its exit status if it is ready.
  #forget(tid: number): void {
    this.#stopped.delete(tid);
    try {
      waitpid(tid, WNOHANG);
    } catch {
      // ECHILD: already reaped (or never ours to reap).
    }
  }

  #check(tid: number): void {
    if (!this.#stopped.has(tid)) throw new ApplierError(`thread ${tid} is not a traced thread of pid ${this.pid}`);
  }
}
