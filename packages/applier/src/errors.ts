// The errors the applier reports. ApplierError is the package's base (code E_APPLY); each refusal a
// user can act on has its own subclass and stable code, so the CLI and deploy tools can tell "wrong
// build" from "try again later" from "no such process" without parsing messages.
import { KatanaError } from '@katana/errors';

/** Any failure while applying a patch; subclasses carry the specific code. */
export class ApplierError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }, code = 'E_APPLY') {
    super(code, message, options);
  }
}

/** The pid names no running process. */
export class NoSuchProcessError extends ApplierError {
  constructor(readonly pid: number, options?: { cause?: unknown }) {
    super(`no process with pid ${pid}`, options, 'E_NO_PROCESS');
  }
}

/** The kernel refuses to let us trace or read the process. */
export class PermissionError extends ApplierError {
  constructor(readonly pid: number, options?: { cause?: unknown }) {
    super(`not permitted to trace pid ${pid}: run as root or the same user with ptrace allowed`, options, 'E_PERMISSION');
  }
}

/** The patch was made for another build of the program than the one the process runs. */
export class BuildIdMismatchError extends ApplierError {
  constructor(
    readonly pid: number,
    readonly poName: string,
    readonly expected: string,
    readonly exePath: string,
    readonly actual: string | undefined,
  ) {
    super(
      `${poName} is for build-id ${expected}, but pid ${pid} runs ${exePath} with ${actual === undefined ? 'no build-id' : `build-id ${actual}`}`,
      undefined,
      'E_BUILD_ID',
    );
  }
}

/** A thread is inside, or will return into, a function the patch replaces or marks unsafe. */
export class UnsafeStateError extends ApplierError {
  constructor(
    readonly tid: number,
    readonly functionName: string,
    readonly how: 'is in' | 'will return into',
    readonly why: 'replaces' | 'marks unsafe',
    /** How long the applier waited for the thread to leave, when it did. */
    readonly waitedMs?: number,
    /** Where the thread will have left the unsafe code (the return address of its outermost unsafe frame), when known. */
    readonly resumeAt?: bigint,
  ) {
    super(
      waitedMs === undefined
        ? `thread ${tid} ${how} ${functionName}, which the patch ${why}; try again later`
        : `thread ${tid} ${how} ${functionName}, which the patch ${why}, and did not leave it within ${formatSeconds(waitedMs)}`,
      undefined,
      'E_UNSAFE',
    );
  }

  /** The same verdict, said after waiting `ms` for it to change. */
  afterWaiting(ms: number): UnsafeStateError {
    return new UnsafeStateError(this.tid, this.functionName, this.how, this.why, ms, this.resumeAt);
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** A symbol the patch references exists neither in the executable nor in a loaded library. */
export class UnresolvedSymbolError extends ApplierError {
  constructor(readonly symbol: string, readonly pid: number, reason?: string) {
    super(
      `symbol ${symbol} needed by the patch is not in pid ${pid} or its libraries${reason === undefined ? '' : ` (${reason})`}`,
      undefined,
      'E_UNRESOLVED',
    );
  }
}

/** No free address range for the patch area lies within rel32 reach of everything it must reach. */
export class PatchAreaError extends ApplierError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'E_NO_SPACE');
  }
}

/** A relocation of the patch cannot be applied (its value does not fit its field, or its type is unknown). */
export class RelocationError extends ApplierError {
  constructor(message: string) {
    super(message, undefined, 'E_RELOCATION');
  }
}
