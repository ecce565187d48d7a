// `katana check --pid PID PO` on real running programs: a target whose only thread never leaves
// the patched function (cases/fail_unsafe_forever) is reported blocked (exit 5) with the thread,
// the function and its caller; a target parked where the patch is safe gets exit 0. Either way
// the target is left exactly as it was: same mappings, not traced, still running.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readMaps } from '../lib/checks.js';
import { katana } from '../lib/katana.js';
import { casesDir } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

/** A program that prints its greeting once, then sleeps in main for good: greet() is never on a stack again. */
const PARKED_V1 = `#include <stdio.h>
#include <unistd.h>

void greet(void)
{
	printf("hello\\n");
	fflush(stdout);
}

int main(void)
{
	greet();
	for (int n = 0;; n++) {
		printf("parked %d\\n", n);
		fflush(stdout);
		sleep(1);
	}
}
`;

function tracerOf(pid: number): number {
  return Number(/TracerPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Builds v1 and v2 of `main.c` (v2 by `edit`) in `project` and diffs them into fix.po; returns [v1, po]. */
async function buildPatch(project: TempProject, edit: () => Promise<void>): Promise<[string, string]> {
  const v1 = await project.build(['main.c'], 'prog', ['-O0'], []);
  await edit();
  const v2 = await project.build(['main.c'], 'prog-v2', ['-O0'], []);
  const po = join(project.dir, 'fix.po');
  const diff = await katana(['diff', '--old', v1, '--new', v2, '-o', po], project.dir, project.env);
  assert.is(diff.exitCode, 0, `katana diff failed: ${diff.stderr}`);
  return [v1, po];
}

const check = suite('katana check');

check('a thread that never leaves the patched function blocks the patch: exit 5, named with its caller; the target runs on untouched', async () => {
  const project = new TempProject('check-blocked');
  let target: RunningTarget | undefined;
  try {
    project.copyIn(join(casesDir, 'fail_unsafe_forever', 'main.c'), 'main.c');
    const [v1, po] = await buildPatch(project, () => project.patch(join(casesDir, 'fail_unsafe_forever', 'fix.patch')));
    target = new RunningTarget(v1);
    await target.waitForLine(/^serving \d+$/);
    const maps = readMaps(target.pid);
    const text = await katana(['check', '--pid', String(target.pid), po], project.dir);
    assert.is(text.exitCode, 5, `exit code; stdout: ${text.stdout} stderr: ${text.stderr}`);
    assert.is(text.stderr, '', 'a blocked patch is an answer, not an error');
    assert.match(text.stdout, new RegExp(`cannot be applied to pid ${target.pid} now; 1 of 1 thread\\(s\\) block it:\\n  thread ${target.pid} (is in|will return into) serve_forever \\(called from main\\), which the patch replaces$`));
    const json = await katana(['check', '--json', '--pid', String(target.pid), po], project.dir);
    assert.is(json.exitCode, 5);
    const report = JSON.parse(json.stdout);
    assert.is(report.canApplyNow, false);
    assert.is(report.blocking.length, 1);
    assert.is(report.blocking[0].tid, target.pid);
    assert.is(report.blocking[0].function, 'serve_forever');
    assert.is(report.blocking[0].callers[0], 'main');
    assert.match(report.blocking[0].resumeAt, /^0x[0-9a-f]+$/, 'where a breakpoint would see the thread leave');
    assert.is(readMaps(target.pid), maps, 'no mapping added');
    assert.is(tracerOf(target.pid), 0, 'detached');
    await target.waitForLine(/^serving \d+$/, target.lines.length + 3);
    assert.ok(target.alive, 'still running');
  } finally {
    target?.kill();
    project.remove();
  }
});

check('a target parked outside the patched function could be patched now: exit 0; the target runs on untouched', async () => {
  const project = new TempProject('check-safe');
  let target: RunningTarget | undefined;
  try {
    project.write('main.c', PARKED_V1);
    const [v1, po] = await buildPatch(project, async () => void project.write('main.c', PARKED_V1.replace('hello', 'hello again')));
    target = new RunningTarget(v1);
    await target.waitForLine(/^parked \d+$/);
    const maps = readMaps(target.pid);
    const r = await katana(['check', '--pid', String(target.pid), po], project.dir);
    assert.is(r.exitCode, 0, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^katana check: fix.po could be applied to pid ${target.pid} now \\(1 thread\\(s\\) checked, none in unsafe code\\)$`));
    assert.is(readMaps(target.pid), maps, 'no mapping added');
    assert.is(tracerOf(target.pid), 0, 'detached');
    await target.waitForLine(/^parked \d+$/, target.lines.length + 1);
    assert.ok(target.alive, 'still running');
  } finally {
    target?.kill();
    project.remove();
  }
});

check('a pid that does not exist is one line on stderr and exit 1', async () => {
  const project = new TempProject('check-nopid');
  try {
    project.write('main.c', PARKED_V1);
    const [, po] = await buildPatch(project, async () => void project.write('main.c', PARKED_V1.replace('hello', 'hello again')));
    const r = await katana(['check', '--pid', '67108863', po], project.dir);
    assert.is(r.exitCode, 1);
    assert.is(r.stderr, 'katana: no process with pid 67108863'); // execa strips the final newline
  } finally {
    project.remove();
  }
});

check.run();
