// Checks shared by the integration tests: tools read a PO without a warning, a target's memory map
// is unchanged by a refused apply.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';

/**
 * Runs readelf -a -W, readelf --debug-dump=info,frames (.debug_info, the PO's .eh_frame and
 * .debug_frame), objdump -dr, llvm-dwarfdump --verify and --debug-frame, and dwarfdump -a (libdwarf)
 * on a file; throws with the output if any warns or fails.
 */
export async function assertToolsReadCleanly(file: string): Promise<void> {
  for (const [tool, args] of [
    ['readelf', ['-a', '-W', file]],
    ['readelf', ['--debug-dump=info,frames', '-W', file]],
    ['objdump', ['-dr', file]],
    ['llvm-dwarfdump', ['--verify', file]],
    ['llvm-dwarfdump', ['--debug-frame', '--debug-info', file]],
    ['dwarfdump', ['-a', file]],
  ] as const) {
    const r = await execa(tool, args, { reject: false });
    const warnings = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => WARNING.test(l));
    if (r.exitCode !== 0 || r.stderr !== '' || warnings.length > 0) {
      throw new Error(`${tool} ${args.join(' ')} exited ${r.exitCode} with: ${r.stderr || warnings.join('\n')}`);
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
