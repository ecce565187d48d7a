// bench/apply-pause: how long `katana apply` stops a running target, seen from inside the target.
// Builds target.c (v1) and its fix.patch (v2, ten functions changed) with katana-cc, diffs them
// into a PO, then RUNS times: start a fresh v1 with THREADS stamping threads, let it run, apply the
// PO, and compare the longest gap the target saw in the windows overlapping the apply with the
// longest gap in the same span just before it. Also reports the applier's own stop window and the
// wall time of the whole `katana apply` command (Node start-up included).
//   node bench/apply-pause/run.mjs [--threads 4] [--runs 10]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '4' }, runs: { type: 'string', default: '10' } } });
const threads = Number(values.threads);
const runs = Number(values.runs);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const work = mkdtempSync(join(tmpdir(), 'katana-bench-'));
mkdirSync(join(work, '.git'));
const env = { ...process.env, KATANA_STORE: join(work, '.katana') };
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: work, env, encoding: 'utf8' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

copyFileSync(join(here, 'target.c'), join(work, 'target.c'));
sh(bin('katana-cc'), ['-O2', '-pthread', '-o', 'target', 'target.c']);
sh('patch', ['-p1', '--quiet', '-i', join(here, 'fix.patch')]);
sh(bin('katana-cc'), ['-O2', '-pthread', '-o', 'target-v2', 'target.c']);
sh(bin('katana'), ['diff', '--old', 'target', '--new', 'target-v2', '-o', 'fix.po']);
const functions = JSON.parse(sh(bin('katana'), ['inspect', '--json', 'fix.po'])).changed.length;

const results = [];
for (let run = 0; run < runs; run++) {
  const child = spawn(join(work, 'target'), [String(threads)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const windows = [];
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const line of parts) {
      const m = /^w (\d+) (\d+) (\d+)/.exec(line);
      if (m) windows.push({ start: BigInt(m[1]), end: BigInt(m[2]), gap: Number(m[3]) });
    }
  });
  await sleep(500);
  const t0 = process.hrtime.bigint(); // CLOCK_MONOTONIC, the target's clock
  const r = spawnSync(bin('katana'), ['apply', '--json', '--pid', String(child.pid), 'fix.po'], { cwd: work, encoding: 'utf8' });
  const t1 = process.hrtime.bigint();
  await sleep(100);
  child.kill('SIGKILL');
  if (r.status !== 0) throw new Error(`katana apply failed: ${r.stderr}`);
  const report = JSON.parse(r.stdout);
  const during = windows.filter((w) => w.end >= t0 && w.start <= t1);
  const span = t1 - t0 + 20_000_000n;
  const before = windows.filter((w) => w.end < t0 && w.end >= t0 - span);
  results.push({
    gapDuring: Math.max(...during.map((w) => w.gap)) / 1000,
    gapBefore: Math.max(...before.map((w) => w.gap)) / 1000,
    stopped: report.stoppedMicros,
    wall: Number(t1 - t0) / 1e6,
  });
}
rmSync(work, { recursive: true, force: true });

const row = (label, key, unit) => {
  const xs = results.map((r) => r[key]);
  return `| ${label} | ${median(xs).toFixed(1)} ${unit} | ${Math.min(...xs).toFixed(1)} ${unit} | ${Math.max(...xs).toFixed(1)} ${unit} |`;
};
console.log(`apply-pause: ${threads} stamping thread(s), ${functions} functions replaced, ${runs} applies, ${new Date().toISOString().slice(0, 10)}`);
console.log('| measure | median | min | max |\n| --- | --- | --- | --- |');
console.log(row('longest gap in the target during an apply', 'gapDuring', 'µs'));
console.log(row('longest gap in the target without an apply (same span, just before)', 'gapBefore', 'µs'));
console.log(row('target stopped (applier: first interrupt to last resume)', 'stopped', 'µs'));
console.log(row('`katana apply` wall time, Node start-up included', 'wall', 'ms'));
