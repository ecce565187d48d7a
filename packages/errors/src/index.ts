// The base of every error katana reports to a user. Each package derives one class with a stable
// `code` (E_ELF_FORMAT, E_PTRACE, ...); the CLI turns any KatanaError into one line and an exit code,
// and anything else into a bug report.

/** An error a user can hit, with a stable code and a one-sentence message. */
export class KatanaError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for errors katana raised on purpose (as opposed to bugs). */
export function isKatanaError(error: unknown): error is KatanaError {
  return error instanceof KatanaError;
}
