// `katana-make patch-since REV`: build REV (in a git worktree kept in the object store, so a second
// run reuses it) and the work tree with the project's own build command under katana-cc, then
// write one Patch Object per executable or shared library that changed (patch-builds.ts). When
// `katana watch` journaled the work tree's build, each diff compares only the objects it saw change.
import { basename, join, resolve } from 'node:path';
import { isKatanaError } from '@katana/errors';
import { parseCommandArgs } from './args.js';
import { exitCodeFor } from './exit-codes.js';
import { toJson } from './json.js';
import { patchBuilds } from './patch-builds.js';
import { UsageError } from './usage-error.js';

const usage = 'katana-make patch-since REV [--build CMD] [--out DIR] [-C DIR] [--no-journal] [--json]';

async function patchSince(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('patch-since', argv, {
    build: { type: 'string', default: 'make' },
    out: { type: 'string' },
    C: { type: 'string', short: 'C' },
    'no-journal': { type: 'boolean' },
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
  const summary = await patchBuilds({
    git,
    root,
    store,
    build: values.build!,
    old: { sha, label: rev },
    new: { workTree: true },
    patchFile: (output) => join(out, `${basename(output)}-${sha.slice(0, 12)}-to-worktree.po`),
    noJournal: values['no-journal'] === true,
    progress: (text) => process.stderr.write(`katana-make: ${text}\n`),
  });
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
