// bench/katana-cc-overhead: what building a real program under katana-cc costs, against cc.
// The program is the real-world proof's dash (integration/real-world: Debian 12's source package,
// tag v-debian-base = upstream, HEAD = Debian patch 0018). RUNS times, alternating the compilers
// so that load changes hit both alike: a clean git worktree of the tag, `./configure` then
// `make -jJOBS` with CC=cc or CC=katana-cc (an empty object store each time), both timed. Then
// one `katana-make patch-since` (both builds and the diff), RUNS `katana diff` of the two dash
// executables, and the PO size. Prints medians; also the machine load and the start-up cost of
// Node and of katana-cc on a probe call, which explain most of the overhead.
//   node bench/katana-cc-overhead/run.mjs [--runs 5] [--jobs 2]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCommand, configureCommand, dash, makeCommand, prepareRepository } from '../../integration/real-world/dash.mjs';
import { fetchSourcePackage, run } from '../../integration/real-world/debian-source.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, jobs: { type: 'string', default: String(availableParallelism()) } } });
const runs = Number(values.runs);
const jobs = Number(values.jobs);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const log = (message) => process.stderr.write(`katana-cc-overhead: ${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` };

function timed(command, args, options) {
  const t0 = process.hrtime.bigint();
  const result = run(command, args, { env, ...options });
  return { result, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

// Mean wall time of `count` runs of a command that does almost nothing, in ms.
function startup(command, args, count = 20) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) run(command, args, { env });
  return Number(process.hrtime.bigint() - t0) / 1e6 / count;
}

const work = mkdtempSync(join(tmpdir(), 'katana-cc-overhead-'));
try {
  const repo = join(work, 'dash');
  prepareRepository(fetchSourcePackage(dash, log), repo, log);
  const times = { cc: { configure: [], make: [] }, 'katana-cc': { configure: [], make: [] } };
  const recorded = { objects: 0, links: 0 };
  for (let i = 0; i < runs; i++) {
    for (const cc of ['cc', 'katana-cc']) {
      const tree = join(work, `${cc}-${i}`);
      run('git', ['worktree', 'add', '--quiet', '--detach', tree, dash.baseTag], { cwd: repo });
      const options = { cwd: tree, env: { ...env, CC: cc } };
      times[cc].configure.push(timed('sh', ['-c', configureCommand], options).seconds);
      times[cc].make.push(timed('sh', ['-c', makeCommand(jobs)], options).seconds);
      if (cc === 'katana-cc' && i === 0) {
        recorded.objects = readdirSync(join(tree, '.katana', 'manifests')).length;
        recorded.links = readdirSync(join(tree, '.katana', 'links')).length;
      }
      log(`run ${i + 1}/${runs} ${cc}: configure ${times[cc].configure.at(-1).toFixed(1)} s, make ${times[cc].make.at(-1).toFixed(1)} s`);
      rmSync(tree, { recursive: true, force: true });
      run('git', ['worktree', 'prune'], { cwd: repo });
    }
  }

  const made = timed(bin('katana-make'), ['patch-since', dash.baseTag, '--build', buildCommand(jobs), '--out', join(work, 'patches'), '--json'], { cwd: repo });
  const po = JSON.parse(made.result.stdout).outputs.find((o) => o.output === dash.executable).patch;
  const sha = run('git', ['rev-parse', `${dash.baseTag}^{commit}`], { cwd: repo }).stdout.trim();
  const original = join(repo, '.katana', 'worktrees', sha, dash.executable);
  const diffs = [];
  for (let i = 0; i < runs; i++) {
    diffs.push(timed(bin('katana'), ['diff', '--old', original, '--new', join(repo, dash.executable), '-o', join(work, 'cli.po')], { cwd: repo }).seconds);
  }
  const probe = join(work, 'probe.c');
  writeFileSync(probe, 'int main(void) { return 0; }\n');

  const m = (cc, phase) => median(times[cc][phase]);
  const total = (cc) => median(times[cc].configure.map((c, i) => c + times[cc].make[i]));
  const pct = (a, b) => `${a > b ? '+' : ''}${((a / b - 1) * 100).toFixed(0)} %`;
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`katana-cc-overhead: dash ${dash.version}, ${runs} clean builds per compiler, -j${jobs}, ${availableParallelism()} CPUs, load ${load}, ${new Date().toISOString().slice(0, 10)}`);
  console.log('| measure | CC=cc | CC=katana-cc | overhead |\n| --- | --- | --- | --- |');
  console.log(`| ./configure | ${m('cc', 'configure').toFixed(1)} s | ${m('katana-cc', 'configure').toFixed(1)} s | ${pct(m('katana-cc', 'configure'), m('cc', 'configure'))} |`);
  console.log(`| make -j${jobs} | ${m('cc', 'make').toFixed(1)} s | ${m('katana-cc', 'make').toFixed(1)} s | ${pct(m('katana-cc', 'make'), m('cc', 'make'))} |`);
  console.log(`| configure + make | ${total('cc').toFixed(1)} s | ${total('katana-cc').toFixed(1)} s | ${pct(total('katana-cc'), total('cc'))} |`);
  console.log(`| \`katana-make patch-since\` (two katana-cc builds and the diff) | | ${made.seconds.toFixed(1)} s | |`);
  console.log(`| \`katana diff\` of the two dash executables (CLI, median) | | ${median(diffs).toFixed(2)} s | |`);
  console.log(`| PO size (1 function) | | ${statSync(po).size} bytes | |`);
  console.log(`| objects / links katana-cc recorded in one build (configure's tests included) | | ${recorded.objects} / ${recorded.links} | |`);
  console.log(`| start-up: \`node -e 0\` | | ${startup(process.execPath, ['-e', '0']).toFixed(0)} ms | |`);
  console.log(`| a probe call: \`--version\` | ${startup('cc', ['--version']).toFixed(0)} ms | ${startup(bin('katana-cc'), ['--version']).toFixed(0)} ms | |`);
  const compileProbe = ['-c', probe, '-o', join(work, 'probe.o')];
  console.log(`| a compile of a one-line C file | ${startup('cc', compileProbe, 10).toFixed(0)} ms | ${startup(bin('katana-cc'), compileProbe, 10).toFixed(0)} ms | |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
