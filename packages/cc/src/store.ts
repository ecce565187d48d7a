// The object store (.katana/ at the project root, or KATANA_STORE): every object katana-cc built,
// content-addressed by sha256, with a manifest saying how it was compiled, a link record per
// build-id, and an output record per linked path (its build-id: identical links in two checkouts
// share a link record, whose `output` names the last one, but not an output record). Layout:
//   objects/<sha256>.o   manifests/<sha256>.json   links/<build-id>.json   outputs/<sha256 of path>.json
//   pending/<sha256>     a manifest the sh front end wrote as text (pending.ts), folded into
//                        manifests/ before a reader sees that manifest (readManifest, foldPending)
// Every file is written atomically (atomic.ts), so concurrent katana-cc runs under `make -j` are safe.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { StoreError } from './errors.js';
import { sha256 } from './hash.js';
import { parsePendingManifest } from './pending.js';
import type { LinkRecord, ObjectManifest, OutputRecord } from './records.js';
import { findProjectRoot } from './root.js';

const HASH = /^[0-9a-f]{64}$/;
const BUILD_ID = /^[0-9a-f]{2,}$/;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A content-addressed store of objects, their manifests and link records. */
export class ObjectStore {
  readonly dir: string;
  readonly projectRoot: string;

  /** KATANA_STORE if set, else <project root of cwd>/.katana. Does not create anything. */
  static locate(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ObjectStore {
    const cwd = options.cwd ?? process.cwd();
    const env = options.env ?? process.env;
    const root = findProjectRoot(cwd);
    const dir = env['KATANA_STORE'] ? resolve(cwd, env['KATANA_STORE']) : join(root, '.katana');
    return new ObjectStore(dir, root);
  }

  constructor(dir: string, projectRoot: string) {
    this.dir = resolve(dir);
    this.projectRoot = resolve(projectRoot);
  }

  /** Copies the object into objects/<hash>.o (atomic, safe under make -j) and returns its hash. */
  putObject(path: string): string {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new StoreError(`cannot read object ${path} to store it: ${reason(error)}`, { cause: error });
    }
    const hash = sha256(bytes);
    const target = this.objectPath(hash);
    if (!existsSync(target)) this.write(target, bytes);
    return hash;
  }

  /** Absolute path of objects/<hash>.o. */
  objectPath(hash: string): string {
    if (!HASH.test(hash)) throw new StoreError(`${JSON.stringify(hash)} is not a sha256 object hash`);
    return join(this.dir, 'objects', `${hash}.o`);
  }

  /** True when objects/<hash>.o exists. */
  hasObject(hash: string): boolean {
    return existsSync(this.objectPath(hash));
  }

  /** Writes manifests/<hash>.json atomically. */
  writeManifest(m: ObjectManifest): void {
    // A pending manifest of these bytes is older than this one: the last writer's manifest wins.
    rmSync(join(this.dir, 'pending', m.hash), { force: true });
    this.write(this.manifestPath(m.hash), `${JSON.stringify(m, null, 2)}\n`);
  }

  /** The manifest of an object (its pending manifest folded in first), undefined when the store has none. */
  readManifest(hash: string): ObjectManifest | undefined {
    const path = this.manifestPath(hash);
    this.foldPendingManifest(hash);
    return this.readJson(path) as ObjectManifest | undefined;
  }

  /** Folds every pending manifest the sh front end wrote into manifests/ (before listing manifests/). */
  foldPending(): void {
    const dir = join(this.dir, 'pending');
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) if (HASH.test(name)) this.foldPendingManifest(name);
  }

  /** Writes links/<buildId>.json and the output record of r.output, each atomically. */
  writeLink(r: LinkRecord): void {
    this.write(this.linkPath(r.buildId), `${JSON.stringify(r, null, 2)}\n`);
    const output: OutputRecord = { output: r.output, buildId: r.buildId };
    this.write(join(this.dir, 'outputs', `${sha256(Buffer.from(r.output))}.json`), `${JSON.stringify(output, null, 2)}\n`);
  }

  /** The link record of an output with that build-id, undefined when the store has none. */
  readLink(buildId: string): LinkRecord | undefined {
    return this.readJson(this.linkPath(buildId.toLowerCase())) as LinkRecord | undefined;
  }

  /** Every link record in the store (one per build-id ever linked), in no particular order. */
  links(): LinkRecord[] {
    const dir = join(this.dir, 'links');
    if (!existsSync(dir)) return [];
    // Temporary files of writes in progress (.<name>.<pid>.<hex>.tmp) are not records.
    return readdirSync(dir)
      .filter((name) => name.endsWith('.json') && BUILD_ID.test(name.slice(0, -'.json'.length)))
      .map((name) => this.readLink(name.slice(0, -'.json'.length)))
      .filter((r): r is LinkRecord => r !== undefined);
  }

  /** Every path katana-cc linked into, with the build-id it last linked there, in no particular order. */
  outputs(): OutputRecord[] {
    const dir = join(this.dir, 'outputs');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => name.endsWith('.json') && HASH.test(name.slice(0, -'.json'.length)))
      .map((name) => this.readJson(join(dir, name)) as OutputRecord | undefined)
      .filter((r): r is OutputRecord => r !== undefined);
  }

  // Claims pending/<hash> by renaming it to a private name (so that of two concurrent readers only
  // one folds it, and a newer pending file written meanwhile stays for the next reader), then
  // writes the manifest it holds and removes it.
  private foldPendingManifest(hash: string): void {
    const pending = join(this.dir, 'pending', hash);
    const claimed = join(this.dir, 'pending', `.${hash}.${process.pid}.${randomBytes(4).toString('hex')}.fold`);
    try {
      renameSync(pending, claimed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new StoreError(`cannot fold ${pending} in the object store: ${reason(error)}`, { cause: error });
    }
    try {
      const manifest = parsePendingManifest(readFileSync(claimed, 'utf8'), pending);
      if (manifest.hash !== hash) throw new StoreError(`${pending} in the object store holds the manifest of ${manifest.hash}`);
      this.writeManifest(manifest);
    } finally {
      rmSync(claimed, { force: true });
    }
  }

  private manifestPath(hash: string): string {
    if (!HASH.test(hash)) throw new StoreError(`${JSON.stringify(hash)} is not a sha256 object hash`);
    return join(this.dir, 'manifests', `${hash}.json`);
  }

  private linkPath(buildId: string): string {
    if (!BUILD_ID.test(buildId)) throw new StoreError(`${JSON.stringify(buildId)} is not a hex build-id`);
    return join(this.dir, 'links', `${buildId}.json`);
  }

  private write(path: string, data: Uint8Array | string): void {
    try {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileAtomic(path, data);
    } catch (error) {
      throw new StoreError(`cannot write ${path} in the object store: ${reason(error)}`, { cause: error });
    }
  }

  private readJson(path: string): unknown {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`cannot read ${path} in the object store: ${reason(error)}`, { cause: error });
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new StoreError(`${path} in the object store is not valid JSON: ${reason(error)}`, { cause: error });
    }
  }
}
