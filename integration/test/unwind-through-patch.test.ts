// A second patch while a thread is inside the code of the first: the thread's stack runs through
// the first patch's code (nanosleep ← nap ← step' in the patch area ← loop ← main), which no
// module's .eh_frame covers. The unwinder walks it with the CFI the first patch brought (.eh_frame
// in the PO, found through the registry), so the second patch is judged on real frames: one that
// changes an unrelated function applies at once; one that changes `loop`, which the thread will
// return into through the first patch's code, is blocked, and `katana check` names the caller chain.
// Built -O2 -fomit-frame-pointer, so no frame-pointer chain could stand in for the CFI. The thread
// spends 200 ms of every 220 under step (so the first patch waits for the 20 ms outside it).
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana } from '../lib/katana.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

const V1 = String.raw`#include <stdio.h>
#include <time.h>

__attribute__((noinline)) void nap(long ms) {
  struct timespec t = { 0, ms * 1000 * 1000 };
  nanosleep(&t, 0);
}

__attribute__((noinline)) int step(int i) {
  nap(200);
  return i + 1;
}

__attribute__((noinline)) int label(int i) {
  return i % 7;
}

__attribute__((noinline)) void loop(void) {
  for (int i = 0;;) {
    i = step(i);
    printf("tick %d label %d\n", i, label(i));
    fflush(stdout);
    nap(20);
  }
}

int main(void) {
  loop();
  return 0;
}
`;

interface Context {
  project: TempProject;
  v1: string;
  first: string;
  label: string;
  loop: string;
}

const FLAGS = ['-O2', '-fomit-frame-pointer'];
const test = suite<Context>('unwinding through the code of an applied patch');

test.before(async (context) => {
  try {
    const project = (context.project = new TempProject('unwind-patch'));
    const build = async (source: string, output: string): Promise<string> => {
      project.write('main.c', source);
      return project.build(['main.c'], output, FLAGS, []);
    };
    const diff = async (to: string, out: string, extra: string[] = []): Promise<string> => {
      const po = join(project.dir, out);
      const r = await katana(['diff', '--old', context.v1, '--new', to, '-o', po, ...extra], project.dir, project.env);
      assert.is(r.exitCode, 0, `katana diff ${out}: ${r.stderr}`);
      return po;
    };
    context.v1 = await build(V1, 'prog');
    const steps = await build(V1.replace('return i + 1;', 'return i + 100;'), 'prog-step');
    const labels = await build(V1.replace('return i % 7;', 'return 1000 + i % 7;'), 'prog-label');
    const loops = await build(V1.replace('"tick %d label %d\\n"', '"loop %d label %d\\n"'), 'prog-loop');
    context.first = await diff(steps, 'first.po');
    context.label = await diff(labels, 'label.po', ['--after', context.first]);
    context.loop = await diff(loops, 'loop.po', ['--after', context.first]);
  } catch (error) {
    // uvu swallows errors thrown by hooks; print it so the failure says why.
    console.error('setting up the unwind-through-patch test failed:', error);
    throw error;
  }
});

test.after((context) => {
  context.project?.remove();
});

/** Applies the first patch to a running v1 and waits until the thread runs the patch's code of step. */
async function applyFirst(context: Context, target: RunningTarget): Promise<void> {
  await target.waitForLine(/^tick \d+ label [0-6]$/);
  const r = await katana(['apply', '--pid', String(target.pid), context.first], context.project.dir);
  assert.is(r.exitCode, 0, `katana apply first.po: ${r.stderr}`);
  await waitForStep(target, 100);
}

/** Waits for two consecutive ticks `by` apart, printed after now. */
async function waitForStep(target: RunningTarget, by: number): Promise<void> {
  const tick = (line: string | undefined): number => Number(/^tick (\d+) /.exec(line ?? '')?.[1] ?? NaN);
  let from = target.lines.length;
  for (;;) {
    const at = await target.waitForLine(/^tick \d+ /, from);
    if (tick(target.lines[at]) - tick(target.lines[at - 1]) === by) return;
    from = at + 1;
  }
}

test('a patch of an unrelated function applies while the thread is under the first patch code', async (context) => {
  const target = new RunningTarget(context.v1);
  try {
    await applyFirst(context, target);
    const check = await katana(['check', '--pid', String(target.pid), context.label], context.project.dir);
    assert.is(check.exitCode, 0, `katana check: ${check.stdout} ${check.stderr}`);
    const r = await katana(['apply', '--pid', String(target.pid), context.label, '--timeout', '0'], context.project.dir);
    assert.is(r.exitCode, 0, `katana apply label.po: ${r.stderr}`);
    const from = target.lines.length;
    await target.waitForLine(/^tick \d+ label 100[0-6]$/, from);
    assert.ok(target.alive);
  } finally {
    target.kill();
  }
});

test('a patch of the function the thread returns into through the first patch code is blocked, named with its callers', async (context) => {
  const target = new RunningTarget(context.v1);
  try {
    await applyFirst(context, target);
    const check = await katana(['check', '--pid', String(target.pid), context.loop, '--json'], context.project.dir);
    assert.is(check.exitCode, 5, `katana check: ${check.stdout} ${check.stderr}`);
    const report = JSON.parse(check.stdout) as { blocking: { tid: number; function: string; how: string; callers: string[] }[] };
    assert.is(report.blocking.length, 1);
    const [thread] = report.blocking;
    assert.is(thread!.tid, target.pid);
    assert.is(thread!.how, 'will return into');
    assert.is(thread!.function, 'loop');
    assert.is(thread!.callers[0], 'main', `callers: ${thread!.callers.join(' ← ')}`);
    const r = await katana(['apply', '--pid', String(target.pid), context.loop, '--timeout', '0.3'], context.project.dir);
    assert.is(r.exitCode, 5, `katana apply loop.po: ${r.stderr}`);
    assert.match(r.stderr, /will return into loop \(called from main\)/);
    await waitForStep(target, 100);
  } finally {
    target.kill();
  }
});

test.run();
