// Shared by the tests that run katana-cc on real C: a fresh temp project (a folder with `git init`),
// a runner for the katana-cc / katana-c++ binaries and for build tools, and oracles (readelf, the
// store's listing, the link record of an output).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LinkRecord, ObjectStore } from '../src/index.js';

/** The package folder (dist/test/helpers.js → packages/cc). */
export const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));

/** Fails (never skips) when a tool the tests need is missing. */
export function requireTools(...tools: string[]): void {
  for (const tool of tools) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the cc tests need ${tool} on PATH`);
  }
}

/** Runs a command, capturing its output as text. */
export function sh(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

/** Runs the Node.js implementation bin/katana-cc.mjs (or katana-c++.mjs) in cwd with extra environment variables. */
export function katana(tool: 'katana-cc' | 'katana-c++', args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return sh(process.execPath, [join(PACKAGE, 'bin', `${tool}.mjs`), ...args], { cwd, env: { ...process.env, ...env } });
}

/** Like katana(), but fails with the tool's stderr unless it exits 0. */
export function katanaOk(tool: 'katana-cc' | 'katana-c++', args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = katana(tool, args, cwd, env);
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

/** A fresh project folder with a .git directory; remove it with removeProject. */
export function makeProject(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'katana-cc-'));
  const git = sh('git', ['init', '-q', dir], { cwd: dir });
  if (git.status !== 0) throw new Error(`git init failed: ${git.stderr}`);
  writeFiles(dir, files);
  return dir;
}

/** Writes files (paths relative to dir), creating folders as needed. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** Removes a temp folder unless KATANA_KEEP_TMP=1. */
export function removeProject(dir: string): void {
  if (process.env['KATANA_KEEP_TMP'] === '1') process.stderr.write(`kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

/** File names in a store subfolder, [] when it does not exist. */
export function storeFiles(store: string, sub: 'objects' | 'manifests' | 'links' | 'pending'): string[] {
  const dir = join(store, sub);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** The build-id of a linked file as `readelf -n` prints it. */
export function readelfBuildId(path: string): string {
  const r = sh('readelf', ['-n', path], { cwd: dirname(path) });
  const m = /Build ID: ([0-9a-f]+)/.exec(r.stdout);
  if (!m) throw new Error(`readelf -n ${path} shows no build-id:\n${r.stdout}${r.stderr}`);
  return m[1]!;
}

/** The environment build tools run katana-cc in: node (which the bin scripts need) on PATH. */
export function buildEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH']}`, ...extra };
}

/**
 * The path of a katana binary: katana-cc, katana-c++ (this package: the sh front ends, as npm
 * installs them) or katana (the CLI).
 */
export function binPath(tool: 'katana-cc' | 'katana-c++' | 'katana'): string {
  return tool === 'katana' ? join(PACKAGE, '..', 'cli', 'bin', 'katana.mjs') : join(PACKAGE, 'bin', tool);
}

/** Runs a command that must succeed, returning its stdout; fails with its stderr otherwise. */
export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = buildEnv()): string {
  const r = sh(command, args, { cwd, env });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * The link record of the linked file `output` (absolute), found by the build-id readelf reads
 * from it, with the source of each of its objects.
 */
export function linkOf(store: ObjectStore, output: string): { record: LinkRecord; sources: string[] } {
  const buildId = readelfBuildId(output);
  const record = store.readLink(buildId);
  if (!record) throw new Error(`no link record for ${output} (build-id ${buildId}) in ${store.dir}`);
  if (record.output !== output) throw new Error(`the link record of build-id ${buildId} is for ${record.output}, not ${output}`);
  return { record, sources: record.objects.map((o) => store.readManifest(o.hash)?.source ?? `(no manifest for ${o.hash})`) };
}
