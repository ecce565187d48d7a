// bench/heap-1m: how long `katana apply` stops a target whose 1,000,000-node heap list (reached from
// a global) changes layout: every node moves to a new block of the target's malloc. Builds
// target.c (v1) and its fix.patch (the node gains a member) with katana-cc, diffs them, then RUNS
// times: start a fresh v1 with NODES nodes, wait until it is ready, apply the PO and read the
// applier's stop window and data report from `katana apply --json`; checks that the target's sum
// is the same before and after (no node lost).
// --compose: fix2.patch changes the node again (v2 -> v3: a member in front); each run applies A
// (fix.po) then B (fix2.po, made --after A) to one fresh target, and AB (katana compose) to
// another, and compares AB's one stop with A's and B's.
//   node bench/heap-1m/run.mjs [--nodes 1000000] [--runs 5] [--free-old] [--compose]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' }, 'free-old': { type: 'boolean' }, compose: { type: 'boolean' } } });
const nodes = Number(values.nodes);
const runs = Number(values.runs);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const work = mkdtempSync(join(tmpdir(), 'katana-bench-'));
mkdirSync(join(work, '.git'));
const env = { ...process.env, KATANA_STORE: join(work, '.katana') };
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: work, env, encoding: 'utf8' });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

copyFileSync(join(here, 'target.c'), join(work, 'target.c'));
sh(bin('katana-cc'), ['-O2', '-o', 'target', 'target.c']);
sh('patch', ['-p1', '--quiet', '-i', join(here, 'fix.patch')]);
sh(bin('katana-cc'), ['-O2', '-o', 'target-v2', 'target.c']);
sh(bin('katana'), ['diff', '--old', 'target', '--new', 'target-v2', '-o', 'fix.po']);
if (values.compose) {
  sh('patch', ['-p1', '--quiet', '-i', join(here, 'fix2.patch')]);
  sh(bin('katana-cc'), ['-O2', '-o', 'target-v3', 'target.c']);
  sh(bin('katana'), ['diff', '--old', 'target-v2', '--new', 'target-v3', '--after', 'fix.po', '-o', 'fix2.po']);
  sh(bin('katana'), ['compose', 'fix.po', 'fix2.po', '-o', 'both.po']);
}

/** Starts the target and resolves with it and a function waiting for the next line matching `re`. */
function start() {
  const child = spawn(join(work, 'target'), [String(nodes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    lines.push(...parts);
  });
  const next = async (re, from = lines.length) => {
    for (let waited = 0; waited < 60000; waited += 10) {
      const found = lines.slice(from).find((l) => re.test(l));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`the target never printed ${re}; it printed: ${lines.slice(-3).join(' | ')}`);
  };
  return { child, next, lines };
}

/** Applies `po` to the started target, waits for its `version` sum and checks it is `before`; returns the report and the wall time. */
async function applyAndCheck({ child, next, lines }, po, version, before) {
  const t0 = process.hrtime.bigint();
  const args = ['apply', '--json', '--pid', String(child.pid), ...(values['free-old'] ? ['--free-old'] : []), po];
  const r = spawnSync(bin('katana'), args, { cwd: work, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    child.kill('SIGKILL');
    throw new Error(`katana apply ${po} failed: ${r.stderr}`);
  }
  const after = (await next(new RegExp(`^${version} sum \\d+$`), lines.length)).split(' ')[2];
  if (after !== before) {
    child.kill('SIGKILL');
    throw new Error(`the list changed across ${po}: sum ${before} before, ${after} after`);
  }
  return { report: JSON.parse(r.stdout), wall };
}

/** A fresh target, ready, and the sum it printed. */
async function ready() {
  const target = start();
  await target.next(/^ready$/);
  return { target, before: (await target.next(/^sum \d+$/)).split(' ')[1] };
}

const results = [];
for (let run = 0; run < runs; run++) {
  if (values.compose) {
    const stacked = await ready();
    const a = await applyAndCheck(stacked.target, 'fix.po', 'v2', stacked.before);
    const b = await applyAndCheck(stacked.target, 'fix2.po', 'v3', stacked.before);
    stacked.target.child.kill('SIGKILL');
    const composed = await ready();
    const ab = await applyAndCheck(composed.target, 'both.po', 'v3', composed.before);
    composed.target.child.kill('SIGKILL');
    results.push({
      stopped: ab.report.stoppedMicros / 1000, wall: ab.wall, moved: ab.report.data.moved[0].blocks,
      stoppedA: a.report.stoppedMicros / 1000, stoppedB: b.report.stoppedMicros / 1000,
      stoppedAB: (a.report.stoppedMicros + b.report.stoppedMicros) / 1000,
    });
    continue;
  }
  const { target, before } = await ready();
  const { report, wall } = await applyAndCheck(target, 'fix.po', 'v2', before);
  target.child.kill('SIGKILL');
  results.push({ stopped: report.stoppedMicros / 1000, wall, moved: report.data.moved[0].blocks });
}
rmSync(work, { recursive: true, force: true });

const row = (label, key, unit) => {
  const xs = results.map((r) => r[key]);
  return `| ${label} | ${median(xs).toFixed(1)} ${unit} | ${Math.min(...xs).toFixed(1)} ${unit} | ${Math.max(...xs).toFixed(1)} ${unit} |`;
};
console.log(`heap-1m: ${nodes} nodes (${results[0].moved} moved per apply${values.compose ? ' and stage' : ''}), ${runs} ${values.compose ? 'runs of A then B, and AB' : 'applies'}${values['free-old'] ? ', --free-old' : ''}, ${new Date().toISOString().slice(0, 10)}`);
console.log('| measure | median | min | max |\n| --- | --- | --- | --- |');
if (values.compose) {
  console.log(row('A (fix.po): target stopped', 'stoppedA', 'ms'));
  console.log(row('B (fix2.po, after A): target stopped', 'stoppedB', 'ms'));
  console.log(row('A then B: both stops together', 'stoppedAB', 'ms'));
  console.log(row('AB (compose): target stopped, both stages', 'stopped', 'ms'));
} else {
  console.log(row('target stopped (applier: first interrupt to last resume)', 'stopped', 'ms'));
}
console.log(row('`katana apply` wall time, Node start-up included', 'wall', 'ms'));
