// Puts what a successful compiler call produced into the object store: each object with its
// manifest, and for a link, a record keyed by the output's build-id listing the objects it came
// from (objects taken from static archives included). Outputs that are not ELF files (a -o
// /dev/null, a tool that wrote something else) are not recorded.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Input, SourceInput } from '../args/classify.js';
import { sha256File } from '../hash.js';
import type { LinkRecord } from '../records.js';
import type { OutputSymbols } from './archives.js';
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

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

// True when path is a regular file whose first bytes are `magic`.
function startsWith(path: string, magic: Buffer): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(magic.length);
      return readSync(fd, head, 0, magic.length, 0) === magic.length && head.equals(magic);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** True when path is a regular file that starts with the ELF magic. */
export function isElfFile(path: string): boolean {
  return startsWith(path, ELF_MAGIC);
}

/** True when path is a static archive (regular or thin). */
function isArchiveFile(path: string): boolean {
  return startsWith(path, Buffer.from('!<arch>\n')) || startsWith(path, Buffer.from('!<thin>\n'));
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

/** Where the linker looks for `-l` libraries, from the link's arguments. */
export interface LibrarySearch {
  libraryDirs: string[];
  staticLink: boolean;
}

/**
 * Writes the link record of `output`: store objects among the inputs in order (members of static
 * archives included, see archives.ts), the rest untracked.
 */
export async function recordLink(ctx: RecordContext, output: string, kind: LinkRecord['kind'], inputs: LinkInput[], search: LibrarySearch): Promise<void> {
  // The objects the sh front end compiled get their manifests now: the link is where a build's
  // compiles meet, and readers that list manifests/ (tests, tools) then see them all.
  ctx.store.foldPending();
  const absolute = resolve(ctx.cwd, output);
  if (!isElfFile(absolute)) {
    ctx.log(`not recording the link of ${output}: not an ELF file`);
    return;
  }
  // Loaded here only: compiles, the common case under make, never need the ELF reader.
  const { readBuildId } = await import('@katana/elf');
  const archives = await import('./archives.js');
  const buildId = readBuildId(absolute);
  if (buildId === undefined) {
    ctx.log(`not recording the link of ${output}: it has no build-id note`);
    return;
  }
  let symbols: OutputSymbols | undefined;
  const membersOf = (archive: string): LinkRecord['objects'] => {
    symbols ??= archives.outputSymbols(absolute);
    return archives.linkedArchiveMembers(archive, ctx.store, symbols);
  };
  const objects: LinkRecord['objects'] = [];
  const untracked: string[] = [];
  for (const input of inputs) {
    if (input.kind === 'compiled') {
      objects.push({ path: resolve(ctx.cwd, input.source), hash: input.hash });
      continue;
    }
    const path = input.kind === 'library'
      ? archives.findLibrary(input.arg, search.libraryDirs, search.staticLink, ctx.cwd)
      : resolve(ctx.cwd, input.path);
    const what = input.kind === 'library' ? input.arg : path!;
    if (path !== undefined && isArchiveFile(path)) {
      const members = membersOf(path);
      objects.push(...members);
      if (members.length === 0) untracked.push(what);
    } else {
      const hash = path !== undefined && isElfFile(path) ? sha256File(path) : undefined;
      if (hash !== undefined && ctx.store.hasObject(hash)) objects.push({ path: path!, hash });
      else untracked.push(what);
    }
  }
  ctx.store.writeLink({ buildId, output: absolute, kind, cwd: ctx.cwd, args: ctx.args, objects, untracked });
  ctx.log(`recorded the link of ${output} (build-id ${buildId}; objects: ${objects.length}, untracked: ${untracked.length})`);
}
