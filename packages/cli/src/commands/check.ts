// `katana check --pid PID PO`: would `katana apply` find a safe moment right now? Runs the same
// analysis as apply (build-id, symbols, every thread's stack walked with CFI) while changing nothing
// in the target, and lists what blocks the patch: each thread with its unsafe function and callers.
// Exit 0 when the patch could be applied now, EXIT_BLOCKED when a thread blocks it.
import { basename } from 'node:path';
import { parseCommandArgs, parsePid } from '../args.js';
import { EXIT_BLOCKED } from '../exit-codes.js';
import { toJson } from '../json.js';
import { readInputFile } from '../read-input.js';
import { UsageError } from '../usage-error.js';

export const checkUsage = 'katana check --pid PID PO [--json]';

/** Runs `katana check`; returns the exit code. */
export async function checkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('check', argv, {
    pid: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(`usage: ${checkUsage}`);
  const pid = parsePid(values.pid);
  const file = positionals[0]!;
  const [{ readPatchObject, patchObjectId }, { checkPatch, describeUnsafeFunction }] = await Promise.all([import('@katana/po'), import('@katana/applier')]);
  const name = basename(file);
  const bytes = readInputFile(file);
  const po = readPatchObject(bytes, name);
  const report = checkPatch({ pid, po, poName: name, id: patchObjectId(bytes) });
  if (values.json) {
    process.stdout.write(`${toJson({ ok: true, patch: file, ...report })}\n`);
  } else if (report.canApplyNow) {
    process.stdout.write(`katana check: ${name} could be applied to pid ${pid} now (${report.threads} thread(s) checked, none in unsafe code)\n`);
  } else {
    const lines = report.blocking.map((t) =>
      t.how === 'unreliable stack'
        ? `  thread ${t.tid} has an unreliable stack in ${describeUnsafeFunction(t)}: ${t.reason}`
        : `  thread ${t.tid} ${t.how} ${describeUnsafeFunction(t)}, which the patch ${t.why ?? 'replaces'}`);
    process.stdout.write(`katana check: ${name} cannot be applied to pid ${pid} now; ${report.blocking.length} of ${report.threads} thread(s) block it:\n${lines.join('\n')}\n`);
  }
  return report.canApplyNow ? 0 : EXIT_BLOCKED;
}
