// Runs every compiled uvu test file (dist/test/**/*.test.js in each workspace) as its own process,
// unit tests first and integration last, and exits non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const workspaces = [
  'packages/errors', 'packages/elf', 'packages/dwarf', 'packages/po', 'packages/cc', 'native',
  'packages/tracker', 'packages/emitter', 'packages/applier', 'packages/cli', 'integration',
];

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const failed = [];
let count = 0;
const started = Date.now();
for (const ws of workspaces) {
  for (const file of testFiles(join(root, ws, 'dist', 'test'))) {
    const rel = relative(root, file);
    if (only.length && !only.some((o) => rel.includes(o))) continue;
    count++;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    // uvu exits 0 when a before/after hook throws (it swallows the error), so also require that
    // every test it counted passed.
    const total = Number(/Total:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const passed = Number(/Passed:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const ok = r.status === 0 && Number.isFinite(total) && total > 0 && passed === total;
    if (!ok) failed.push(rel);
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${rel} (${secs}s${ok ? '' : `, exit ${r.status}, ${passed}/${total} passed`})\n`);
  }
}
const total = ((Date.now() - started) / 1000).toFixed(1);
if (count === 0) {
  console.error('test: no test files found; did the build run?');
  process.exit(1);
}
console.log(`\n${count - failed.length}/${count} test files passed in ${total}s`);
if (failed.length) {
  console.error(`failed:\n  ${failed.join('\n  ')}`);
  process.exit(1);
}
