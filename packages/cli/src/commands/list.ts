// `katana list --pid PID`: the patches applied to a running process, oldest first, read from its
// in-target registry without stopping it (or, before any live apply, from the patch record of its
// executable file): id, name, time applied, functions redirected, area, and the data a patch
// transformed (variables, types, whether a rollback can transform them back and what it drops).
// `katana list --file EXE`: the patches an executable patched on disk (`apply --file`) carries.
import { parseCommandArgs, parsePid } from '../args.js';
import { stageTag } from '../data-report.js';
import { toJson } from '../json.js';
import { readInputFile } from '../read-input.js';
import { UsageError } from '../usage-error.js';

export const listUsage = 'katana list (--pid PID | --file EXE) [--json]';

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Runs `katana list`; returns the exit code. */
export async function listCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('list', argv, { pid: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length !== 0 || (values.pid !== undefined && values.file !== undefined)) throw new UsageError(`usage: ${listUsage}`);
  const [{ appliedPatches, readFileRegistry }, { shortPatchId }] = await Promise.all([import('@katana/applier'), import('@katana/po')]);
  const file = values.file;
  const pid = file === undefined ? parsePid(values.pid) : undefined;
  if (file !== undefined) readInputFile(file); // a missing or unreadable file: one line naming it
  const entries = pid !== undefined ? appliedPatches(pid) : readFileRegistry(file!);
  const subject = file ?? `pid ${pid}`;
  if (values.json) {
    const patches = entries.map((e) => ({
      id: e.id,
      shortId: shortPatchId(e.id),
      name: e.name,
      appliedAt: new Date(e.appliedAt).toISOString(),
      area: e.area,
      functions: e.functions.map((f) => ({ name: f.name, address: f.address, to: f.to, original: Buffer.from(f.original).toString('hex') })),
      ...(e.cfi === undefined ? {} : { cfi: e.cfi }),
      movedVariables: e.movedVariables,
      ...(e.data === undefined
        ? {}
        : {
            data: {
              ...(e.data.allocator === undefined ? {} : { allocator: e.data.allocator }),
              types: e.data.types.map((t) => ({ name: t.name, oldSize: t.oldSize, newSize: t.newSize, reversible: t.rollback !== undefined, dropped: t.dropped })),
              variables: e.data.variables,
            },
          }),
    }));
    process.stdout.write(`${toJson({ ok: true, ...(file === undefined ? { pid } : { file }), patches })}\n`);
    return 0;
  }
  if (entries.length === 0) {
    process.stdout.write(`${subject}: no patches applied\n`);
    return 0;
  }
  const lines = [`${subject}: ${entries.length} patch(es) applied, oldest first`];
  entries.forEach((e, i) => {
    lines.push(`${i + 1}. ${shortPatchId(e.id)}  ${e.name}  applied ${new Date(e.appliedAt).toISOString()}  area ${hex(e.area.start)} (${e.area.size} bytes)`);
    for (const f of e.functions) lines.push(`     ${f.name} at ${hex(f.address)} -> ${hex(f.to)}`);
    if (e.data === undefined) {
      if (e.movedVariables > 0) lines.push(`     data: ${e.movedVariables} variable(s) transformed, recorded by an older katana: it cannot be rolled back`);
      return;
    }
    const types = e.data.types;
    // A composed patch transformed in stages; each variable says which.
    const staged = e.data.variables.some((v) => v.stage > 0);
    for (const v of e.data.variables) {
      const where = v.inPlace ? `updated in place at ${hex(v.oldAddress)}` : `moved from ${hex(v.oldAddress)} to ${hex(v.newAddress)}`;
      lines.push(`     data: ${v.name}${v.file ? ` (${v.file})` : ''}${stageTag(staged, v.stage)}, ${v.pointer ? 'pointer to ' : ''}${types[v.type]?.name ?? '?'}, ${where}`);
    }
    for (const t of types) {
      const drops = t.dropped.length === 0 ? '' : `, dropping ${t.dropped.join(', ')}`;
      lines.push(`     type: ${t.name}, ${t.oldSize} -> ${t.newSize} bytes; ${t.rollback === undefined ? 'no reverse program: it cannot be rolled back' : `a rollback transforms it back${drops}`}`);
    }
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
