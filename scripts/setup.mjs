// Brings a fresh clone to a runnable state: npm packages, the native addon, and the TypeScript build.
// Each step runs only when its output is missing or older than its inputs, so a second call is quick.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, cwd = root) => {
  process.stderr.write(`setup: ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
};
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

const lock = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(lock) || !existsSync(join(root, 'node_modules', '.bin', 'katana')) || mtime(lock) < mtime(join(root, 'package.json'))) {
  run('npm', ['install', '--no-audit', '--no-fund']);
}
const addon = join(root, 'native', 'build', 'Release', 'katana_ptrace.node');
const addonSources = ['addon.cc', 'ptrace_ops.cc', 'ptrace_ops.h'].map((f) => join(root, 'native', 'src', f));
if (!existsSync(addon) || addonSources.some((f) => mtime(addon) < mtime(f))) {
  run('npx', ['node-gyp', 'rebuild'], join(root, 'native'));
}
run(join(root, 'node_modules', '.bin', 'tsc'), ['-b']);
