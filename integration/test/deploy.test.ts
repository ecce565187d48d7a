// `katana apply --exe PATH PO`, the deploy form: every process running the file PATH is patched
// and reported on its own JSON line. Three instances switch from "hello" to "bonjour"; a fourth,
// held inside the replaced function, is refused on its line and makes the exit status 1. Once the
// file is replaced on disk, its processes run an unlinked inode: they are listed as skipped and,
// with nothing left running PATH, the exit status is 4; plugins/deploy/katana-rollout.sh says so.
import { execa } from 'execa';
import { copyFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana } from '../lib/katana.js';
import { bin, repoRoot } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

const fixture = join(repoRoot, 'integration', 'fixtures', 'held_greeter');
const deploy = suite('katana apply --exe');

interface Line {
  pid: number;
  ok: boolean;
  code: string;
  message: string;
  skipped?: boolean;
  stoppedMicros?: number;
}

deploy('patches every process of the executable, and reports the one it cannot patch', async () => {
  const project = new TempProject('deploy');
  const targets: RunningTarget[] = [];
  try {
    project.copyIn(join(fixture, 'main.c'), 'main.c');
    const v1 = await project.build(['main.c'], 'prog', ['-O0'], []);
    const deployed = join(project.dir, 'deployed');
    copyFileSync(v1, deployed);
    await project.patch(join(fixture, 'fix.patch'));
    const v2 = await project.build(['main.c'], 'prog-v2', ['-O0'], []);
    const po = join(project.dir, 'fix.po');
    const diff = await katana(['diff', '--old', v1, '--new', v2, '-o', po], project.dir, project.env);
    assert.is(diff.exitCode, 0, diff.stderr);

    for (let i = 0; i < 3; i++) targets.push(new RunningTarget(deployed));
    const held = new RunningTarget(deployed, ['hold']);
    targets.push(held);
    for (const t of targets.slice(0, 3)) await t.waitForLine(/^hello \d+$/);
    await held.waitForLine(/^holding$/);

    const apply = await katana(['apply', '--exe', deployed, po, '--timeout', '0.3'], project.dir);
    assert.is(apply.exitCode, 1, `one process could not be patched; stderr: ${apply.stderr}`);
    const lines = apply.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    assert.equal(lines.map((l) => l.pid).sort((a, b) => a - b), targets.map((t) => t.pid).sort((a, b) => a - b), 'one line per process');
    for (const t of targets.slice(0, 3)) {
      const line = lines.find((l) => l.pid === t.pid)!;
      assert.is(line.ok, true, line.message);
      assert.ok(typeof line.stoppedMicros === 'number' && line.stoppedMicros > 0, `stoppedMicros in ${JSON.stringify(line)}`);
      const first = await t.waitForLine(/^bonjour \d+$/);
      await t.waitForLine(/^bonjour \d+$/, first + 1);
    }
    const refused = lines.find((l) => l.pid === held.pid)!;
    assert.is(refused.ok, false);
    assert.is(refused.code, 'E_UNSAFE');
    assert.match(refused.message, /greet/);
    assert.match(apply.stderr, new RegExp(`^katana apply: pid ${held.pid}: `));
    assert.ok(targets.every((t) => t.alive), 'every process still runs');

    // A new build installed over the file (rename, as install(1) and package managers do).
    copyFileSync(v2, join(project.dir, 'deployed.new'));
    renameSync(join(project.dir, 'deployed.new'), deployed);
    const replaced = await katana(['apply', '--exe', deployed, po, '--json'], project.dir);
    assert.is(replaced.exitCode, 6, replaced.stderr);
    assert.match(replaced.stderr, /^katana: no running process has .*deployed as its executable \(4 run a replaced earlier file at that path\)$/);
    const skipped = replaced.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    assert.equal(skipped.filter((l) => l.skipped && l.code === 'E_EXE_REPLACED').length, 4);
    assert.equal(skipped.at(-1), { ok: false, code: 'E_EXE_NOT_RUNNING', message: skipped.at(-1)!.message });

    // The example rollout script reads the same lines: skipped processes, and no failure.
    const rollout = await execa(join(repoRoot, 'plugins', 'deploy', 'katana-rollout.sh'), [po, deployed], { env: { KATANA: bin('katana') }, reject: false });
    assert.is(rollout.exitCode, 0, rollout.stderr);
    assert.match(rollout.stdout, new RegExp(`^local: pid ${held.pid}: skipped E_EXE_REPLACED: `, 'm'));
    assert.match(rollout.stdout, /^local: no process runs .*deployed$/m);
  } finally {
    for (const t of targets) t.kill();
    project.remove();
  }
});

deploy.run();
