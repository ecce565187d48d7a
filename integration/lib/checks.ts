// Checks shared by the integration tests: tools read a PO without a warning, a target's memory map
// is unchanged by a refused apply.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';

/** One run of a tool on a file: its exit code (undefined when it could not start) and output. */
export interface ToolRun {
  tool: string;
  args: string[];
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** The readers a PO must satisfy: its ELF structure, .debug_info, .eh_frame and .debug_frame, its code. */
export const PO_READERS: readonly (readonly [string, readonly string[]])[] = [
  ['readelf', ['-a', '-W']],
  ['readelf', ['--debug-dump=info,frames', '-W']],
  ['objdump', ['-dr']],
  ['llvm-dwarfdump', ['--verify']],
  ['llvm-dwarfdump', ['--debug-frame', '--debug-info']],
  ['dwarfdump', ['-a']],
];

/** Runs each tool with its arguments and `file` last, never throwing on a failure (a missing tool has no exit code). */
export async function runTools(file: string, tools: readonly (readonly [string, readonly string[]])[] = PO_READERS): Promise<ToolRun[]> {
  const runs: ToolRun[] = [];
  for (const [tool, args] of tools) {
    const r = await execa(tool, [...args, file], { reject: false });
    runs.push({ tool, args: [...args], exitCode: r.exitCode, stdout: String(r.stdout), stderr: r.exitCode === undefined ? `cannot run ${tool} (is it installed?): ${r.message ?? ''}` : String(r.stderr) });
  }
  return runs;
}

/**
 * Runs readelf -a -W, readelf --debug-dump=info,frames (.debug_info, the PO's .eh_frame and
 * .debug_frame), objdump -dr, llvm-dwarfdump --verify and --debug-frame, and dwarfdump -a (libdwarf)
 * on a file; throws with the output if any warns or fails.
 */
export async function assertToolsReadCleanly(file: string): Promise<void> {
  for (const r of await runTools(file)) {
    const warnings = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => WARNING.test(l));
    if (r.exitCode !== 0 || r.stderr !== '' || warnings.length > 0) {
      throw new Error(`${r.tool} ${r.args.join(' ')} exited ${r.exitCode} with: ${r.stderr || warnings.join('\n')}`);
    }
  }
}

/**
 * A diagnostic line of these tools ("readelf: Warning: ...", "warning: ...", "ERROR: ...", llvm-dwarfdump's
 * "Errors detected."), and not a name that merely contains the word (a struct member `errors`).
 */
const WARNING = /\b(warning|error)\b\s*:|errors detected/i;

/** The lines of /proc/PID/maps. */
export function readMaps(pid: number): string {
  return readFileSync(`/proc/${pid}/maps`, 'utf8');
}
