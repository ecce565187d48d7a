// `katana compose A.po B.po -o AB.po`: one patch that does what applying A and then B does, for a B
// made with `katana diff --after A.po`. AB goes where A goes (A's base); `katana list` then shows
// one entry for it, redirecting the union of A's and B's functions.
import { basename } from 'node:path';
import { parseCommandArgs } from '../args.js';
import { toJson } from '../json.js';
import { readInputFile, writeOutputFile } from '../read-input.js';
import { UsageError } from '../usage-error.js';

export const composeUsage = 'katana compose A.po B.po -o AB.po [--json]';

/** Runs `katana compose`; returns the exit code. */
export async function composeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('compose', argv, { output: { type: 'string', short: 'o' }, json: { type: 'boolean' } });
  if (positionals.length !== 2 || !values.output) throw new UsageError(`usage: ${composeUsage}`);
  const { readPatchObject, composePatchObjects, writePatchObject, patchObjectId } = await import('@katana/po');
  const [fileA, fileB] = positionals as [string, string];
  const names = { a: basename(fileA), b: basename(fileB) };
  const bytesA = readInputFile(fileA);
  const a = readPatchObject(bytesA, names.a);
  const b = readPatchObject(readInputFile(fileB), names.b);
  const composed = composePatchObjects(a, b, { idA: patchObjectId(bytesA), names });
  const bytes = writePatchObject(composed);
  writeOutputFile(values.output, bytes);
  const redirected = composed.functions.filter((f) => f.replaces !== undefined).map((f) => f.name);
  if (values.json) {
    process.stdout.write(`${toJson({ ok: true, output: values.output, bytes: bytes.length, id: patchObjectId(bytes), basePatches: composed.basePatches, functions: composed.functions.map((f) => f.name), redirected })}\n`);
  } else {
    process.stdout.write(
      `katana compose: wrote ${values.output} (${bytes.length} bytes, patch ${patchObjectId(bytes).slice(0, 12)}) = ${names.a} then ${names.b}: ` +
        `${composed.functions.length} function(s), ${redirected.length} redirected (${redirected.join(', ') || 'none'})\n`,
    );
  }
  return 0;
}
