// Exit codes of every katana command (kpatch's exit_status convention), and the mapping from
// typed errors to them. Deploy tools rely on these numbers: they never change meaning.
import { isKatanaError } from '@katana/errors';

export const EXIT_OK = 0;
/** Any other error: bad input, no such process, build-id mismatch, ... */
export const EXIT_ERROR = 1;
/** The two builds differ in a way katana cannot turn into a patch (e.g. a changed struct layout). */
export const EXIT_UNRECONCILABLE = 2;
/** The two builds have no difference to patch; `katana rollback`: the process has no patch applied. */
export const EXIT_NOTHING_TO_PATCH = 3;
/** `katana apply`: this very PO (same file bytes) is already applied to the process. */
export const EXIT_ALREADY_APPLIED = 4;
/** `katana check` and `katana apply`: the patch cannot be applied at this moment (for apply: not within --timeout) (a thread is in or returning into unsafe code). */
export const EXIT_BLOCKED = 5;
/** `katana apply --exe PATH`: no running process has PATH as its executable. */
export const EXIT_NO_PROCESS = 6;
/** Command-line usage errors (unknown option, missing argument). */
export const EXIT_USAGE = 64;

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): number {
  if (!isKatanaError(error)) return EXIT_ERROR;
  switch (error.code) {
    case 'E_USAGE':
      return EXIT_USAGE;
    case 'E_UNSUPPORTED_CHANGE':
      return EXIT_UNRECONCILABLE;
    case 'E_NOTHING_CHANGED':
    case 'E_NOTHING_APPLIED':
      return EXIT_NOTHING_TO_PATCH;
    case 'E_ALREADY_APPLIED':
      return EXIT_ALREADY_APPLIED;
    case 'E_UNSAFE':
      return EXIT_BLOCKED;
    case 'E_EXE_NOT_RUNNING':
      return EXIT_NO_PROCESS;
    default:
      return EXIT_ERROR;
  }
}
