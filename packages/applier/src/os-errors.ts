// Turns the operating system's refusals into the applier's typed errors: a vanished process (ENOENT
// on /proc/PID/..., ESRCH from ptrace) becomes NoSuchProcessError, EACCES/EPERM become
// PermissionError. Anything else passes through unchanged.
import { ProcessMemory, PtraceError } from '@katana/ptrace';
import { NoSuchProcessError, PermissionError } from './errors.js';

/** The typed error for `error` raised while touching pid, or `error` itself when it is nothing we know. */
export function explainOsError(pid: number, error: unknown): unknown {
  const code = error instanceof PtraceError ? error.errnoCode : (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return new NoSuchProcessError(pid, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') return new PermissionError(pid, { cause: error });
  return error;
}

/** Opens the memory of `pid` for reading and writing, with the typed error when it cannot. */
export function openProcessMemory(pid: number): ProcessMemory {
  try {
    return new ProcessMemory(pid);
  } catch (error) {
    throw explainOsError(pid, error);
  }
}
