// `katana rollback --pid PID [PATCH... | --all]`: remove patches from a running process, newest
// first (the newest one by default). A patch with patches above it goes only together with them:
// name them all, or --all. Same safety check and wait as apply: no thread may be in, or return
// into, the code being removed. A patch that transformed data transforms it back (its objects go
// back to the layout before it; what that layout has no room for is dropped, and said). Exit 3
// when the process has no patch to roll back.
import type { RolledBackData } from '@katana/applier';
import { parseCommandArgs, parsePid, parseSeconds } from '../args.js';
import { describeIntermediate, describeLeftAlone, describeMovedBlocks } from '../data-report.js';
import { toJson } from '../json.js';
import { UsageError } from '../usage-error.js';

export const rollbackUsage = 'katana rollback --pid PID [PATCH... | --all] [--timeout SECONDS] [--free-old] [--json]   (PATCH: an id prefix or a PO name)';

/** Runs `katana rollback`; returns the exit code. */
export async function rollbackCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('rollback', argv, {
    pid: { type: 'string' },
    all: { type: 'boolean' },
    timeout: { type: 'string' },
    'free-old': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.all && positionals.length > 0) throw new UsageError(`usage: ${rollbackUsage} (--all or patches, not both)`);
  const pid = parsePid(values.pid);
  const timeoutMs = values.timeout === undefined ? undefined : parseSeconds('--timeout', values.timeout);
  const { rollbackPatches } = await import('@katana/applier');
  const request = values.all ? { kind: 'all' as const } : positionals.length > 0 ? { kind: 'named' as const, patches: positionals } : { kind: 'newest' as const };
  const report = rollbackPatches({ pid, request, ...(timeoutMs === undefined ? {} : { timeoutMs }), freeOld: values['free-old'] === true });
  for (const warning of report.warnings) process.stderr.write(`katana rollback: warning: ${warning}\n`);
  if (values.json) {
    process.stdout.write(`${toJson({ ok: true, ...report })}\n`);
    return 0;
  }
  const label = (p: { id: string; name: string }) => `${p.name} (${p.id.slice(0, 12)})`;
  const removed = report.rolledBack.map((p) => `${label(p)}: ${p.functions.length === 0 ? 'no function' : p.functions.join(', ')}`).join('; ');
  const left = report.remaining.length === 0 ? 'no patches remain' : `still applied: ${report.remaining.map(label).join(', ')}`;
  process.stdout.write(
    `katana rollback: rolled back ${report.rolledBack.length} patch(es) of pid ${pid}, newest first: ${removed}; ${left}; ` +
      `${report.threads} thread(s) stopped for ${report.stoppedMicros} µs` +
      `${report.attempts > 1 ? ` (safe on attempt ${report.attempts})` : ''}; ${report.totalMillis} ms in all\n`,
  );
  for (const p of report.rolledBack) if (p.data) process.stdout.write(`katana rollback: ${describeDataBack(label(p), p.data)}\n`);
  return 0;
}

/** One line on what transforming a patch's data back did: objects moved back, members dropped, blocks left. */
function describeDataBack(patch: string, d: RolledBackData): string {
  const parts = [`data of ${patch} transformed back: ${d.globals} global object(s)${d.stages > 1 ? ` in ${d.stages} stages` : ''}`];
  const blocks = d.moved.reduce((n, m) => n + m.blocks, 0);
  if (blocks > 0) parts.push(`${blocks} heap block(s) moved back to blocks of the old layout (${describeMovedBlocks(d)})`);
  const intermediate = describeIntermediate(d);
  if (intermediate) parts.push(intermediate);
  if (d.updatedInPlace > 0) parts.push(`${d.updatedInPlace} heap block(s) updated in place`);
  for (const member of d.dropped) parts.push(`${member} is dropped`);
  if (d.freedOld) parts.push('blocks of the patch\'s layout freed');
  else if (d.bytesLeftBehind > 0) parts.push(`${d.bytesLeftBehind} bytes of blocks in the patch's layout left allocated (--free-old frees them)`);
  if (d.nulls > 0) parts.push(`${d.nulls} NULL pointer(s)`);
  const leftAlone = describeLeftAlone(d);
  if (leftAlone) parts.push(leftAlone);
  return parts.join('; ');
}
