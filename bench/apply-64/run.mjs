// bench/apply-64: stopping many threads. Builds target.c (v1) and fix.patch (v2, f0..f9 changed)
// with katana-cc, diffs them into a PO, then RUNS times: start a fresh v1 with THREADS stamping
// threads, let it run, `katana apply --json`, and report the applier's stop window, the time it
// took to find every thread safe, how many checks that took, and the longest gap any thread of the
// target saw in the windows overlapping the apply (vs. an equal span just before). With --hot every
// stamping thread also calls f0 (replaced by the patch) in its loop, so at each stop some threads
// are inside it and must be stepped out before the switch. Prints the machine's load with the figures.
//   node bench/apply-64/run.mjs [--threads 64] [--runs 10] [--hot]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { threads: { type: 'string', default: '64' }, runs: { type: 'string', default: '10' }, hot: { type: 'boolean', default: false } },
});
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
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

copyFileSync(join(here, 'target.c'), join(work, 'target.c'));
sh(bin('katana-cc'), ['-O2', '-pthread', '-o', 'target', 'target.c']);
sh('patch', ['-p1', '--quiet', '-i', join(here, 'fix.patch')]);
sh(bin('katana-cc'), ['-O2', '-pthread', '-o', 'target-v2', 'target.c']);
sh(bin('katana'), ['diff', '--old', 'target', '--new', 'target-v2', '-o', 'fix.po']);

const loadBefore = load();
const results = [];
for (let run = 0; run < runs; run++) {
  const args = [String(threads), ...(values.hot ? ['hot'] : [])];
  const child = spawn(join(work, 'target'), args, { stdio: ['ignore', 'pipe', 'inherit'] });
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
    stopped: report.stoppedMicros,
    safeAfter: report.safeAfterMicros,
    attempts: report.attempts,
    gapDuring: Math.max(...during.map((w) => w.gap)) / 1000,
    gapBefore: Math.max(...before.map((w) => w.gap)) / 1000,
    threads: report.threads,
  });
}
rmSync(work, { recursive: true, force: true });

const row = (label, key, unit, digits = 1) => {
  const xs = results.map((r) => r[key]);
  return `| ${label} | ${median(xs).toFixed(digits)} ${unit} | ${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)} ${unit} |`;
};
console.log(`apply-64: ${threads} stamping thread(s)${values.hot ? ' calling f0' : ''} (${results[0].threads} in all), ${runs} applies, ${new Date().toISOString().slice(0, 10)}, load average ${loadBefore} before / ${load()} after`);
console.log('| measure | median | min–max |\n| --- | --- | --- |');
console.log(row('target stopped (applier: first interrupt of the last stop to last detach)', 'stopped', 'µs', 0));
console.log(row('time to reach a safe state (first stop to every thread safe)', 'safeAfter', 'µs', 0));
console.log(row('safety checks needed', 'attempts', '', 0));
console.log(row('longest gap in the target during an apply', 'gapDuring', 'µs'));
console.log(row('longest gap in the target without an apply (same span, just before)', 'gapBefore', 'µs'));
