// Errors raised while reading or validating a Patch Object.
import { KatanaError } from '@katana/errors';

/** A file that is not a Patch Object, or one whose contents contradict themselves. */
export class PoFormatError extends KatanaError {
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('E_PO_FORMAT', `${file} is not a valid Patch Object: ${detail}`, options);
  }
}

/** Two Patch Objects that cannot be composed (the second is not made on top of the first). */
export class ComposeError extends KatanaError {
  constructor(message: string) {
    super('E_COMPOSE', message);
  }
}
