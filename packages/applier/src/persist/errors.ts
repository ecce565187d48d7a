// The errors of writing a patch into an executable file (`katana apply --file`). They keep the codes
// of their live counterparts where the meaning is the same (E_ALREADY_APPLIED, E_BASE), so the CLI
// maps them to the same exit codes; everything particular to files is PersistError (E_PERSIST).
import { ApplierError } from '../errors.js';

/** The file cannot carry this patch (a shared library, a library call it does not import, a 32-bit absolute address in a PIE, no room for a segment). */
export class PersistError extends ApplierError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options, 'E_PERSIST');
  }
}

/** The file's patch record already lists this patch (same PO file bytes). */
export class FileAlreadyPatchedError extends ApplierError {
  constructor(readonly path: string, readonly poName: string, readonly id: string, readonly appliedAt: Date) {
    super(`${poName} (patch ${id.slice(0, 12)}) is already applied to ${path}, since ${appliedAt.toISOString()}`, undefined, 'E_ALREADY_APPLIED');
  }
}

/** The file carries other patches than the ones the PO was made on top of. */
export class FileBaseMismatchError extends ApplierError {
  constructor(readonly path: string, readonly poName: string, readonly applied: string[], readonly expected: string[]) {
    const list = (ids: string[]) => (ids.length === 0 ? 'none' : `[${ids.map((id) => id.slice(0, 12)).join(', ')}]`);
    super(
      `${path} has ${applied.length === 0 ? 'no patches' : `patches ${list(applied)}`} applied, but ${poName} expects ${list(expected)}`,
      undefined,
      'E_BASE',
    );
  }
}

/** The patch was made for another build than the file's. */
export class FileBuildIdMismatchError extends ApplierError {
  constructor(readonly path: string, readonly poName: string, readonly expected: string, readonly actual: string | undefined) {
    super(`${poName} is for build-id ${expected}, but ${path} has ${actual === undefined ? 'no build-id' : `build-id ${actual}`}`, undefined, 'E_BUILD_ID');
  }
}
