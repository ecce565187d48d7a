// Checks shared by the integration tests: tools read a PO without a warning, a target's memory map
// is unchanged by a refused apply.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';

/** Runs readelf -a -W, readelf --debug-dump=frames (the PO's .eh_frame) and objdump -dr on a file; throws with the output if any warns. */
export async function assertToolsReadCleanly(file: string): Promise<void> {
  for (const [tool, args] of [
    ['readelf', ['-a', '-W', file]],
    ['readelf', ['--debug-dump=frames', '-W', file]],
    ['objdump', ['-dr', file]],
  ] as const) {
    const r = await execa(tool, args, { reject: false });
    const warnings = `${r.stderr}\n${r.stdout}`.split('\n').filter((l) => /warning|error/i.test(l));
    if (r.exitCode !== 0 || r.stderr !== '' || warnings.length > 0) {
      throw new Error(`${tool} ${args.join(' ')} exited ${r.exitCode} with: ${r.stderr || warnings.join('\n')}`);
    }
  }
}

/** The lines of /proc/PID/maps. */
export function readMaps(pid: number): string {
  return readFileSync(`/proc/${pid}/maps`, 'utf8');
}
