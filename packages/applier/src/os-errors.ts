// Turns the operating system's refusals into the applier's typed errors: a vanished process (ENOENT
// on /proc/PID/..., ESRCH from ptrace) becomes NoSuchProcessError, EACCES/EPERM become
// PermissionError, and an EIO from /proc/PID/mem of a process that is dying (killed while we read it)
// also becomes NoSuchProcessError. Anything else passes through unchanged.
import { readFileSync } from 'node:fs';
import { ProcessMemory, PtraceError } from '@katana/ptrace';
import { NoSuchProcessError, PermissionError } from './errors.js';

/** The typed error for `error` raised while touching pid, or `error` itself when it is nothing we know. */
export function explainOsError(pid: number, error: unknown): unknown {
  const code = error instanceof PtraceError ? error.errnoCode : (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return new NoSuchProcessError(pid, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new PermissionError(pid, { cause: error });
  if (code === 'EIO' && processIsEnding(pid)) return new NoSuchProcessError(pid, { cause: error });
  return error;
}

const SIGKILL_BIT = 1n << 8n;
/** PF_EXITING in the flags of /proc/PID/stat: the task is in do_exit. */
const PF_EXITING = 0x4;

/**
 * True when `pid` is gone or on its way out: no /proc entry, a zombie, SIGKILL pending, its leader
 * exiting (PF_EXITING), or its memory already released (no VmSize in its status).
 */
export function processIsEnding(pid: number): boolean {
  let status: string;
  let stat: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  if (/^State:\s*[ZX]/m.test(status) || !/^VmSize:/m.test(status)) return true;
  // Fields after the command name, which may hold spaces: state is the first, flags the seventh.
  const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
  if ((flags & PF_EXITING) !== 0) return true;
  return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & SIGKILL_BIT) !== 0n);
}

/**
 * Whether `pid` is ending, looking again for up to `ms`: a kill shows in /proc a moment after its
 * first effects (an EIO from /proc/PID/mem while the threads are still torn down).
 */
export function processEndsWithin(pid: number, ms: number): boolean {
  const deadline = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (processIsEnding(pid)) return true;
    if (Date.now() >= deadline) return false;
    Atomics.wait(pause, 0, 0, 5);
  }
}

/** Opens the memory of `pid` for reading and writing, with the typed error when it cannot. */
export function openProcessMemory(pid: number): ProcessMemory {
  try {
    return new ProcessMemory(pid);
  } catch (error) {
    throw explainOsError(pid, error);
  }
}
