// ThreadGroup on a real multithreaded program (fixtures/workers.c: 8 counting workers, a stdin
// thread that starts more, a main thread printing every counter): seize, stop all, resume all,
// stop one, adopt a thread born while traced, deliver a signal that arrived while traced, detach.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { NoSuchProcessError } from '../src/errors.js';
import { ThreadGroup, listTasks } from '../src/threads.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}.c`, import.meta.url));

// "counters <usr1> <c0> <c1> ..." → { usr1, counters }
function parse(line: string): { usr1: number; counters: number[] } {
  const [, usr1, ...counters] = line.split(' ').map(Number);
  return { usr1: usr1!, counters };
}

// Resolves once every one of `workers` counters has grown between two lines printed from now on.
async function everyWorkerAdvances(target: Target, workers: number): Promise<void> {
  const mark = target.lines.length;
  const isFull = (line: string) => line.startsWith('counters ') && parse(line).counters.length === workers;
  const first = parse(await target.waitFor(isFull, mark)).counters;
  await target.waitFor((line) => isFull(line) && parse(line).counters.every((c, i) => c > first[i]!), mark);
}

function tracerOf(tid: number): number {
  return Number(/TracerPid:\s+(\d+)/.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))![1]);
}

// The one-letter state of a thread in /proc/TID/stat: 't' is a ptrace stop.
function stateOf(pid: number, tid: number): string {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

interface Context {
  remove: () => void;
  target: Target;
  group: ThreadGroup;
}

const threads = suite<Context>('ThreadGroup');

threads.before(async (ctx) => {
  const { dir, remove } = tempDir('applier');
  ctx.remove = remove;
  ctx.target = await Target.start(compileC(fixture('workers'), dir, ['-pthread']));
  await everyWorkerAdvances(ctx.target, 8);
});

threads.after(async (ctx) => {
  await ctx.target.kill();
  ctx.remove();
});

threads('seize attaches every task of /proc/PID/task without stopping any', async (ctx) => {
  const { pid } = ctx.target;
  ctx.group = ThreadGroup.seize(pid);
  assert.is(ctx.group.threads.length, 10, 'main, 8 workers, the stdin thread');
  assert.equal(ctx.group.threads, listTasks(pid));
  for (const tid of ctx.group.threads) assert.is(tracerOf(tid), process.pid);
  await everyWorkerAdvances(ctx.target, 8);
});

threads('stopAll stops every thread; resumeAll lets every thread count on, again and again', async ({ target, group }) => {
  for (let round = 0; round < 3; round++) {
    group.stopAll();
    for (const tid of group.threads) {
      assert.ok(group.isStopped(tid));
      assert.is(stateOf(target.pid, tid), 't');
      assert.ok(group.regs(tid).rip > 0n);
    }
    group.resumeAll();
    await everyWorkerAdvances(target, 8);
  }
});

threads('stopOne stops one thread while the others run; resumeOne lets it go', async ({ target, group }) => {
  const worker = group.threads.find((tid) => tid !== target.pid)!;
  group.stopOne(target.pid);
  assert.ok(group.isStopped(target.pid));
  assert.not.ok(group.isStopped(worker));
  assert.is(stateOf(target.pid, target.pid), 't');
  group.resumeOne(target.pid);
  await everyWorkerAdvances(target, 8);
});

threads('a thread started while traced joins the group at the next stopAll and runs after resumeAll', async ({ target, group }) => {
  target.write('spawn\n');
  // The new thread exists once clone() returns in the kernel; it then waits in its first stop, and
  // its parent in the clone event stop, until stopAll reads those events.
  while (listTasks(target.pid).length < 11) await sleep(5);
  group.stopAll();
  assert.is(group.threads.length, 11);
  assert.equal(group.threads, listTasks(target.pid));
  for (const tid of group.threads) assert.is(stateOf(target.pid, tid), 't');
  group.resumeAll();
  await everyWorkerAdvances(target, 9);
});

threads('a signal that arrives while traced is delivered, not lost', async ({ target, group }) => {
  process.kill(target.pid, 'SIGUSR1');
  group.stopAll();
  group.resumeAll();
  group.detachAll();
  await target.waitFor((line) => line.startsWith('counters 1 '));
});

threads('after detachAll nothing is traced (a second detachAll is harmless) and every thread keeps counting', async ({ target, group }) => {
  assert.equal(group.threads, []);
  for (const tid of listTasks(target.pid)) assert.is(tracerOf(tid), 0);
  group.detachAll();
  await everyWorkerAdvances(target, 9);
});

threads('seize of a pid that does not exist is NoSuchProcessError', () => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  assert.throws(() => ThreadGroup.seize(pidMax), (e: unknown) => e instanceof NoSuchProcessError);
});

threads.run();
