// The errors the emitter raises. The CLI maps them to exit codes: NothingToPatchError → 3 (kpatch's
// "no changed functions"), UnsupportedChangeError → 2 (a diff katana cannot turn into a safe patch),
// EmitterError → 1 (bad input: not ELF, not in the store, ...).
import { KatanaError } from '@katana/errors';

/** Bad input: a path that is not an ELF file, a build-id missing from the store, an ambiguous symbol. */
export class EmitterError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_EMITTER_INPUT', message, options);
  }
}

/** OLD and NEW compile to the same functions: there is nothing to patch. */
export class NothingToPatchError extends KatanaError {
  constructor(message = 'no function changed between OLD and NEW', options?: { cause?: unknown }) {
    super('E_NOTHING_CHANGED', message, options);
  }
}

/** A change katana cannot patch safely (a changed variable type, a new TLS variable, a tiny function, ...). */
export class UnsupportedChangeError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_UNSUPPORTED_CHANGE', message, options);
  }
}
