// Runs the real compiler with katana-cc's own stdin, stdout and stderr, so that its output and
// messages reach the build untouched, and turns how it ended into an exit status for katana-cc.
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { WrapperError } from '../errors.js';

/** Runs `compiler args...` in cwd with inherited stdio and returns its exit status (128+n on signal n). */
export function runCompiler(compiler: string, args: readonly string[], cwd: string): number {
  const result = spawnSync(compiler, args, { cwd, stdio: 'inherit' });
  if (result.error) {
    throw new WrapperError(`cannot run the real compiler ${compiler}: ${result.error.message}`, { cause: result.error });
  }
  if (result.signal) return 128 + (constants.signals[result.signal] ?? 0);
  return result.status ?? 1;
}
