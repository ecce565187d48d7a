// `katana list --pid PID`: the patches applied to a running process, oldest first, read from its
// in-target registry without stopping it (or, before any live apply, from the patch record of its
// executable file): id, name, time applied, functions redirected, area.
// `katana list --file EXE`: the patches an executable patched on disk (`apply --file`) carries.
import { parseCommandArgs, parsePid } from '../args.js';
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
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
