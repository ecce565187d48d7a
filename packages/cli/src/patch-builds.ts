// The machinery behind `katana-make patch-since` and the git hook: build an old revision (in a git
// worktree kept in the object store, <store>/worktrees/<sha>, so later runs reuse its build) and
// the new side (the work tree, or another revision's worktree) with the project's own build command
// under katana-cc, then diff every executable or shared library both builds produced. The store is
// shared by both builds; -ffile-prefix-map makes unchanged sources give identical objects.
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KatanaError } from '@katana/errors';
import type { SimpleGit } from 'simple-git';
import { journalRestriction } from './journal.js';
import { writeOutputFile } from './read-input.js';

const binDir = fileURLToPath(new URL('../../../../node_modules/.bin/', import.meta.url));

/** The project's build command failed. */
export class BuildError extends KatanaError {
  constructor(message: string) {
    super('E_BUILD', message);
  }
}

/** One side of the diff: a revision (built in its worktree) or the work tree itself. */
export type BuildSide = { sha: string; label: string } | { workTree: true };

export interface PatchBuildsOptions {
  git: SimpleGit;
  /** The repository's top level. */
  root: string;
  /** The object store folder. */
  store: string;
  /** The build command, run with sh -c in the tree. */
  build: string;
  old: { sha: string; label: string };
  new: BuildSide;
  /** The PO file for a changed output (path relative to its tree), given how many outputs changed. */
  patchFile: (output: string, changedOutputs: number) => string;
  /** Compare every object even when a tracker journal could restrict the diff. */
  noJournal?: boolean;
  progress: (line: string) => void;
}

/** What became of one output of the new build. */
export interface OutputSummary {
  output: string;
  status: 'patched' | 'unchanged' | 'new';
  patch?: string;
}

/** Builds both sides and writes one PO per changed output; returns what happened to each output. */
export async function patchBuilds(o: PatchBuildsOptions): Promise<OutputSummary[]> {
  const env = { ...process.env, CC: 'katana-cc', CXX: 'katana-c++', KATANA_STORE: o.store, PATH: `${binDir}:${process.env.PATH ?? ''}` };
  const build = (dir: string, label: string) => {
    const t0 = Date.now();
    // The build's own output goes to stderr: stdout carries katana-make's summary (or its --json report) alone.
    const r = spawnSync('sh', ['-c', o.build], { cwd: dir, env, stdio: ['ignore', 2, 'inherit'] });
    if (r.status !== 0) throw new BuildError(`building ${label} with '${o.build}' in ${dir} failed (exit ${r.status})`);
    o.progress(`built ${label} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  const oldTree = await checkout(o, o.old.sha, o.old.label);
  const newTree = 'workTree' in o.new ? o.root : await checkout(o, o.new.sha, o.new.label);
  build(oldTree, `${o.old.label} (${o.old.sha.slice(0, 12)})`);
  build(newTree, 'workTree' in o.new ? 'the work tree' : `${o.new.label} (${o.new.sha.slice(0, 12)})`);

  const [{ ObjectStore }, { diffBuilds, NothingToPatchError }, { writePatchObject }, { readBuildId }] = await Promise.all([
    import('@katana/cc'),
    import('@katana/emitter'),
    import('@katana/po'),
    import('@katana/elf'),
  ]);
  const objectStore = new ObjectStore(o.store, o.root);
  const store = resolve(o.store);
  // The outputs of a tree, by path relative to it: every path katana-cc linked under it whose file
  // still has the build-id of that link. The work tree holds the store when it is the default
  // <root>/.katana, and so katana's own worktrees: their outputs are not the work tree's. Output
  // records name every path linked; link records (one per build-id) also cover stores written
  // before output records existed.
  const links = objectStore.links();
  const relocatable = new Set(links.filter((l) => l.kind === 'relocatable').map((l) => l.buildId));
  const linked = [...objectStore.outputs(), ...links];
  const outputs = (under: string) => {
    const skipStore = !`${under}/`.startsWith(`${store}/`);
    const current = new Map<string, { path: string; buildId: string }>();
    for (const record of linked) {
      if (!record.output.startsWith(`${under}/`) || (skipStore && record.output.startsWith(`${store}/`))) continue;
      if (relocatable.has(record.buildId) || !existsSync(record.output)) continue;
      if (readBuildId(record.output) !== record.buildId) continue;
      current.set(relative(under, record.output), { path: record.output, buildId: record.buildId });
    }
    return current;
  };
  const before = outputs(oldTree);
  const after = outputs(newTree);
  const patches: { output: string; po: Uint8Array }[] = [];
  const summary: OutputSummary[] = [];
  for (const [name, { path: now, buildId }] of after) {
    const was = before.get(name)?.path;
    if (!was) {
      summary.push({ output: name, status: 'new' });
      continue;
    }
    // The same build-id: both builds linked byte-identical files (a helper program no change reached).
    if (before.get(name)!.buildId === buildId) {
      summary.push({ output: name, status: 'unchanged' });
      continue;
    }
    // A relinked output has a new build-id even when no function changed: let the diff decide.
    try {
      const t0 = Date.now();
      const { compareOnly } = o.noJournal ? {} : await journalRestriction(objectStore, was, now, o.progress);
      const { po } = diffBuilds({ old: was, new: now, store: objectStore, ...(compareOnly ? { compareOnly } : {}) });
      patches.push({ output: name, po: writePatchObject(po) });
      o.progress(`diffed ${name} in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    } catch (error) {
      if (!(error instanceof NothingToPatchError)) throw error;
      summary.push({ output: name, status: 'unchanged' });
    }
  }
  for (const { output, po } of patches) {
    const patch = o.patchFile(output, patches.length);
    mkdirSync(dirname(patch), { recursive: true });
    writeOutputFile(patch, po);
    summary.push({ output, status: 'patched', patch });
  }
  return summary;
}

/** The worktree of `sha` under the store, checked out on first use. */
async function checkout(o: PatchBuildsOptions, sha: string, label: string): Promise<string> {
  const worktree = join(o.store, 'worktrees', sha);
  if (!existsSync(join(worktree, '.git'))) {
    o.progress(`checking out ${label} (${sha.slice(0, 12)}) into ${worktree}`);
    mkdirSync(dirname(worktree), { recursive: true });
    await o.git.raw(['worktree', 'add', '--detach', '--force', worktree, sha]);
  }
  return worktree;
}
