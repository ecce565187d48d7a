// bench/heap-1m: how long `katana apply` stops a target whose 1,000,000-node heap list (reached from
// a global) changes layout: every node moves to a new block of the target's malloc. Builds
// target.c (v1) and its fix.patch (the node gains a member) with katana-cc, diffs them, then RUNS
// times: start a fresh v1 with NODES nodes, wait until it is ready, apply the PO and read the
// applier's stop window and data report from `katana apply --json`; checks that the target's sum
// is the same before and after (no node lost).
//   node bench/heap-1m/run.mjs [--nodes 1000000] [--runs 5] [--free-old]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' }, 'free-old': { type: 'boolean' } } });
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

const results = [];
for (let run = 0; run < runs; run++) {
  const { child, next, lines } = start();
  await next(/^ready$/);
  const before = (await next(/^sum \d+$/)).split(' ')[1];
  const t0 = process.hrtime.bigint();
  const args = ['apply', '--json', '--pid', String(child.pid), ...(values['free-old'] ? ['--free-old'] : []), 'fix.po'];
  const r = spawnSync(bin('katana'), args, { cwd: work, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    child.kill('SIGKILL');
    throw new Error(`katana apply failed: ${r.stderr}`);
  }
  const after = (await next(/^v2 sum \d+$/, lines.length)).split(' ')[2];
  child.kill('SIGKILL');
  if (after !== before) throw new Error(`the list changed across the patch: sum ${before} before, ${after} after`);
  const report = JSON.parse(r.stdout);
  results.push({ stopped: report.stoppedMicros / 1000, wall, moved: report.data.moved[0].blocks });
}
rmSync(work, { recursive: true, force: true });

const row = (label, key, unit) => {
  const xs = results.map((r) => r[key]);
  return `| ${label} | ${median(xs).toFixed(1)} ${unit} | ${Math.min(...xs).toFixed(1)} ${unit} | ${Math.max(...xs).toFixed(1)} ${unit} |`;
};
console.log(`heap-1m: ${nodes} nodes (${results[0].moved} moved per apply), ${runs} applies${values['free-old'] ? ', --free-old' : ''}, ${new Date().toISOString().slice(0, 10)}`);
console.log('| measure | median | min | max |\n| --- | --- | --- | --- |');
console.log(row('target stopped (applier: first interrupt to last resume)', 'stopped', 'ms'));
console.log(row('`katana apply` wall time, Node start-up included', 'wall', 'ms'));
