// The ptrace requests and waitpid, one function each, as thin checked wrappers over the addon.
// waitpid decodes the status word the way <sys/wait.h>'s macros do, including the PTRACE_EVENT_*
// number in bits 16..23 (e.g. 0x80057f = stopped by SIGTRAP with PTRACE_EVENT_STOP).
import { native } from './binding.js';
import { checkFlags, checkSignal, checkTid } from './validate.js';

/** PTRACE_SEIZE: attach to `tid` without stopping it; `options` are PTRACE_O_* bits. */
export function seize(tid: number, options = 0): void {
  checkTid(tid);
  checkFlags(options, 'options');
  native.seize(tid, options);
}

/** PTRACE_INTERRUPT: ask a seized thread to enter a group-stop (reported as PTRACE_EVENT_STOP). */
export function interrupt(tid: number): void {
  checkTid(tid);
  native.interrupt(tid, 0);
}

/** PTRACE_DETACH: let the stopped thread go, delivering `signal` (0 for none). */
export function detach(tid: number, signal = 0): void {
  checkTid(tid);
  checkSignal(signal);
  native.detach(tid, signal);
}

/** PTRACE_CONT: resume the stopped thread, delivering `signal` (0 for none). */
export function cont(tid: number, signal = 0): void {
  checkTid(tid);
  checkSignal(signal);
  native.cont(tid, signal);
}

/** PTRACE_SINGLESTEP: run one instruction of the stopped thread, delivering `signal` (0 for none). */
export function singleStep(tid: number, signal = 0): void {
  checkTid(tid);
  checkSignal(signal);
  native.singleStep(tid, signal);
}

/** PTRACE_GETEVENTMSG: the message of the last event stop (the new tid for PTRACE_EVENT_CLONE). */
export function getEventMsg(tid: number): number {
  checkTid(tid);
  return native.getEventMsg(tid);
}

/**
 * PTRACE_GETSIGINFO: the signal that caused the current stop (fails with EINVAL in a group-stop);
 * `address` is si_addr, the faulting address of a SIGSEGV/SIGBUS/SIGILL/SIGFPE (else meaningless).
 */
export function getSigInfo(tid: number): { signo: number; code: number; errno: number; address: bigint } {
  checkTid(tid);
  return native.getSigInfo(tid);
}

/** tgkill(2): queue `signal` to thread `tid` of process `tgid` (re-queues a signal a stop swallowed). */
export function tgkill(tgid: number, tid: number, signal: number): void {
  checkTid(tgid, 'tgid');
  checkTid(tid);
  checkSignal(signal);
  native.tgkill(tgid, tid, signal);
}

/** A decoded waitpid status. */
export interface WaitResult {
  /** The thread the status is about. */
  pid: number;
  /** The raw status word. */
  status: number;
  /** WIFEXITED; then exitCode is WEXITSTATUS. */
  exited: boolean;
  exitCode?: number;
  /** WIFSIGNALED; then termSignal is WTERMSIG. */
  signaled: boolean;
  termSignal?: number;
  /** WIFSTOPPED; then stopSignal is WSTOPSIG. */
  stopped: boolean;
  stopSignal?: number;
  /** PTRACE_EVENT_* from bits 16..23 of the status; 0 if none. */
  event: number;
}

/** Decodes a waitpid status word for thread `pid`. */
export function decodeStatus(pid: number, status: number): WaitResult {
  const low = status & 0x7f;
  const result: WaitResult = { pid, status, exited: false, signaled: false, stopped: false, event: (status >> 16) & 0xff };
  if ((status & 0xff) === 0x7f) {
    result.stopped = true;
    result.stopSignal = (status >> 8) & 0xff;
  } else if (low === 0) {
    result.exited = true;
    result.exitCode = (status >> 8) & 0xff;
  } else {
    result.signaled = true;
    result.termSignal = low;
  }
  return result;
}

/** waitpid(tid, &status, flags | __WALL) (tid -1: any child); null when WNOHANG is set and nothing is ready. */
export function waitpid(tid: number, flags = 0): WaitResult | null {
  if (tid !== -1) checkTid(tid);
  checkFlags(flags, 'flags');
  const got = native.waitpid(tid, flags);
  return got === null ? null : decodeStatus(got.pid, got.status);
}
