// waitUntilLeft on a real program (fixtures/waiter.c): breakpoints at function entries found with
// the ELF symbol table plus the load bias. A site the program reaches every 20 ms is caught; a site
// eight threads race through is caught again and again with every rip moved back and no SIGTRAP
// escaping to the program; a site never reached times out; a target killed meanwhile is reported.
// Each time, every code byte is as before, signals and new threads keep flowing, and the program
// carries on after detach.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfFile } from '@katana/elf';
import { ProcessMemory } from '@katana/ptrace';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { ApplierError } from '../src/errors.js';
import { readMaps, readProcess } from '../src/process.js';
import { ThreadGroup, listTasks } from '../src/threads.js';
import { waitUntilLeft } from '../src/wait-for-exit.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/waiter.c', import.meta.url));
const HOT_THREADS = 8;

interface Tick {
  n: number;
  usr1: number;
  trap: number;
  own: number;
  hot: number;
  born: number;
}

function parseTick(line: string): Tick | undefined {
  const m = /^tick (\d+) usr1 (\d+) trap (\d+) own (\d+) hot (\d+) born (\d+)$/.exec(line);
  if (m === null) return undefined;
  const [n, usr1, trap, own, hot, born] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { n, usr1, trap, own, hot, born };
}

// Waits for `count` more tick lines and checks every tick line so far: consecutive numbers, and
// never more SIGTRAPs handled than int3 the program executed itself.
async function ticksCarryOn(target: Target, count: number): Promise<Tick> {
  const from = target.lines.length;
  await target.waitFor((line) => parseTick(line) !== undefined, from + count - 1);
  const ticks = target.lines.map(parseTick).filter((t): t is Tick => t !== undefined);
  ticks.forEach((t, i) => {
    assert.is(t.n, ticks[0]!.n + i, `tick ${t.n} follows tick ${ticks[0]!.n + i - 1}`);
    assert.ok(t.trap <= t.own, `the program handled ${t.trap} SIGTRAPs but executed only ${t.own} int3: ours escaped`);
  });
  return ticks.at(-1)!;
}

// Run-time address of function `name` of the target's executable.
function functionAddress(exe: string, pid: number, name: string): bigint {
  const symbol = ElfFile.open(exe).symbols().find((s) => s.name === name);
  if (symbol === undefined) throw new Error(`${exe} has no symbol ${name}`);
  return symbol.value + readProcess(pid).exe.bias;
}

// The executable's code as the process has it now (its r-x mappings).
function codeOf(pid: number, exe: string, memory: ProcessMemory): Uint8Array[] {
  return readMaps(pid)
    .filter((m) => m.path === exe && m.perms.startsWith('r-x'))
    .map((m) => memory.read(m.start, Number(m.end - m.start)));
}

// The tracer of a thread, 0 when none; undefined when the thread has ended since it was listed.
function tracerOf(pid: number, tid: number): number | undefined {
  try {
    return Number(/TracerPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]);
  } catch {
    return undefined;
  }
}

interface Context {
  remove: () => void;
  exe: string;
  target: Target;
  memory: ProcessMemory;
}

const wait = suite<Context>('waitUntilLeft');

wait.before(async (ctx) => {
  try {
    const { dir, remove } = tempDir('applier');
    ctx.remove = remove;
    ctx.exe = compileC(fixture, dir, ['-pthread']);
    ctx.target = await Target.start(ctx.exe, [String(HOT_THREADS)]);
    await ticksCarryOn(ctx.target, 3);
    ctx.memory = new ProcessMemory(ctx.target.pid);
  } catch (error) {
    console.error('waitUntilLeft setup failed:', error);
    throw error;
  }
});

wait.after(async (ctx) => {
  ctx.memory?.close();
  await ctx.target?.kill();
  ctx.remove?.();
});

wait('a thread leaving code it sleeps in is caught at its resume address, the int3 gone', async ({ exe, target, memory }) => {
  const { pid } = target;
  const tick = functionAddress(exe, pid, 'tick');
  const code = codeOf(pid, exe, memory);
  const group = ThreadGroup.seize(pid);
  group.stopAll();
  const outcome = waitUntilLeft(group, memory, [{ tid: pid, resumeAt: tick }], Date.now() + 5000);
  assert.is(outcome, 'left');
  for (const tid of group.threads) assert.ok(group.isStopped(tid), `thread ${tid} stopped`);
  assert.is(group.regs(pid).rip, tick, 'main is held on the breakpoint site, rip moved back');
  assert.equal(codeOf(pid, exe, memory), code, 'every code byte as before');
  group.detachAll();
  await ticksCarryOn(target, 3);
});

wait('threads racing through a breakpoint, 20 times over: every rip moved back, no SIGTRAP escapes', async ({ exe, target, memory }) => {
  const { pid } = target;
  const hot = functionAddress(exe, pid, 'hot');
  const code = codeOf(pid, exe, memory);
  const group = ThreadGroup.seize(pid);
  for (let round = 0; round < 20; round++) {
    group.stopAll();
    const spinner = group.threads.find((tid) => tid !== pid)!;
    assert.is(waitUntilLeft(group, memory, [{ tid: spinner, resumeAt: hot }], Date.now() + 5000), 'left', `round ${round}`);
    for (const tid of group.threads) {
      assert.ok(group.isStopped(tid));
      assert.is.not(group.regs(tid).rip, hot + 1n, `round ${round}: thread ${tid} left past the int3`);
    }
    assert.equal(codeOf(pid, exe, memory), code, `round ${round}: every code byte as before`);
    group.resumeAll();
  }
  group.detachAll();
  const before = target.lines.length;
  const last = await ticksCarryOn(target, 3);
  assert.ok(last.hot > parseTick(target.lines[before - 1] ?? '')!.hot, 'hot() still called');
});

wait('a site never reached times out by the deadline with the target untouched, signals and new threads flowing', async ({ exe, target, memory }) => {
  const { pid } = target;
  const never = functionAddress(exe, pid, 'never_called');
  const code = codeOf(pid, exe, memory);
  const group = ThreadGroup.seize(pid);
  group.stopAll();
  const before = target.lines.map(parseTick).filter((t) => t !== undefined).at(-1)!;
  const started = Date.now();
  const outcome = waitUntilLeft(group, memory, [{ tid: pid, resumeAt: never }], started + 400);
  const waited = Date.now() - started;
  assert.is(outcome, 'timeout');
  assert.ok(waited >= 400, `returned after ${waited} ms, before the deadline`);
  for (const tid of group.threads) assert.ok(group.isStopped(tid));
  assert.equal(codeOf(pid, exe, memory), code, 'every code byte as before: no int3 left');
  group.detachAll();
  for (const tid of listTasks(pid)) assert.ok(tracerOf(pid, tid) !== process.pid, `thread ${tid} no longer traced`);
  const after = await ticksCarryOn(target, 2);
  // The signaller sends a SIGUSR1 and runs an int3 every 2 ms, but shares two loaded cores with
  // eight spinning threads: expect tens during the 400 ms wait, not two hundred.
  assert.ok(after.usr1 - before.usr1 > 10, `SIGUSR1 handled during the wait: ${before.usr1} → ${after.usr1}`);
  assert.ok(after.trap - before.trap > 10, `own SIGTRAPs handled during the wait: ${before.trap} → ${after.trap}`);
  // Each thread start waits for our poll twice (clone event, the new thread's first stop) behind
  // eight spinning threads on a loaded machine: expect a few, not hundreds.
  assert.ok(after.born - before.born > 5, `threads started during the wait: ${before.born} → ${after.born}`);
});

wait('a target killed during the wait is reported as gone, promptly', async ({ exe }) => {
  const { dir, remove } = tempDir('applier');
  const victim = await Target.start(compileC(fixture, dir, ['-pthread']), ['2']);
  let memory: ProcessMemory | undefined;
  let group: ThreadGroup | undefined;
  try {
    await victim.waitFor((line) => line.startsWith('tick 2 '));
    // Opened once the program runs: the pid is known as soon as the shell forks it, and a
    // /proc/PID/mem opened before its exec reads the shell's old memory (EIO ever after).
    memory = new ProcessMemory(victim.pid);
    const never = functionAddress(exe, victim.pid, 'never_called');
    group = ThreadGroup.seize(victim.pid);
    group.stopAll();
    spawn('/bin/sh', ['-c', `sleep 0.3; kill -KILL ${victim.pid}`], { stdio: 'ignore' });
    const started = Date.now();
    try {
      waitUntilLeft(group, memory, [{ tid: victim.pid, resumeAt: never }], started + 10_000);
      assert.unreachable('the wait ended normally although the target was killed');
    } catch (error) {
      assert.ok(error instanceof ApplierError, `not an ApplierError: ${(error as Error).stack}`);
      assert.is((error as ApplierError).code, 'E_NO_PROCESS');
      assert.match((error as Error).message, `pid ${victim.pid} exited while katana waited for a safe moment`);
    }
    assert.ok(Date.now() - started < 5000, 'reported long before the deadline');
  } finally {
    // Reaps the dead threads, so that the target's parent sees it exit.
    group?.detachAll();
    memory?.close();
    await victim.kill();
    remove();
  }
});

wait.run();
