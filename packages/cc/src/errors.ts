// The errors @katana/cc reports: StoreError when the object store cannot be read or written, and
// WrapperError when katana-cc itself cannot do its job (the real compiler cannot be started, a
// response file cannot be read). Both print as one line `katana-cc: <message>`.
import { KatanaError } from '@katana/errors';

/** The object store (.katana/) could not be read or written. */
export class StoreError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_STORE', message, options);
  }
}

/** katana-cc / katana-c++ could not run the real compiler or understand its own input. */
export class WrapperError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CC', message, options);
  }
}
