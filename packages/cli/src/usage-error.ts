// The error for a command line that cannot be understood; the message says which option is wrong.
import { KatanaError } from '@katana/errors';

export class UsageError extends KatanaError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}
