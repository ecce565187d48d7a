// Runs the katana CLI as a user would, capturing its exit code and output (never throwing on a
// non-zero exit: the tests assert on it).
import { execa } from 'execa';
import { bin } from './paths.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `katana ARGS` in `cwd` with `env` added. */
export async function katana(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa(bin('katana'), args, { cwd, env, reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
