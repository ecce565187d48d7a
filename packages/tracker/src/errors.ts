// The error @katana/tracker reports: the watcher cannot start (folder missing, another watcher on
// the same tree) or cannot write its journal.
import { KatanaError } from '@katana/errors';

/** `katana watch` could not start or keep its journal. */
export class TrackerError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_TRACKER', message, options);
  }
}
