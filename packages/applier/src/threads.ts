// ThreadGroup: stops and resumes every thread of a traced process, for the shortest stop window.
// seize() attaches to each task in /proc/PID/task with PTRACE_SEIZE + PTRACE_O_TRACECLONE (later
// threads are attached by the kernel), rescanning until no new task appears. stopAll() interrupts
// every running thread, then waits for each in turn. Any ptrace-stop answers an interrupt: an exit
// drops the thread; a clone event keeps it stopped there and adds the new thread; a
// signal-delivery-stop keeps it stopped with the signal held, delivered as it came when the thread
// runs again (unless onSignalStop claims it, as wait-for-exit.ts does for its int3). poll() takes
// the same events without blocking while threads run. Before a thread runs again, an epoll wait the
// stop broke is set to restart (restart-wait.ts) and deferred signals are re-delivered.
import { readFileSync, readdirSync } from 'node:fs';
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
  setRegs,
  singleStep,
  SIGTRAP,
  tgkill,
  waitpid,
  type WaitResult,
} from '@katana/ptrace';
import { ApplierError } from './errors.js';
import { explainOsError } from './os-errors.js';
import { deferSignal, takeDeferredSignals } from './remote-syscall.js';
import { restartInterruptedWait } from './restart-wait.js';

// True when the thread has exited but is not reaped yet (state Z or X in /proc/TID/stat).
function isZombie(tid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${tid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true; // gone entirely
  }
}

/** Thread ids listed in /proc/PID/task. */
export function listTasks(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
}

/**
 * What to do with a signal-delivery-stop: a signal to deliver (the one reported, another, or 0 to
 * suppress it), or 'hold' to keep the thread stopped where it is, counted as stopped and later
 * resumed without the signal.
 */
export type SignalStopHook = (tid: number, signal: number) => number | 'hold';

/** The threads of one traced process and whether each is stopped. */
export class ThreadGroup {
  readonly pid: number;
  /** Consulted at every signal-delivery-stop; undefined delivers every signal as it came. */
  onSignalStop: SignalStopHook | undefined;
  // tid → true when the thread is in a ptrace-stop we have consumed with waitpid. Map order is
  // seize/adoption order, which the stop loops follow (no sorting in the stop window).
  #stopped = new Map<number, boolean>();
  // Registers read during the current stop of a thread, dropped when it runs again.
  #regs = new Map<number, Registers>();
  #lastStopStarted = 0n;
  // tid → the signal of the signal-delivery-stop a thread is kept in, delivered when it runs again.
  #heldSignal = new Map<number, number>();

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

  /** Number of threads in the group. */
  get size(): number {
    return this.#stopped.size;
  }

  /** process.hrtime.bigint() when the last stopAll that had a running thread to stop began. */
  get lastStopStarted(): bigint {
    return this.#lastStopStarted;
  }

  /** True when `tid` is stopped (after stopAll or stopOne, or held by poll). */
  isStopped(tid: number): boolean {
    return this.#stopped.get(tid) === true;
  }

  /**
   * Stops every thread: interrupts all first, then waits for each (and for threads born meanwhile).
   * Stops already reported are taken first (poll), so that no interrupt lands on a thread that is
   * already stopped: it would stay pending and stop the thread again, unobserved, once resumed.
   */
  stopAll(): void {
    this.poll();
    const started = process.hrtime.bigint();
    const waiting: number[] = [];
    for (const [tid, stopped] of this.#stopped) {
      if (!stopped && tid !== this.pid && this.#interrupt(tid)) waiting.push(tid);
    }
    // The leader is waited for last: when the process dies, its exit is reported only once every
    // other thread has been reaped, so waiting for it first would block forever.
    if (this.#stopped.get(this.pid) === false && this.#interrupt(this.pid)) waiting.push(this.pid);
    if (waiting.length > 0) this.#lastStopStarted = started;
    // #handle appends threads born meanwhile to `waiting`.
    for (let i = 0; i < waiting.length; i++) this.#waitForStop(waiting[i]!, waiting);
    if (this.#stopped.size === 0) {
      throw new ApplierError(`pid ${this.pid} exited while its threads were being stopped`, undefined, 'E_NO_PROCESS');
    }
  }

  /** Stops one thread (the leader by default) while the others keep running. */
  stopOne(tid: number = this.pid): void {
    this.#check(tid);
    if (this.isStopped(tid)) return;
    if (this.#interrupt(tid)) this.#waitForStop(tid, undefined);
    if (!this.#stopped.has(tid)) {
      throw new ApplierError(`thread ${tid} of pid ${this.pid} exited while being stopped`, undefined, 'E_NO_PROCESS');
    }
  }

  /** Resumes one stopped thread, delivering any signal it was holding. */
  resumeOne(tid: number = this.pid): void {
    this.#check(tid);
    if (!this.isStopped(tid)) return;
    try {
      const signal = this.#prepareToRun(tid);
      cont(tid, signal);
      this.#stopped.set(tid, false);
    } catch (error) {
      if (!isPtraceError(error, 'ESRCH')) throw error;
      this.#forget(tid);
    }
  }

  /** Resumes every stopped thread. */
  resumeAll(): void {
    for (const [tid, stopped] of this.#stopped) if (stopped) this.resumeOne(tid);
  }

  /**
   * While threads run: takes every wait event already reported, without blocking (exits, clones,
   * signals per onSignalStop, which may hold a thread stopped). Returns how many it took.
   */
  poll(): number {
    let events = 0;
    for (const [tid, stopped] of this.#stopped) {
      if (stopped) continue;
      for (;;) {
        let result: WaitResult | null;
        try {
          result = waitpid(tid, WNOHANG);
        } catch (error) {
          if (!isPtraceError(error, 'ECHILD')) throw error;
          this.#stopped.delete(tid);
          break;
        }
        if (result === null) break;
        events++;
        this.#handle(result, undefined, false);
        if (this.#stopped.get(tid) !== false) break;
      }
    }
    // A dying process: its leader is reported only after every other thread is reaped, including
    // threads born just before the end whose clone event never came. Take them from /proc.
    if (events === 0 && this.#stopped.get(this.pid) === false && isZombie(this.pid)) {
      for (const tid of this.#unknownTasks()) this.#stopped.set(tid, false);
    }
    return events;
  }

  /**
   * Lets a stopped thread with a signal pending take it: resumes the thread, which dequeues the
   * signal at once (synchronous ones such as an int3's SIGTRAP first) and stops in its
   * signal-delivery-stop, kept there per onSignalStop or with the signal held. Call it only when
   * /proc shows the signal pending: otherwise the thread would run on until it next stops.
   */
  settlePendingSignal(tid: number): void {
    this.#check(tid);
    if (!this.isStopped(tid)) throw new ApplierError(`thread ${tid} of pid ${this.pid} is running; stop it before settling its signals`);
    this.#regs.delete(tid);
    cont(tid, this.#heldSignal.get(tid) ?? 0);
    this.#heldSignal.delete(tid);
    this.#stopped.set(tid, false);
    this.#waitForStop(tid, undefined);
  }

  /**
   * Detaches from every thread (stopping each first, as PTRACE_DETACH requires), delivering held
   * signals; tries every thread even when one fails, then throws the first failure.
   */
  detachAll(): void {
    const failure = this.#release();
    if (failure !== undefined) throw explainOsError(this.pid, failure);
  }

  /** Registers of a stopped thread (read once per stop; do not modify the returned object). */
  regs(tid: number): Registers {
    this.#check(tid);
    if (!this.isStopped(tid)) throw new ApplierError(`thread ${tid} of pid ${this.pid} is running; stop it before reading its registers`);
    let regs = this.#regs.get(tid);
    if (regs === undefined) {
      regs = getRegs(tid);
      this.#regs.set(tid, regs);
    }
    return regs;
  }

  /**
   * Runs one instruction of a stopped thread while the others stay stopped (PTRACE_SINGLESTEP); a
   * signal that arrives meanwhile is deferred, delivered when the thread resumes. False when the
   * thread exited.
   */
  singleStep(tid: number): boolean {
    this.#check(tid);
    if (!this.isStopped(tid)) throw new ApplierError(`thread ${tid} of pid ${this.pid} is running; stop it before stepping it`);
    this.#regs.delete(tid);
    for (;;) {
      singleStep(tid);
      const stop = waitpid(tid)!;
      if (!stop.stopped) {
        this.#forget(tid);
        return false;
      }
      if (stop.event !== 0) continue; // an event stop (clone, interrupt) on the way: step again
      if (stop.stopSignal === SIGTRAP) return true;
      deferSignal(tid, stop.stopSignal ?? 0);
    }
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
    for (const [tid, stopped] of this.#stopped) {
      if (!stopped) continue;
      try {
        detach(tid, this.#prepareToRun(tid));
        this.#stopped.delete(tid);
      } catch (error) {
        if (isPtraceError(error, 'ESRCH')) this.#forget(tid);
        else failure ??= error;
      }
    }
    return failure;
  }

  // Readies a stopped thread to run: restarts an epoll wait the stop broke, re-queues its deferred
  // signals with tgkill and returns its held signal (0 when none) for PTRACE_CONT or PTRACE_DETACH
  // to deliver. Only a held signal may be injected: the thread sits in (or was stepped from) that
  // signal's delivery-stop. A deferred one was taken while the thread was stepped or ran a remote
  // call, and the thread may now be in another kind of stop, where Linux may ignore an injected
  // signal (ptrace(2)): injecting it there lost one real-time signal in a thousand.
  #prepareToRun(tid: number): number {
    const regs = this.#regs.get(tid) ?? getRegs(tid);
    this.#regs.delete(tid);
    if (restartInterruptedWait(regs)) setRegs(tid, regs);
    const held = this.#heldSignal.get(tid);
    this.#heldSignal.delete(tid);
    for (const signal of takeDeferredSignals(tid)) tgkill(this.pid, tid, signal);
    return held ?? 0;
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
      this.#waitForStop(tid, undefined);
      if (this.isStopped(tid)) this.resumeOne(tid);
    }
  }

  // PTRACE_INTERRUPT; false when the thread is gone (ESRCH), which is then forgotten.
  #interrupt(tid: number): boolean {
    try {
      interrupt(tid);
      return true;
    } catch (error) {
      if (!isPtraceError(error, 'ESRCH')) throw error;
      this.#forget(tid);
      return false;
    }
  }

  // Blocks until `tid` is stopped or gone. With `born`, threads created meanwhile are appended to it
  // (stopAll waits for them too); otherwise they are let go after their first stop.
  // A leader that has exited (a zombie until the last thread goes) never reports: it is dropped.
  #waitForStop(tid: number, born: number[] | undefined): void {
    while (this.#stopped.get(tid) === false) {
      let result = tid === this.pid ? waitpid(tid, WNOHANG) : null;
      if (result === null && tid === this.pid && isZombie(tid)) {
        this.#forget(tid);
        return;
      }
      result ??= waitpid(tid)!;
      this.#handle(result, born, true);
    }
  }

  // Applies one wait result to the model. `wanted`: we are waiting for this thread to stop. The
  // kernel clears a pending PTRACE_INTERRUPT at ANY ptrace-stop ("any trap clears pending STOP
  // trap", ptrace_stop()), so a clone event or a signal-delivery-stop answers our interrupt: such a
  // thread is kept stopped right there, its signal held to be delivered when it runs again.
  // While threads run (poll), an event stop is the late answer to an interrupt that found the
  // thread already stopped; it is let go.
  #handle(result: WaitResult, born: number[] | undefined, wanted: boolean): void {
    const tid = result.pid;
    if (!result.stopped) {
      this.#stopped.delete(tid);
      this.#regs.delete(tid);
      this.#heldSignal.delete(tid);
      return;
    }
    if (result.event === PTRACE_EVENT_STOP) {
      if (wanted) this.#stopped.set(tid, true);
      else this.#continue(tid, 0, false);
      return;
    }
    if (result.event === PTRACE_EVENT_CLONE) {
      this.#adopt(getEventMsg(tid), born);
      if (wanted) this.#stopped.set(tid, true);
      else this.#continue(tid, 0, false);
      return;
    }
    if (result.event !== 0) {
      this.#continue(tid, 0, false); // no other event is enabled
      return;
    }
    // A signal-delivery-stop.
    const signal = result.stopSignal ?? 0;
    const verdict = this.onSignalStop === undefined ? signal : this.onSignalStop(tid, signal);
    if (verdict === 'hold' || wanted) {
      this.#stopped.set(tid, true);
      if (verdict !== 'hold' && verdict !== 0) this.#heldSignal.set(tid, verdict);
      return;
    }
    this.#continue(tid, verdict, true);
  }

  // PTRACE_CONT from a stop we do not keep; at a signal stop, an epoll wait the signal broke (traced
  // threads are woken even by ignored signals) is set to restart first. ESRCH means the thread was
  // killed meanwhile; the next waitpid reports its exit.
  #continue(tid: number, signal: number, signalStop: boolean): void {
    try {
      if (signalStop) {
        const regs = getRegs(tid);
        if (restartInterruptedWait(regs)) setRegs(tid, regs);
      }
      cont(tid, signal);
    } catch (error) {
      if (!isPtraceError(error, 'ESRCH')) throw error;
    }
  }

  // A new thread auto-attached by PTRACE_O_TRACECLONE: it starts with an event stop of its own.
  #adopt(child: number, born: number[] | undefined): void {
    if (this.#stopped.has(child)) return;
    this.#stopped.set(child, false);
    if (born !== undefined) {
      born.push(child);
      return;
    }
    this.#waitForStop(child, undefined);
    if (this.isStopped(child)) this.resumeOne(child);
  }

  // Drops a thread that no longer exists, reaping its exit status if it is ready.
  #forget(tid: number): void {
    this.#stopped.delete(tid);
    this.#regs.delete(tid);
    this.#heldSignal.delete(tid);
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
