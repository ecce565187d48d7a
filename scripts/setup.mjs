// Brings a fresh clone to a runnable state: npm packages, the native addon, and the TypeScript build.
// Each step runs only when its output is missing or older than its inputs, so a second call is quick.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, cwd = root) => {
  process.stderr.write(`setup: ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
};
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

const lock = join(root, 'node_modules', '.package-lock.json');
// A workspace's package.json changes its dependencies or its binaries (node_modules/.bin links).
const manifests = [join(root, 'package.json'), ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'package.json'))];
if (!existsSync(lock) || !existsSync(join(root, 'node_modules', '.bin', 'katana')) || manifests.some((m) => mtime(lock) < mtime(m))) {
  run('npm', ['install', '--no-audit', '--no-fund']);
}
// npm install leaves node_modules/.bin links as they were when a workspace renames a binary's
// file (packages/cc: bin/katana-cc.mjs became the sh front end bin/katana-cc): relink those.
for (const manifest of manifests.slice(1).filter(existsSync)) {
  const { name, bin = {} } = JSON.parse(readFileSync(manifest, 'utf8'));
  const link = (command) => join(root, 'node_modules', '.bin', command);
  const stale = Object.entries(bin).some(([command, file]) => !existsSync(link(command)) || !readlinkSync(link(command)).endsWith(`/${file}`));
  if (stale) run('npm', ['rebuild', name, '--no-audit', '--no-fund']);
}
const addon = join(root, 'native', 'build', 'Release', 'katana_ptrace.node');
const addonSources = ['addon.cc', 'ptrace_ops.cc', 'ptrace_ops.h'].map((f) => join(root, 'native', 'src', f));
if (!existsSync(addon) || addonSources.some((f) => mtime(addon) < mtime(f))) {
  run('npx', ['node-gyp', 'rebuild'], join(root, 'native'));
}
run(join(root, 'node_modules', '.bin', 'tsc'), ['-b']);
