// The one error the real-world proof and the katana-cc overhead benchmark raise: a step that did
// not go as expected (a missing tool, a failed build, a target that did not behave). Its message
// is the single line the scripts print before exiting non-zero.
import { KatanaError } from '@katana/errors';

export class RealWorldError extends KatanaError {
  constructor(message, options) {
    super('E_REAL_WORLD', message, options);
  }
}
