// `katana inspect PO`: what a patch contains and needs, read from the PO alone.
import { basename } from 'node:path';
import { parseCommandArgs } from '../args.js';
import { toJson } from '../json.js';
import { readInputFile } from '../read-input.js';
import { UsageError } from '../usage-error.js';

export const inspectUsage = 'katana inspect PO [--json]';

/** Runs `katana inspect`; returns the exit code. */
export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('inspect', argv, { json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError(`usage: ${inspectUsage}`);
  const file = positionals[0]!;
  const { readPatchObject, describePatchObject, formatPatchDescription } = await import('@katana/po');
  const description = describePatchObject(readPatchObject(readInputFile(file), basename(file)));
  process.stdout.write(values.json ? `${toJson(description)}\n` : `${formatPatchDescription(description, file)}\n`);
  return 0;
}
