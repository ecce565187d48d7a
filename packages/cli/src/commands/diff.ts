// `katana diff --old OLD --new NEW -o OUT.po`: diff two builds recorded by katana-cc into a Patch
// Object. Exit 3 when nothing changed, 2 when the change cannot be patched. `--after PREV.po` makes
// a patch for a process that already has PREV (and PREV's own base) applied. OLD may then be the
// build PREV turned the program into (v2, for a v2 → v3 patch): the running executable (v1, PREV's
// build-id) is `--target`, or else the file the object store recorded for that build-id. When `katana watch`
// journaled the build of NEW, only the objects it saw change are compared (journal.ts).
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ObjectStore } from '@katana/cc';
import { parseCommandArgs } from '../args.js';
import { journalRestriction } from '../journal.js';
import { toJson } from '../json.js';
import { InputError, readInputFile, writeOutputFile } from '../read-input.js';
import { UsageError } from '../usage-error.js';

export const diffUsage = 'katana diff --old OLD --new NEW -o OUT.po [--after PREV.po] [--target OLD_EXE] [--store DIR] [--no-journal] [--json]';

/** Runs `katana diff`; returns the exit code. */
export async function diffCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('diff', argv, {
    old: { type: 'string' },
    new: { type: 'string' },
    output: { type: 'string', short: 'o' },
    target: { type: 'string' },
    store: { type: 'string' },
    after: { type: 'string' },
    'no-journal': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (!values.old || !values.new || !values.output) throw new UsageError(`usage: ${diffUsage}`);
  const [{ diffBuilds }, { ObjectStore, findProjectRoot }, { writePatchObject, readPatchObject, patchObjectId, demangle }] = await Promise.all([
    import('@katana/emitter'),
    import('@katana/cc'),
    import('@katana/po'),
  ]);
  // The base: PREV's own base, then PREV itself.
  let basePatches: string[] = [];
  let previous: { name: string; buildId: string } | undefined;
  if (values.after) {
    const bytes = readInputFile(values.after);
    const prev = readPatchObject(bytes, basename(values.after));
    basePatches = [...(prev.basePatches ?? []), patchObjectId(bytes)];
    previous = { name: basename(values.after), buildId: prev.targetBuildId };
  }
  const cwd = process.cwd();
  const store = values.store ? new ObjectStore(resolve(values.store), findProjectRoot(cwd)) : ObjectStore.locate({ cwd });
  const say = (line: string) => process.stderr.write(`katana diff: ${line}\n`);
  const { compareOnly, use } = values['no-journal']
    ? { compareOnly: undefined, use: { used: false, reason: '--no-journal' } }
    : await journalRestriction(store, resolve(values.old), resolve(values.new), say);
  const target = values.target ? resolve(values.target) : previous && (await originalExecutable(previous, resolve(values.old), store));
  const { po, report } = diffBuilds({
    old: resolve(values.old),
    new: resolve(values.new),
    store,
    ...(target ? { target } : {}),
    basePatches,
    ...(compareOnly ? { compareOnly } : {}),
  });
  if (previous && previous.buildId !== po.targetBuildId) {
    throw new InputError(`${previous.name} is for build-id ${previous.buildId}, but this patch is for build-id ${po.targetBuildId}; --after needs a patch of the same program`);
  }
  const bytes = writePatchObject(po);
  writeOutputFile(values.output, bytes);
  for (const warning of report.warnings) process.stderr.write(`katana diff: warning: ${warning}\n`);
  if (values.json) {
    process.stdout.write(`${toJson({ ok: true, output: values.output, bytes: bytes.length, id: patchObjectId(bytes), targetBuildId: po.targetBuildId, basePatches, journal: use, ...report })}\n`);
  } else {
    const parts = [`${report.changed.length} changed`, `${report.added.length} new function(s)`];
    if (report.newVariables.length) parts.push(`${report.newVariables.length} new variable(s)`);
    process.stdout.write(`katana diff: wrote ${values.output} (${bytes.length} bytes): ${parts.join(', ')} for ${po.targetName} build-id ${po.targetBuildId}${basePatches.length ? `, after patch ${basePatches[basePatches.length - 1]!.slice(0, 12)}` : ''}\n`);
    const names = demangle([...report.changed, ...report.added, ...report.newVariables].map((x) => x.name));
    const name = (): string => names.shift()!;
    for (const f of report.changed) process.stdout.write(`  changed  ${name()} (${f.file}) ${f.oldSize} -> ${f.newSize} bytes\n`);
    for (const f of report.added) process.stdout.write(`  new      ${name()} (${f.file}) ${f.size} bytes\n`);
    for (const v of report.newVariables) process.stdout.write(`  new var  ${name()} (${v.file}) ${v.size} bytes\n`);
  }
  return 0;
}

/**
 * The executable a patch made --after PREV goes into: OLD itself when it has PREV's build-id, else
 * the file the object store recorded for that build-id (undefined: OLD, and the build-id check refuses).
 */
async function originalExecutable(previous: { name: string; buildId: string }, old: string, store: ObjectStore): Promise<string | undefined> {
  const { ElfFile } = await import('@katana/elf');
  const buildIdOf = (path: string): string | undefined => {
    try {
      return ElfFile.open(path).buildId();
    } catch {
      return undefined; // a folder of objects, or not an ELF file: diffBuilds says so
    }
  };
  if (buildIdOf(old) === previous.buildId) return undefined;
  const output = store.readLink(previous.buildId)?.output;
  if (output !== undefined && existsSync(output) && buildIdOf(output) === previous.buildId) return output;
  throw new InputError(`${previous.name} is for build-id ${previous.buildId}, and no file with that build-id is known; name the running executable with --target`);
}
