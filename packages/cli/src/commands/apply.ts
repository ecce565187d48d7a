// `katana apply --pid PID PO`: hot-patch a running process. On any failure the target is left as
// it was (the applier undoes every write) and the error is one line with a non-zero exit. The
// patch's id is the sha256 of the PO file; the same file again exits 4 (already applied).
// `--exe PATH` instead patches every process running the file PATH (apply-exe.ts).
// `katana apply --file EXE PO -o OUT`: write OUT, a copy of EXE that starts already patched and
// records the patch (EXE itself is left alone unless OUT names it).
import { basename } from 'node:path';
import { applyToExecutable } from '../apply-exe.js';
import { parseCommandArgs, parsePid, parseSeconds } from '../args.js';
import { describeIntermediate, describeLeftAlone, describeMovedBlocks, stageTag } from '../data-report.js';
import { toJson } from '../json.js';
import { readInputFile } from '../read-input.js';
import { UsageError } from '../usage-error.js';
import type { DataReport } from '@katana/applier';

export const applyUsage = 'katana apply (--pid PID | --exe PATH | --file EXE -o OUT) PO [--timeout SECONDS] [--free-old] [--json]';

/** Runs `katana apply`; returns the exit code. */
export async function applyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('apply', argv, {
    pid: { type: 'string' },
    exe: { type: 'string' },
    file: { type: 'string' },
    output: { type: 'string', short: 'o' },
    timeout: { type: 'string' },
    'free-old': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(`usage: ${applyUsage}`);
  if (values.file !== undefined) {
    if (values.pid !== undefined || values.timeout !== undefined) throw new UsageError(`--file patches a file, not a process: drop --pid and --timeout; usage: ${applyUsage}`);
    if (values.output === undefined) throw new UsageError(`--file EXE needs -o OUT, the patched executable to write; usage: ${applyUsage}`);
    return applyToFile(values.file, values.output, positionals[0]!, values.json === true);
  }
  if (values.output !== undefined) throw new UsageError(`-o OUT goes with --file EXE; usage: ${applyUsage}`);
  if (values.exe !== undefined && values.pid !== undefined) throw new UsageError('give --pid PID or --exe PATH, not both');
  const pid = values.exe === undefined ? parsePid(values.pid) : undefined;
  const timeoutMs = values.timeout === undefined ? undefined : parseSeconds('--timeout', values.timeout);
  const file = positionals[0]!;
  const [{ readPatchObject, patchObjectId, demangle }, { applyPatch }] = await Promise.all([import('@katana/po'), import('@katana/applier')]);
  const bytes = readInputFile(file);
  const po = readPatchObject(bytes, basename(file));
  const id = patchObjectId(bytes);
  if (pid === undefined) return applyToExecutable(values.exe!, po, id, file, timeoutMs);
  const report = applyPatch({ pid, po, poName: basename(file), id, ...(timeoutMs === undefined ? {} : { timeoutMs }), freeOld: values['free-old'] === true });
  if (values.json) {
    process.stdout.write(`${toJson({ ok: true, patch: file, ...report })}\n`);
  } else {
    const names = demangle(report.functions.map((f) => f.name)).join(', ');
    // Data patching: which variables now live in the patch, with their type and sizes.
    const staged = report.moved.some((m) => m.stage > 0);
    const moved = report.moved.map((m) => `${m.variable} (${m.file})${stageTag(staged, m.stage)}: ${m.type}${m.count > 1 ? ` x${m.count}` : ''}, ${m.inPlace ? 'its pointers updated in place' : `${m.oldSize} -> ${m.newSize} bytes`}`);
    process.stdout.write(
      `katana apply: patched pid ${pid} with ${basename(file)} (patch ${report.id.slice(0, 12)}): ${report.functions.length} function(s) redirected (${names}); ` +
        `${moved.length > 0 ? `${moved.length} variable(s) moved (${moved.join('; ')}); ` : ''}` +
        `${report.threads} thread(s) stopped for ${report.stoppedMicros} µs` +
        `${report.attempts > 1 ? ` (safe on attempt ${report.attempts})` : ''}; ${report.totalMillis} ms in all\n`,
    );
    if (report.data) process.stdout.write(`katana apply: ${describeData(report.data)}\n`);
  }
  for (const warning of report.warnings) process.stderr.write(`katana apply: warning: ${warning}\n`);
  return 0;
}

/** One line on what data patching did: objects moved, bytes left behind, pointers not followed. */
function describeData(d: DataReport): string {
  const parts = [`data: ${d.globals} global object(s) transformed${d.stages > 1 ? ` in ${d.stages} stages` : ''}`];
  const blocks = d.moved.reduce((n, m) => n + m.blocks, 0);
  if (blocks > 0) parts.push(`${blocks} heap block(s) moved to new blocks (${describeMovedBlocks(d)})`);
  const intermediate = describeIntermediate(d);
  if (intermediate) parts.push(intermediate);
  if (d.updatedInPlace > 0) parts.push(`${d.updatedInPlace} heap block(s) updated in place`);
  // Old blocks the process had: freed with --free-old, else left (intermediate ones are neither).
  if (d.freedOld) parts.push('old blocks freed');
  else if (d.bytesLeftBehind > 0) parts.push(`${d.bytesLeftBehind} bytes of old blocks left allocated (--free-old frees them)`);
  if (d.transformerCalls > 0) parts.push(`${d.transformerCalls} transformer call(s)`);
  if (d.nulls > 0) parts.push(`${d.nulls} NULL pointer(s)`);
  const leftAlone = describeLeftAlone(d);
  if (leftAlone) parts.push(leftAlone);
  return parts.join('; ');
}

async function applyToFile(exe: string, output: string, file: string, json: boolean): Promise<number> {
  const [{ readPatchObject, patchObjectId }, { applyPatchToFile }] = await Promise.all([import('@katana/po'), import('@katana/applier')]);
  const bytes = readInputFile(file);
  const po = readPatchObject(bytes, basename(file));
  const report = applyPatchToFile({ input: exe, output, po, poName: basename(file), id: patchObjectId(bytes) });
  if (json) {
    process.stdout.write(`${toJson({ ok: true, patch: file, ...report })}\n`);
  } else {
    const names = report.functions.map((f) => f.name).join(', ');
    const segments = report.segments.map((s) => `${s.flags} 0x${s.vaddr.toString(16)}`).join(', ');
    process.stdout.write(
      `katana apply: wrote ${output}, ${exe} with ${basename(file)} (patch ${report.id.slice(0, 12)}): ${report.functions.length} function(s) redirected (${names}); ` +
        `new segments ${segments}; ${report.patches.length} patch(es) recorded\n`,
    );
  }
  return 0;
}
