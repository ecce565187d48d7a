// Puts what a successful compiler call produced into the object store: each object with its
// manifest, and for a link, a record keyed by the output's build-id listing the objects it came
// from. Outputs that are not ELF files (a -o /dev/null, a tool that wrote something else) are
// not recorded.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Input, SourceInput } from '../args/classify.js';
import { sha256File } from '../hash.js';
import type { LinkRecord } from '../records.js';
import type { ObjectStore } from '../store.js';

/** What every record of one katana-cc call shares. */
export interface RecordContext {
  store: ObjectStore;
  /** the real compiler */
  compiler: string;
  /** the arguments katana-cc received, unexpanded */
  args: string[];
  cwd: string;
  /** prints a line when KATANA_VERBOSE is set */
  log: (message: string) => void;
}

/** A link input: as classified, or a source already compiled to an object by katana-cc. */
export type LinkInput = Input | { kind: 'compiled'; source: string; hash: string };

/** True when path is a regular file that starts with the ELF magic. */
export function isElfFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    const fd = openSync(path, 'r');
    try {
      const magic = Buffer.alloc(4);
      return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function projectPath(store: ObjectStore, cwd: string, path: string): string {
  const absolute = resolve(cwd, path);
  const rel = relative(store.projectRoot, absolute);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? absolute : rel;
}

/**
 * Stores the object file `objectFile` compiled from `source` and writes its manifest; `output` is
 * the path the build asked for. Returns the object's hash, or undefined when it is not ELF.
 */
export function recordObject(ctx: RecordContext, source: SourceInput, objectFile: string, output: string): string | undefined {
  if (!isElfFile(objectFile)) {
    ctx.log(`not recording ${output}: not an ELF file`);
    return undefined;
  }
  const hash = ctx.store.putObject(objectFile);
  ctx.store.writeManifest({
    hash,
    source: projectPath(ctx.store, ctx.cwd, source.path),
    output: resolve(ctx.cwd, output),
    cwd: ctx.cwd,
    args: ctx.args,
    compiler: ctx.compiler,
    language: source.language,
  });
  ctx.log(`recorded the object of ${source.path} for ${output} (sha256 ${hash})`);
  return hash;
}

/** Writes the link record of `output`: store objects among the inputs in order, the rest untracked. */
export async function recordLink(ctx: RecordContext, output: string, kind: LinkRecord['kind'], inputs: LinkInput[]): Promise<void> {
  const absolute = resolve(ctx.cwd, output);
  if (!isElfFile(absolute)) {
    ctx.log(`not recording the link of ${output}: not an ELF file`);
    return;
  }
  // Loaded here only: compiles, the common case under make, never need the ELF reader.
  const { readBuildId } = await import('@katana/elf');
  const buildId = readBuildId(absolute);
  if (buildId === undefined) {
    ctx.log(`not recording the link of ${output}: it has no build-id note`);
    return;
  }
  const objects: LinkRecord['objects'] = [];
  const untracked: string[] = [];
  for (const input of inputs) {
    if (input.kind === 'compiled') {
      objects.push({ path: resolve(ctx.cwd, input.source), hash: input.hash });
    } else if (input.kind === 'library') {
      untracked.push(input.arg);
    } else {
      const path = resolve(ctx.cwd, input.path);
      const hash = isElfFile(path) ? sha256File(path) : undefined;
      if (hash !== undefined && ctx.store.hasObject(hash)) objects.push({ path, hash });
      else untracked.push(path);
    }
  }
  ctx.store.writeLink({ buildId, output: absolute, kind, cwd: ctx.cwd, args: ctx.args, objects, untracked });
  ctx.log(`recorded the link of ${output} (build-id ${buildId}; objects: ${objects.length}, untracked: ${untracked.length})`);
}
