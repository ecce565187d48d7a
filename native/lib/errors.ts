// PtraceError: the one error type of @katana/ptrace. The addon receives this class at load time
// (see binding.ts) and throws instances of it, so a failure carries errno, its symbolic name, the
// system call and the pid, and its stack is the JavaScript caller's (the native frame is invisible).
import { constants } from 'node:os';
import { KatanaError } from '@katana/errors';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // Keep the first spelling of an alias pair (EAGAIN before EWOULDBLOCK, EDEADLK before EDEADLOCK).
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** Symbolic name of an errno value: 3 → 'ESRCH'; unknown values print as 'E? (N)'. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E? (${errno})`;
}

/** A failed ptrace, waitpid or /proc/PID/mem operation. */
export class PtraceError extends KatanaError {
  /** errno of the failing call, e.g. 3. */
  readonly errno: number;
  /** Symbolic errno, e.g. 'ESRCH'. */
  readonly errnoCode: string;
  /** The call that failed: 'ptrace(PTRACE_SEIZE)', 'waitpid', 'pread(/proc/PID/mem)'. */
  readonly syscall: string;
  /** The thread or process the call was about. */
  readonly pid: number;
  /** strerror(errno), e.g. 'No such process'. */
  readonly description: string;

  /**
   * Built by the addon as `new PtraceError(syscall, pid, errno, strerror(errno))`; `where` adds
   * context such as an address ("at 0x401000 (16 bytes)").
   */
  constructor(syscall: string, pid: number, errno: number, description: string, where?: string, options?: { cause?: unknown }) {
    const errnoCode = errnoName(errno);
    const place = where === undefined ? '' : ` ${where}`;
    super('E_PTRACE', `${syscall} on ${pid}${place} failed: ${description} (${errnoCode})`, options);
    this.errno = errno;
    this.errnoCode = errnoCode;
    this.syscall = syscall;
    this.pid = pid;
    this.description = description;
  }
}

/** True when `error` is a PtraceError whose errno is one of `codes` (e.g. 'ESRCH'). */
export function isPtraceError(error: unknown, ...codes: string[]): error is PtraceError {
  return error instanceof PtraceError && (codes.length === 0 || codes.includes(error.errnoCode));
}
