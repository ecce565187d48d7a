// Calls a function inside a stopped thread of the target (libcare's kpatch_execute_remote_func, in
// spirit): save the thread's general registers and its whole XSAVE area (the vector registers the
// interrupted code may have live, which any called C function is free to clobber); move rsp below
// the 128-byte red zone, align it, and push `returnSite` (the address of an int3) as the return
// address, so that at the function's entry (rsp + 8) % 16 == 0 as the SysV ABI requires; load the
// arguments (rdi, rsi, rdx, rcx, r8, r9), rax = 0 (no vector arguments, should fn be variadic),
// clear DF and TF, set orig_rax = -1 so that a system call the thread was interrupted in is not
// restarted into our call, and rip = fn. Then PTRACE_CONT only that thread (the others stay
// stopped) until it stops with SIGTRAP at returnSite + 1, and read rax. Whatever happens, the
// saved registers go back before we return or throw; a system call the thread was interrupted in
// restarts as if nothing had happened, as after remoteSyscall.
//
// Other signals that reach the thread during the call are deferred as remoteSyscall does (ThreadGroup
// re-delivers them when it resumes the thread), except a fault of the call itself (SIGSEGV, SIGBUS,
// SIGILL, SIGFPE, SIGTRAP, SIGSYS raised by the kernel, or SIGABRT the thread sent itself with
// abort()), which ends the call with RemoteCallCrashError and is never delivered. The tracer is
// synchronous, so the wait polls waitpid(WNOHANG), spinning briefly, then sleeping 50 µs to 1 ms.
//
// Limits: the function must not create threads (their clone events are not followed) nor longjmp
// out; a call that crashes or times out may leave what it was doing half done (a lock held, a
// block half linked); it runs on the thread's own stack, with the thread's signal mask and TLS.
// After a timeout the thread is left in an interrupt stop, where Linux may ignore a signal
// injected by PTRACE_CONT: a signal ThreadGroup holds for that thread could be lost. And when the
// call was itself interrupted (by the timeout, or by a signal we deferred) inside a system call
// that restarts through restart_syscall (clock_nanosleep, a timed futex wait), the kernel's
// per-thread restart block is now that call's: a clock_nanosleep the thread was stopped in before
// the call would restart with it (and end early). malloc and free make no such calls.
import { constants } from 'node:os';
import {
  NT_X86_XSTATE,
  ProcessMemory,
  SIGTRAP,
  WNOHANG,
  cont,
  getRegSet,
  getRegs,
  getSigInfo,
  interrupt,
  isPtraceError,
  setRegSet,
  setRegs,
  waitpid,
  type WaitResult,
} from '@katana/ptrace';
import { ApplierError } from './errors.js';
import { deferSignal } from './remote-syscall.js';

/** Bytes below rsp a leaf function may use without moving rsp (SysV x86-64 ABI §3.2.2). */
export const RED_ZONE = 128n;
// EFLAGS bits (Intel SDM vol. 1 §3.4.3): the ABI requires DF clear at a call; TF would single-step.
const EFLAGS_TF = 1n << 8n;
const EFLAGS_DF = 1n << 10n;
// include/uapi/asm-generic/siginfo.h: si_code of a signal a thread sent with tgkill (raise, abort).
const SI_TKILL = -6;

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));
const FAULTS = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP', 'SIGSYS'].map((name) => constants.signals[name as keyof typeof constants.signals]));
const SIGABRT = constants.signals.SIGABRT;

/** 'SIGSEGV', or 'signal 40' for a number without a name. */
export function signalName(signal: number): string {
  return SIGNAL_NAMES.get(signal) ?? `signal ${signal}`;
}

/** How a remote call is made. */
export interface RemoteCallOptions {
  /** Address of an int3 (0xcc) in executable memory of the target: the function returns there. */
  returnSite: bigint;
  /** How long the call may run before it is interrupted and RemoteCallTimeoutError thrown. */
  timeoutMs: number;
  /** The function's name in messages ('malloc'); 'the function at 0x…' when omitted. */
  name?: string;
  /** An open ProcessMemory of the target to push the return address with; one is opened otherwise. */
  memory?: ProcessMemory;
}

/** A function called in the target did not return normally; subclasses say how. */
export class RemoteCallError extends ApplierError {
  constructor(
    readonly pid: number,
    readonly tid: number,
    /** The function's name as the caller gave it. */
    readonly functionName: string,
    message: string,
    code: string,
  ) {
    super(message, undefined, code);
  }
}

/** The called function did not return within the time allowed; it was interrupted and the thread's registers restored. */
export class RemoteCallTimeoutError extends RemoteCallError {
  constructor(pid: number, tid: number, functionName: string, readonly timeoutMs: number) {
    super(
      pid, tid, functionName,
      `${functionName} called in thread ${tid} of pid ${pid} did not return within ${timeoutMs} ms (is another thread holding the allocator's lock?)`,
      'E_REMOTE_CALL_TIMEOUT',
    );
  }
}

/** The called function faulted (or aborted); the signal was not delivered and the thread's registers were restored. */
export class RemoteCallCrashError extends RemoteCallError {
  constructor(
    pid: number,
    tid: number,
    functionName: string,
    readonly signal: number,
    /** rip at the fault. */
    readonly rip: bigint,
    /** si_addr: the address a SIGSEGV/SIGBUS tried to access. */
    readonly faultAddress: bigint,
  ) {
    const name = signalName(signal);
    const access = name === 'SIGSEGV' || name === 'SIGBUS' ? ` accessing 0x${faultAddress.toString(16)}` : '';
    super(
      pid, tid, functionName,
      `${functionName} called in thread ${tid} of pid ${pid} crashed with ${name} at rip 0x${rip.toString(16)}${access}; the signal was not delivered and the thread's registers were restored`,
      'E_REMOTE_CALL_CRASH',
    );
  }
}

/** The thread (or the whole process) ended during the call. */
export class RemoteCallExitError extends RemoteCallError {
  constructor(pid: number, tid: number, functionName: string, stop: WaitResult) {
    const how = stop.exited ? `exited with status ${stop.exitCode}` : `was killed by ${signalName(stop.termSignal ?? 0)}`;
    super(pid, tid, functionName, `thread ${tid} of pid ${pid} ${how} during a call to ${functionName}`, 'E_REMOTE_CALL_EXIT');
  }
}

/**
 * Calls `fn` with up to six integer `args` in thread `tid` of `pid`, which must be in a ptrace-stop
 * (the other threads stay stopped); returns rax. The thread's registers, vector registers included,
 * are the same afterwards whatever happens.
 */
export function remoteCall(pid: number, tid: number, fn: bigint, args: bigint[], options: RemoteCallOptions): bigint {
  if (args.length > 6) throw new RangeError(`a remote call takes at most 6 arguments, got ${args.length}`);
  const name = options.name ?? `the function at 0x${fn.toString(16)}`;
  const saved = getRegs(tid);
  const savedVector = getRegSet(tid, NT_X86_XSTATE);
  const regs = saved.clone();
  // Below the red zone, 16-aligned, then the pushed return address: rsp ≡ 8 (mod 16) at entry.
  regs.rsp = ((saved.rsp - RED_ZONE) & ~15n) - 8n;
  regs.rip = fn;
  regs.orig_rax = -1n;
  regs.rax = 0n;
  regs.rdi = args[0] ?? 0n;
  regs.rsi = args[1] ?? 0n;
  regs.rdx = args[2] ?? 0n;
  regs.rcx = args[3] ?? 0n;
  regs.r8 = args[4] ?? 0n;
  regs.r9 = args[5] ?? 0n;
  regs.eflags = saved.eflags & ~(EFLAGS_DF | EFLAGS_TF);
  const returnAddress = new Uint8Array(8);
  new DataView(returnAddress.buffer).setBigUint64(0, options.returnSite, true);
  const memory = options.memory ?? new ProcessMemory(pid);
  try {
    memory.write(regs.rsp, returnAddress);
  } finally {
    if (options.memory === undefined) memory.close();
  }
  const call: Call = { pid, tid, name, returnSite: options.returnSite, timeoutMs: options.timeoutMs };
  // From here until the restore, the thread's registers are ours: put them back whatever happens.
  setRegs(tid, regs);
  let result: bigint;
  try {
    result = runToReturn(call);
  } catch (error) {
    if (!(error instanceof RemoteCallExitError)) {
      try {
        setRegs(tid, saved);
        setRegSet(tid, NT_X86_XSTATE, savedVector);
      } catch {
        // The thread is gone (what failed was ptrace on it): there is nothing left to restore.
      }
    }
    throw error;
  }
  setRegs(tid, saved);
  setRegSet(tid, NT_X86_XSTATE, savedVector);
  return result;
}

interface Call {
  pid: number;
  tid: number;
  name: string;
  returnSite: bigint;
  timeoutMs: number;
}

// Runs the thread until it stops at the return site; returns rax. Leaves it stopped in every case.
function runToReturn(call: Call): bigint {
  const deadline = performance.now() + call.timeoutMs;
  cont(call.tid, 0);
  for (;;) {
    const stop = waitUntil(call.tid, deadline);
    if (stop === null) return interruptLate(call);
    const outcome = classify(call, stop);
    if (outcome !== undefined) return outcome;
    cont(call.tid, 0);
  }
}

// After the deadline: interrupts the thread and takes the first stop. A return that raced the
// interrupt counts (the call did its work); a stop at a signal (deferred) or at the interrupt is the
// timeout. Should the interrupt still be pending after a signal stop, ThreadGroup takes its stop
// later as the late answer to an interrupt.
function interruptLate(call: Call): bigint {
  try {
    interrupt(call.tid);
  } catch (error) {
    if (!isPtraceError(error, 'ESRCH')) throw error; // ended: waitpid reports how
  }
  const outcome = classify(call, waitpid(call.tid)!);
  if (outcome !== undefined) return outcome;
  throw new RemoteCallTimeoutError(call.pid, call.tid, call.name, call.timeoutMs);
}

// One stop of the calling thread: the return (rax), an end or a fault (thrown), or undefined for a
// stop to continue from (an event stop, a signal deferred for later).
function classify(call: Call, stop: WaitResult): bigint | undefined {
  if (!stop.stopped) throw new RemoteCallExitError(call.pid, call.tid, call.name, stop);
  if (stop.event !== 0) return undefined; // a group-stop or a stale PTRACE_INTERRUPT
  const signal = stop.stopSignal ?? 0;
  const regs = getRegs(call.tid);
  if (signal === SIGTRAP && regs.rip === call.returnSite + 1n) return regs.rax;
  const info = getSigInfo(call.tid);
  if ((FAULTS.has(signal) && info.code > 0) || (signal === SIGABRT && info.code === SI_TKILL)) {
    throw new RemoteCallCrashError(call.pid, call.tid, call.name, signal, regs.rip, info.address);
  }
  deferSignal(call.tid, signal);
  return undefined;
}

const idle = new Int32Array(new SharedArrayBuffer(4));
// Polls without sleeping this long first: most calls the applier makes return within it.
const SPIN_MS = 0.2;

// waitpid(tid) that gives up at `deadline` (a performance.now() time): null then.
function waitUntil(tid: number, deadline: number): WaitResult | null {
  const spinUntil = performance.now() + SPIN_MS;
  let pause = 0.05;
  for (;;) {
    const stop = waitpid(tid, WNOHANG);
    if (stop !== null) return stop;
    const now = performance.now();
    if (now >= deadline) return null;
    if (now < spinUntil) continue;
    Atomics.wait(idle, 0, 0, Math.min(pause, deadline - now));
    pause = Math.min(pause * 2, 1);
  }
}
