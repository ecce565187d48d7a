// The errors @katana/cc reports: StoreError when the object store cannot be read or written,
// WrapperError when katana-cc itself cannot do its job (the real compiler cannot be started, a
// response file cannot be read), and ArchiveError when a static archive cannot be read. They print as
// one line `katana-cc: <message>`.
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

/** A static archive (.a) katana-cc had to read to record a link is unreadable or malformed. */
export class ArchiveError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_ARCHIVE', message, options);
  }
}
