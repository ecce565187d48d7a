// The real-world proof: hot-patch a running dash with a fix Debian ships. From nothing:
//   1. dash's Debian source package (deb-src entry and dpkg-dev added when missing, cached);
//   2. a git repository: upstream tree, tag v-debian-base, then Debian patch 0018 committed;
//   3. the tag built with CC=cc from a clean checkout (the plain build, timed);
//   4. `katana-make patch-since v-debian-base`: both builds under katana-cc, a PO for src/dash;
//      `katana diff` run again on the same two builds, timed alone; `katana inspect` of the PO;
//   5. the tag's dash (katana-make's worktree build) started, reading commands on a pipe; the bug
//      shown (`hash -rv` accepted, the hash table cleared); `katana apply --pid`; the fix shown
//      (`hash -rv` refused, the table kept), with the same pid and the shell's variables intact.
// Prints the figures (build times, overhead, diff time, PO size); with --json also a report on
// stdout. Any failure prints one line `real-world: ...` and exits 1.
//   node integration/real-world/run.mjs [--jobs N] [--json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCommand, dash, prepareRepository } from './dash.mjs';
import { fetchSourcePackage, run } from './debian-source.mjs';
import { RealWorldError } from './real-world-error.mjs';
import { ShellSession } from './shell-session.mjs';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: String(availableParallelism()) }, json: { type: 'boolean' } } });
const jobs = Number(values.jobs);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const log = (message) => process.stderr.write(`real-world: ${message}\n`);

function seconds(fn) {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { result, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function expectLines(what, lines, expected) {
  const ok = lines.length === expected.length && expected.every((e, i) => (e instanceof RegExp ? e.test(lines[i]) : e === lines[i]));
  if (!ok) throw new RealWorldError(`${what}: expected ${expected.map(String).join(' / ')}, got ${JSON.stringify(lines)}`);
}

async function prove(work) {
  for (const name of ['katana', 'katana-make']) {
    if (!existsSync(bin(name))) throw new RealWorldError(`${bin(name)} is missing: run npm run build first`);
  }
  const dsc = fetchSourcePackage(dash, log);
  const repo = join(work, 'dash');
  const subject = prepareRepository(dsc, repo, log);
  const build = buildCommand(jobs);

  const plainTree = join(work, 'plain-cc');
  run('git', ['worktree', 'add', '--quiet', '--detach', plainTree, dash.baseTag], { cwd: repo });
  log(`plain build of ${dash.baseTag} with CC=cc, -j${jobs}`);
  const plain = seconds(() => run('sh', ['-c', build], { cwd: plainTree, env: { ...process.env, CC: 'cc' } }));

  log(`katana-make patch-since ${dash.baseTag} --build '${build}'`);
  const made = seconds(() => run(bin('katana-make'), ['patch-since', dash.baseTag, '--build', build, '--out', join(work, 'patches'), '--json'], { cwd: repo }));
  const builtTimes = [...made.result.stderr.matchAll(/^katana-make: built .* in ([0-9.]+) s$/gm)].map((m) => Number(m[1]));
  const makeDiff = /^katana-make: diffed src\/dash in ([0-9.]+) s/m.exec(made.result.stderr);
  const dashOutput = JSON.parse(made.result.stdout).outputs.find((o) => o.output === dash.executable);
  if (builtTimes.length !== 2 || !makeDiff || dashOutput?.status !== 'patched') {
    throw new RealWorldError(`katana-make patch-since made no PO for ${dash.executable}: ${made.result.stdout.trim()}`);
  }
  const po = dashOutput.patch;
  const sha = run('git', ['rev-parse', `${dash.baseTag}^{commit}`], { cwd: repo }).stdout.trim();
  const original = join(repo, '.katana', 'worktrees', sha, dash.executable);

  const cliPo = join(work, 'hashcmd.po');
  const diff = seconds(() => run(bin('katana'), ['diff', '--old', original, '--new', join(repo, dash.executable), '-o', cliPo, '--json'], { cwd: repo }));
  const inspectText = run(bin('katana'), ['inspect', po]).stdout;
  const changed = JSON.parse(run(bin('katana'), ['inspect', '--json', po]).stdout).changed.map((f) => `${f.file}:${f.name}`);
  expectLines('functions the PO changes', changed, ['src/exec.c:hashcmd']);

  log(`starting ${original}`);
  const shell = new ShellSession(original);
  try {
    const pid = shell.pid;
    expectLines('the hash table before the patch', await shell.run('marker=set-before-the-patch; cat /dev/null; hash'), [/\/cat$/]);
    const before = await shell.run('hash -rv 2>&1; echo "status=$?"; hash');
    expectLines('`hash -rv` before the patch (the bug: accepted, table cleared)', before, ['status=0']);
    await shell.run('cat /dev/null');
    const apply = run(bin('katana'), ['apply', '--json', '--pid', String(pid), po]);
    const applied = JSON.parse(apply.stdout);
    const after = await shell.run('hash -rv 2>&1; echo "status=$?"; hash; echo "marker=$marker pid=$$"');
    expectLines('`hash -rv` after the patch (the fix: refused, table kept, state intact)', after,
      [/hash: Illegal option -v$/, 'status=2', /\/cat$/, `marker=set-before-the-patch pid=${pid}`]);
    if (!shell.alive) throw new RealWorldError(`dash ${pid} died after the patch`);
    return {
      ok: true,
      program: `${dash.name} ${dash.version}`,
      patch: dash.patch,
      subject,
      changed,
      pid,
      before,
      after,
      inspect: inspectText,
      stoppedMicros: applied.stoppedMicros,
      figures: {
        jobs,
        plainBuildSeconds: plain.seconds,
        katanaCcBuildSeconds: builtTimes[0],
        overheadPercent: (builtTimes[0] / plain.seconds - 1) * 100,
        patchSinceSeconds: made.seconds,
        patchSinceDiffSeconds: Number(makeDiff[1]),
        katanaDiffSeconds: diff.seconds,
        poBytes: statSync(po).size,
      },
    };
  } finally {
    shell.kill();
  }
}

function print(report) {
  const f = report.figures;
  const rows = [
    [`plain build of ${dash.baseTag} with CC=cc (configure + make)`, `${f.plainBuildSeconds.toFixed(1)} s`],
    ['the same build with CC=katana-cc (katana-make\'s worktree)', `${f.katanaCcBuildSeconds.toFixed(1)} s (${f.overheadPercent >= 0 ? '+' : ''}${f.overheadPercent.toFixed(0)} %)`],
    ['katana-make patch-since (two builds and the diff)', `${f.patchSinceSeconds.toFixed(1)} s`],
    ['the diff inside katana-make', `${f.patchSinceDiffSeconds.toFixed(2)} s`],
    ['katana diff (the CLI, Node start-up included)', `${f.katanaDiffSeconds.toFixed(2)} s`],
    ['PO size', `${f.poBytes} bytes`],
    ['target stopped during the apply', `${report.stoppedMicros} µs`],
  ];
  const lines = [
    `real-world: patched a running ${report.program} (pid ${report.pid}) with Debian's ${report.patch}`,
    `  before: hash -rv -> ${report.before.join(' | ')}`,
    `  after:  hash -rv -> ${report.after.join(' | ')}`,
    report.inspect.trimEnd(),
    `figures (-j${f.jobs}, one run each; bench/katana-cc-overhead gives medians):`,
    ...rows.map(([label, value]) => `  ${label.padEnd(62)} ${value}`),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

const work = mkdtempSync(join(tmpdir(), 'katana-real-world-'));
try {
  const report = await prove(work);
  print(report);
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
} catch (error) {
  process.stderr.write(`real-world: ${error instanceof RealWorldError ? '' : 'internal error: '}${error.message}\n`);
  process.exitCode = 1;
} finally {
  if (process.env.KATANA_KEEP_TMP === '1') log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
