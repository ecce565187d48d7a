// The errors the applier reports. ApplierError is the package's base (code E_APPLY); each refusal a
// user can act on has its own subclass and stable code, so the CLI and deploy tools can tell "wrong
// build" from "try again later" from "no such process" without parsing messages.
import { KatanaError } from '@katana/errors';
import type { UnsafeThread } from './safety.js';

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

/**
 * A thread is inside, or will return into, a function the patch replaces or marks unsafe, or its
 * stack cannot be walked reliably. Carries the whole verdict (callers, where it will have left).
 */
export class UnsafeStateError extends ApplierError {
  readonly tid: number;
  readonly functionName: string;
  readonly how: UnsafeThread['how'];
  readonly why: UnsafeThread['why'];
  readonly callers: string[];
  readonly resumeAt: bigint | undefined;
  readonly reason: string | undefined;

  constructor(
    readonly thread: UnsafeThread,
    /** How long the applier waited for the thread to leave, when it did. */
    readonly waitedMs?: number,
    /** Other threads blocking at the same moment, named in the message too. */
    readonly others: readonly UnsafeThread[] = [],
  ) {
    super(others.length === 0 ? unsafeMessage(thread, waitedMs) : blockedMessage([thread, ...others], waitedMs), undefined, 'E_UNSAFE');
    this.tid = thread.tid;
    this.functionName = thread.function;
    this.how = thread.how;
    this.why = thread.why;
    this.callers = thread.callers;
    this.resumeAt = thread.resumeAt;
    this.reason = thread.reason;
  }

  /** The same verdict, said after waiting `ms` for it to change, naming the `others` still blocking too. */
  afterWaiting(ms: number, others: readonly UnsafeStateError[] = []): UnsafeStateError {
    return new UnsafeStateError(this.thread, ms, others.map((o) => o.thread));
  }
}

/** "serve_forever (called from main)": the callers up to main, without the thread start-up frames, at most four. */
export function describeUnsafeFunction(thread: Pick<UnsafeThread, 'function' | 'callers'>): string {
  const shown: string[] = [];
  for (const name of thread.callers) {
    if (name === 'start_thread' || name === 'clone3' || name === 'clone' || name === '__libc_start_call_main') break;
    shown.push(name);
    if (name === 'main' || shown.length === 4) break;
  }
  return shown.length === 0 ? thread.function : `${thread.function} (called from ${shown.join(', ')})`;
}

// "3 threads did not leave code the patch replaces within 2 s: thread 7 is in f (called from main); thread 8 ...".
function blockedMessage(threads: readonly UnsafeThread[], waitedMs: number | undefined): string {
  const each = threads.map((t) =>
    t.how === 'unreliable stack'
      ? `thread ${t.tid} has an unreliable stack in ${describeUnsafeFunction(t)} (${t.reason ?? 'unknown reason'})`
      : `thread ${t.tid} ${t.how} ${describeUnsafeFunction(t)}`);
  const head = waitedMs === undefined ? `${threads.length} threads are in unsafe code` : `${threads.length} threads did not leave unsafe code within ${formatSeconds(waitedMs)}`;
  return `${head}: ${each.join('; ')}${waitedMs === undefined ? '; try again later' : ''}`;
}

function unsafeMessage(thread: UnsafeThread, waitedMs: number | undefined): string {
  const where = describeUnsafeFunction(thread);
  if (thread.how === 'unreliable stack') {
    const tail = waitedMs === undefined ? 'try again later' : `still so after ${formatSeconds(waitedMs)}`;
    return `thread ${thread.tid} has an unreliable stack in ${where} (${thread.reason ?? 'unknown reason'}); ${tail}`;
  }
  const verb = thread.why === 'calls' ? 'calls to move data' : thread.why ?? 'replaces';
  const what = `thread ${thread.tid} ${thread.how} ${where}, which the patch ${verb}`;
  return waitedMs === undefined ? `${what}; try again later` : `${what}, and did not leave it within ${formatSeconds(waitedMs)}`;
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

/** The patch (same id: same PO file bytes) is already applied to the process. */
export class AlreadyAppliedError extends ApplierError {
  constructor(readonly pid: number, readonly poName: string, readonly id: string, readonly appliedAt: Date) {
    super(`${poName} (patch ${id.slice(0, 12)}) is already applied to pid ${pid}, since ${appliedAt.toISOString()}`, undefined, 'E_ALREADY_APPLIED');
  }
}

/** The process has other patches applied than the ones the PO was made on top of. */
export class BaseMismatchError extends ApplierError {
  constructor(readonly pid: number, readonly poName: string, readonly applied: string[], readonly expected: string[]) {
    const list = (ids: string[]) => (ids.length === 0 ? 'none' : `[${ids.map((id) => id.slice(0, 12)).join(', ')}]`);
    super(
      `pid ${pid} has ${applied.length === 0 ? 'no patches' : `patches ${list(applied)}`} applied, but ${poName} expects ${list(expected)}`,
      undefined,
      'E_BASE',
    );
  }
}

/** `katana rollback` found no patch to roll back in the process. */
export class NothingAppliedError extends ApplierError {
  constructor(readonly pid: number) {
    super(`pid ${pid} has no patches applied; there is nothing to roll back`, undefined, 'E_NOTHING_APPLIED');
  }
}

/** A patch named for rollback is not in the process's registry (or the name fits several). */
export class UnknownPatchError extends ApplierError {
  constructor(readonly pid: number, readonly patch: string, detail: string) {
    super(`pid ${pid} has no applied patch ${patch}: ${detail}`, undefined, 'E_UNKNOWN_PATCH');
  }
}

/** A patch named for rollback has patches applied above it that were not named too. */
export class PatchUnderOthersError extends ApplierError {
  constructor(readonly pid: number, readonly patch: string, readonly above: string[]) {
    super(
      `patch ${patch} of pid ${pid} is under ${above.join(', ')}; roll ${above.length === 1 ? 'it' : 'them'} back with it (name ${above.length === 1 ? 'it' : 'them all'}, or --all)`,
      undefined,
      'E_PATCH_UNDER',
    );
  }
}

/**
 * A patch that transformed data cannot be rolled back: a type has no reverse program, or the entry
 * was written by a katana that recorded none. Its old code would run on stale storage.
 */
export class DataRollbackError extends ApplierError {
  constructor(readonly pid: number, readonly patch: string, readonly reason: string) {
    super(`patch ${patch} of pid ${pid} cannot be rolled back: ${reason}`, undefined, 'E_DATA_ROLLBACK');
  }
}

/** The in-target patch registry cannot be decoded (corrupt, or written by a newer katana). */
export class RegistryFormatError extends ApplierError {
  constructor(readonly where: string, detail: string) {
    super(`the patch registry of ${where} is unreadable: ${detail}`, undefined, 'E_REGISTRY_FORMAT');
  }
}

/** The patch is for a shared library the process has not loaded (or has loaded in another build). */
export class LibraryNotLoadedError extends ApplierError {
  constructor(readonly pid: number, readonly poName: string, readonly library: string, readonly buildId: string, readonly loaded?: { path: string; buildId: string | undefined }) {
    super(
      `${poName} is for the library ${library} (build-id ${buildId}), which pid ${pid} has not loaded` +
        (loaded === undefined ? '' : `: it has ${loaded.path} with ${loaded.buildId === undefined ? 'no build-id' : `build-id ${loaded.buildId}`}`),
      undefined,
      'E_BUILD_ID',
    );
  }
}

/** A data transformation of the patch cannot run on this process (a malformed program, storage that cannot be read). */
export class DataTransformError extends ApplierError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'E_DATA_TRANSFORM');
  }
}
