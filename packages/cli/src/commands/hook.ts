// `katana hook install|uninstall|run`: the git post-commit hook that leaves a Patch Object per
// commit. install writes plugins/git/post-commit.sh into the hooks folder git really uses
// (core.hooksPath or .git/hooks); an existing post-commit hook is kept as post-commit.katana-chained
// and still runs first. uninstall undoes exactly that. run is what the hook starts in the background:
// it builds the commit and its parent in worktrees under the store (patch-builds.ts; each commit's
// build is the next one's parent) and writes <store>/patches/<sha>.po.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isKatanaError } from '@katana/errors';
import type { SimpleGit } from 'simple-git';
import { parseCommandArgs } from '../args.js';
import { toJson } from '../json.js';
import { patchBuilds } from '../patch-builds.js';
import { UsageError } from '../usage-error.js';

export const hookUsage = 'katana hook (install [--build CMD] | uninstall | run SHA [--build CMD]) [-C DIR] [--json]';

const template = fileURLToPath(new URL('../../../../../plugins/git/post-commit.sh', import.meta.url));
const katanaBin = fileURLToPath(new URL('../../../../../node_modules/.bin/katana', import.meta.url));
/** In the header of the hook katana writes, and nowhere else: how install and uninstall recognise it. */
const MARKER = 'katana-hook:';
const CHAINED = 'post-commit.katana-chained';

/** Runs `katana hook`; returns the exit code. */
export async function hookCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('hook', argv, {
    build: { type: 'string', default: 'make' },
    C: { type: 'string', short: 'C' },
    json: { type: 'boolean' },
  });
  const [action, ...rest] = positionals;
  const dir = resolve(values.C ?? '.');
  const { simpleGit } = await import('simple-git');
  const git = simpleGit(dir);
  const root = (await git.revparse(['--show-toplevel']).catch(() => {
    throw new UsageError(`${dir} is not inside a git repository`);
  })).trim();
  const say = (text: string, fields: Record<string, unknown>) =>
    process.stdout.write(values.json ? `${toJson({ ok: true, ...fields })}\n` : `katana hook: ${text}\n`);
  if (action === 'install' && rest.length === 0) {
    const hooks = await hooksFolder(git, dir);
    const result = install(hooks, values.build!);
    say(`${result} ${join(hooks, 'post-commit')}`, { action: result, hook: join(hooks, 'post-commit') });
    return 0;
  }
  if (action === 'uninstall' && rest.length === 0) {
    const hooks = await hooksFolder(git, dir);
    const result = uninstall(hooks);
    say(`${result} ${join(hooks, 'post-commit')}`, { action: result, hook: join(hooks, 'post-commit') });
    return 0;
  }
  if (action === 'run' && rest.length === 1) return run(git, root, rest[0]!, values.build!);
  throw new UsageError(`usage: ${hookUsage}`);
}

/** The hooks folder git runs hooks from: `git rev-parse --git-path hooks` honours core.hooksPath. */
async function hooksFolder(git: SimpleGit, dir: string): Promise<string> {
  const hooks = resolve(dir, (await git.revparse(['--git-path', 'hooks'])).trim());
  mkdirSync(hooks, { recursive: true });
  return hooks;
}

function isOurs(path: string): boolean {
  return existsSync(path) && readFileSync(path, 'utf8').split('\n', 3).some((line) => line.includes(MARKER));
}

/** sh single-quoting: the value comes back byte for byte. */
const shQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

function install(hooks: string, build: string): 'installed' | 'updated' | 'installed, chaining the previous hook,' {
  const hook = join(hooks, 'post-commit');
  const script = readFileSync(template, 'utf8').replace('@KATANA@', shQuote(katanaBin)).replace('@BUILD@', shQuote(build));
  let result: ReturnType<typeof install> = 'installed';
  if (isOurs(hook)) {
    result = 'updated';
  } else if (existsSync(hook)) {
    if (existsSync(join(hooks, CHAINED))) throw new UsageError(`${join(hooks, CHAINED)} exists already: move it away before installing`);
    renameSync(hook, join(hooks, CHAINED));
    result = 'installed, chaining the previous hook,';
  }
  writeFileSync(hook, script);
  chmodSync(hook, 0o755);
  return result;
}

function uninstall(hooks: string): 'removed' | 'restored the previous hook' | 'no katana hook in' {
  const hook = join(hooks, 'post-commit');
  if (!existsSync(hook)) return 'no katana hook in';
  if (!isOurs(hook)) throw new UsageError(`${hook} is not the hook katana installed; left untouched`);
  rmSync(hook);
  if (!existsSync(join(hooks, CHAINED))) return 'removed';
  renameSync(join(hooks, CHAINED), hook);
  return 'restored the previous hook';
}

/** The hook's background job: <store>/patches/<sha>.po for commit `rev` against its first parent. */
async function run(git: SimpleGit, root: string, rev: string, build: string): Promise<number> {
  const log = (text: string) => process.stdout.write(`${new Date().toISOString()} katana hook: ${text}\n`);
  let sha = rev;
  try {
    sha = (await git.revparse([`${rev}^{commit}`])).trim();
    const parent = (await git.raw(['rev-list', '--parents', '-n', '1', sha])).trim().split(' ')[1];
    if (parent === undefined) {
      log(`${sha.slice(0, 12)}: a root commit has no parent to patch from`);
      return 0;
    }
    const store = resolve(process.env.KATANA_STORE ?? join(root, '.katana'));
    const patches = join(store, 'patches');
    const summary = await patchBuilds({
      git,
      root,
      store,
      build,
      old: { sha: parent, label: 'parent' },
      new: { sha, label: 'commit' },
      // One changed output: <sha>.po; several: <sha>.<output>.po each.
      patchFile: (output, count) => join(patches, count === 1 ? `${sha}.po` : `${sha}.${basename(output)}.po`),
      progress: (text) => log(`${sha.slice(0, 12)}: ${text}`),
    });
    for (const s of summary) log(`${sha.slice(0, 12)}: ${s.status} ${s.output}${s.patch ? ` -> ${s.patch}` : ''}`);
    return 0;
  } catch (error) {
    log(`${sha.slice(0, 12)}: failed: ${isKatanaError(error) ? error.message : `internal error: ${(error as Error).message}`}`);
    return 1;
  }
}
