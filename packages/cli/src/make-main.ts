// `katana-make patch-since REV`: build REV (in a git worktree kept in the object store, so a second
// run reuses it) and the work tree with the project's own build command under katana-cc, then
// write one Patch Object per executable or shared library that changed. The store is shared by
// both builds; -ffile-prefix-map makes unchanged sources give identical objects.
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKatanaError, KatanaError } from '@katana/errors';
import { parseCommandArgs } from './args.js';
import { exitCodeFor } from './exit-codes.js';
import { toJson } from './json.js';
import { writeOutputFile } from './read-input.js';
import { UsageError } from './usage-error.js';

const usage = 'katana-make patch-since REV [--build CMD] [--out DIR] [-C DIR] [--json]';
const binDir = fileURLToPath(new URL('../../../../node_modules/.bin/', import.meta.url));

class BuildError extends KatanaError {
  constructor(message: string) {
    super('E_BUILD', message);
  }
}

interface Output {
  path: string;
  buildId: string;
}

async function patchSince(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('patch-since', argv, {
    build: { type: 'string', default: 'make' },
    out: { type: 'string' },
    C: { type: 'string', short: 'C' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(`usage: ${usage}`);
  const rev = positionals[0]!;
  const { simpleGit } = await import('simple-git');
  const git = simpleGit(resolve(values.C ?? '.'));
  const root = (await git.revparse(['--show-toplevel']).catch(() => {
    throw new UsageError(`${resolve(values.C ?? '.')} is not inside a git repository`);
  })).trim();
  const sha = (await git.revparse([`${rev}^{commit}`]).catch(() => {
    throw new UsageError(`'${rev}' is not a revision of ${root}`);
  })).trim();
  const store = resolve(process.env.KATANA_STORE ?? join(root, '.katana'));
  const out = resolve(values.out ?? join(store, 'patches'));
  mkdirSync(out, { recursive: true });
  const progress = (text: string) => process.stderr.write(`katana-make: ${text}\n`);

  const worktree = join(store, 'worktrees', sha);
  if (!existsSync(join(worktree, '.git'))) {
    progress(`checking out ${rev} (${sha.slice(0, 12)}) into ${worktree}`);
    mkdirSync(dirname(worktree), { recursive: true });
    await git.raw(['worktree', 'add', '--detach', '--force', worktree, sha]);
  }
  const env = { ...process.env, CC: 'katana-cc', CXX: 'katana-c++', KATANA_STORE: store, PATH: `${binDir}:${process.env.PATH ?? ''}` };
  const build = (dir: string, label: string) => {
    const t0 = Date.now();
    // With --json, stdout carries the report alone: the build's own output goes to stderr.
    const r = spawnSync('sh', ['-c', values.build!], { cwd: dir, env, stdio: ['ignore', values.json ? 2 : 'inherit', 'inherit'] });
    if (r.status !== 0) throw new BuildError(`building ${label} with '${values.build}' in ${dir} failed (exit ${r.status})`);
    progress(`built ${label} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  build(worktree, `${rev} (${sha.slice(0, 12)})`);
  build(root, 'the work tree');

  const [{ ObjectStore }, { diffBuilds, NothingToPatchError }, { writePatchObject }, { readBuildId }] = await Promise.all([
    import('@katana/cc'),
    import('@katana/emitter'),
    import('@katana/po'),
    import('@katana/elf'),
  ]);
  const objectStore = new ObjectStore(store, root);
  const outputs = (under: string) => {
    const current = new Map<string, Output>();
    for (const record of objectStore.links()) {
      if (record.kind === 'relocatable' || !record.output.startsWith(`${under}/`) || !existsSync(record.output)) continue;
      // Every build of an output leaves a record; the current one is the file's own build-id.
      if (readBuildId(record.output) !== record.buildId) continue;
      current.set(relative(under, record.output), { path: record.output, buildId: record.buildId });
    }
    return current;
  };
  const before = outputs(worktree);
  const after = outputs(root);
  const summary: { output: string; status: 'patched' | 'unchanged' | 'new'; patch?: string }[] = [];
  for (const [name, now] of after) {
    const was = before.get(name);
    if (!was) {
      summary.push({ output: name, status: 'new' });
      continue;
    }
    // A relinked output has a new build-id even when no function changed: let the diff decide.
    try {
      const t0 = Date.now();
      const { po } = diffBuilds({ old: was.path, new: now.path, store: objectStore });
      const patch = join(out, `${basename(name)}-${sha.slice(0, 12)}-to-worktree.po`);
      writeOutputFile(patch, writePatchObject(po));
      progress(`diffed ${name} in ${((Date.now() - t0) / 1000).toFixed(2)} s: ${patch}`);
      summary.push({ output: name, status: 'patched', patch });
    } catch (error) {
      if (!(error instanceof NothingToPatchError)) throw error;
      summary.push({ output: name, status: 'unchanged' });
    }
  }
  if (values.json) process.stdout.write(`${toJson({ ok: true, rev, sha, outputs: summary })}\n`);
  else for (const s of summary) process.stdout.write(`${s.status.padEnd(9)} ${s.output}${s.patch ? ` -> ${s.patch}` : ''}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'help' || command === '--help' || command === undefined) {
    process.stdout.write(`usage: ${usage}\n`);
    return command === undefined ? 64 : 0;
  }
  if (command !== 'patch-since') {
    process.stderr.write(`katana-make: unknown command '${command}'; usage: ${usage}\n`);
    return 64;
  }
  try {
    return await patchSince(rest);
  } catch (error) {
    process.stderr.write(`katana-make: ${isKatanaError(error) ? error.message : `internal error: ${(error as Error).message}`}\n`);
    return exitCodeFor(error);
  }
}

process.exitCode = await main(process.argv.slice(2));
