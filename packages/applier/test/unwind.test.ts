// The CFI unwinder against gdb on real stopped processes: fixtures/parked.c (threads blocked in
// nanosleep under recursion, read on a pipe, pthread_cond_wait, pthread_join, and one in pause()
// inside a SIGUSR1 handler that interrupted a read) built -O0/-O2, with and without frame pointers,
// dynamic and static. We seize and stop every thread, unwind each, detach; then gdb attaches and
// walks the same threads (its Python API, so each frame's type and pc are exact). Every physical
// frame must match: same count, same pc, same function. gdb adds frames that have no stack frame
// of their own: INLINE_FRAME (a function inlined into the next frame's, at the same pc) and
// TAILCALL_FRAME (a caller that tail-called, rebuilt from DWARF call-site info); those are left out
// of the comparison, and nothing else is. Function names are equal, or aliases of one function
// (gdb may say __GI___nanosleep where the symbol table also calls it nanosleep).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfFile, STT_FUNC, STT_GNU_IFUNC } from '@katana/elf';
import { ProcessMemory } from '@katana/ptrace';
import { Target, tempDir } from '@katana/ptrace/testing';
import { readProcess, type ProcessModel } from '../src/process.js';
import { ThreadGroup, listTasks } from '../src/threads.js';
import { CodeMap } from '../src/unwind/code-map.js';
import { MemoryView } from '../src/unwind/memory-view.js';
import { Unwinder, type Backtrace, type StackFrame } from '../src/unwind/unwinder.js';
import { fixture, gcc } from './helpers.js';

/** One frame as gdb reports it. */
interface GdbFrame {
  type: string;
  pc: bigint;
  name: string | undefined;
}

const GDB_SCRIPT = `
import gdb
names = {getattr(gdb, n): n for n in dir(gdb) if n.endswith('_FRAME')}
for t in sorted(gdb.selected_inferior().threads(), key=lambda t: t.ptid[1]):
    t.switch()
    f = gdb.newest_frame()
    while f is not None:
        print("FRAME %d %s 0x%x %s" % (t.ptid[1], names.get(f.type(), f.type()), f.pc(), f.name()))
        try:
            f = f.older()
        except gdb.error as e:
            print("STOP %d %s" % (t.ptid[1], e))
            break
`;

/** gdb's frames of every thread of `pid`, by tid. */
function gdbBacktraces(pid: number, dir: string): Map<number, GdbFrame[]> {
  const script = join(dir, 'frames.py');
  writeFileSync(script, GDB_SCRIPT);
  let output: string;
  try {
    output = execFileSync('gdb', [
      '-p', String(pid), '-batch', '-nx', '-iex', 'set debuginfod enabled off',
      '-ex', 'set backtrace past-main on', '-ex', 'set backtrace past-entry on', '-x', script,
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('gdb is required by this test but is not installed');
    throw new Error(`gdb -p ${pid} failed: ${e.stderr ?? e.message}`);
  }
  const frames = new Map<number, GdbFrame[]>();
  for (const line of output.split('\n')) {
    const stop = /^STOP (\d+) (.*)$/.exec(line);
    if (stop) throw new Error(`gdb could not unwind thread ${stop[1]}: ${stop[2]}`);
    const m = /^FRAME (\d+) (\w+) 0x([0-9a-f]+) (\S+)$/.exec(line);
    if (!m) continue;
    const tid = Number(m[1]);
    if (!frames.has(tid)) frames.set(tid, []);
    frames.get(tid)!.push({ type: m[2]!, pc: BigInt(`0x${m[3]}`), name: m[4] === 'None' ? undefined : m[4]! });
  }
  return frames;
}

/** Waits until every thread of `pid` sleeps in a system call (state S in /proc/PID/task/TID/stat). */
async function everyThreadAsleep(pid: number, threads: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const tasks = listTasks(pid);
    const asleep = tasks.filter((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const syscall = readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('S') && !syscall.startsWith('running');
    });
    if (tasks.length === threads && asleep.length === threads) return;
    if (Date.now() > deadline) throw new Error(`pid ${pid}: ${asleep.length} of ${tasks.length} threads asleep, ${threads} expected`);
    await sleep(20);
  }
}

/** Every function name at the run-time address `start` in the module `path` (aliases included). */
function namesAt(model: ProcessModel, path: string | undefined, start: bigint | undefined): Set<string> {
  const names = new Set<string>();
  const module = model.modules.find((m) => m.path === path);
  if (module === undefined || start === undefined) return names;
  const files = [module.elf];
  const id = module.elf.buildId();
  if (id !== undefined) {
    try {
      files.push(ElfFile.open(`/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`));
    } catch {
      // no debug file installed: the module's own tables only
    }
  }
  for (const elf of files) {
    for (const s of [...elf.symbols(), ...elf.dynamicSymbols()]) {
      if ((s.type === STT_FUNC || s.type === STT_GNU_IFUNC) && s.value + module.bias === start) names.add(s.name);
    }
  }
  return names;
}

function describe(frames: readonly { pc: bigint; name?: string | undefined; function?: string | undefined }[]): string {
  return frames.map((f) => `0x${f.pc.toString(16)} ${f.name ?? f.function ?? '??'}`).join(' < ');
}

/** Compares our backtrace with gdb's physical frames; throws on the first difference. */
function compare(model: ProcessModel, ours: Backtrace, theirs: GdbFrame[]): void {
  const physical = theirs.filter((f) => f.type !== 'INLINE_FRAME' && f.type !== 'TAILCALL_FRAME');
  const where = `thread ${ours.tid}\n  ours: ${describe(ours.frames)}\n  gdb:  ${describe(physical)}`;
  assert.is(ours.unreliable, undefined, `${where}\n  unreliable: ${ours.unreliable}`);
  assert.is(ours.frames.length, physical.length, `number of frames of ${where}`);
  physical.forEach((g, i) => {
    const mine: StackFrame = ours.frames[i]!;
    assert.is(mine.pc, g.pc, `pc of frame ${i} of ${where}`);
    if (g.name === undefined) {
      assert.is(mine.function, undefined, `frame ${i}: gdb names no function (??) of ${where}`);
      return;
    }
    const gdbName = g.name.replace(/@.*$/, '');
    if (mine.function === gdbName) return;
    assert.ok(namesAt(model, mine.module, mine.functionStart).has(gdbName), `frame ${i}: ${mine.function} is not ${gdbName} (nor an alias of it) in ${where}`);
  });
}

const variants: { label: string; flags: string[] }[] = [
  { label: '-O0 -fno-omit-frame-pointer', flags: ['-O0', '-fno-omit-frame-pointer'] },
  { label: '-O2 -fomit-frame-pointer', flags: ['-O2', '-fomit-frame-pointer'] },
  { label: '-O2 -fno-omit-frame-pointer', flags: ['-O2', '-fno-omit-frame-pointer'] },
  { label: '-O0 -fomit-frame-pointer -static', flags: ['-O0', '-fomit-frame-pointer', '-static'] },
  { label: '-O2 -fno-omit-frame-pointer -static', flags: ['-O2', '-fno-omit-frame-pointer', '-static'] },
];

const gdb = suite('Unwinder against gdb');
const temp = tempDir('applier');

for (const variant of variants) {
  gdb(`every frame of every thread of parked.c built ${variant.label}`, async () => {
    const exe = join(temp.dir, `parked${variant.label.replace(/[^a-z0-9]+/gi, '_')}`);
    gcc(['-g', '-pthread', ...variant.flags, fixture('parked.c'), '-o', exe]);
    const target = await Target.start(exe);
    try {
      await target.waitFor((line) => line === 'ready');
      await everyThreadAsleep(target.pid, 5);
      const model = readProcess(target.pid);
      const memory = new ProcessMemory(target.pid);
      const code = new CodeMap(model, memory);
      code.prepare();
      const unwinder = new Unwinder(code);
      const ours = new Map<number, Backtrace>();
      const group = ThreadGroup.seize(target.pid);
      try {
        group.stopAll();
        for (const tid of group.threads) ours.set(tid, unwinder.unwind(tid, group.regs(tid), new MemoryView(memory)));
      } finally {
        group.detachAll();
        memory.close();
      }
      const theirs = gdbBacktraces(target.pid, temp.dir);
      assert.equal([...ours.keys()].sort(), [...theirs.keys()].sort(), 'the same threads');
      for (const [tid, backtrace] of ours) compare(model, backtrace, theirs.get(tid)!);
      // The handler thread: pause < on_usr1 < __restore_rt < (the interrupted read, exact pc) < handler.
      const handler = [...ours.values()].find((b) => b.frames.some((f) => f.function === 'on_usr1'))!;
      const trampoline = handler.frames.findIndex((f) => f.function === '__restore_rt');
      assert.ok(trampoline > 0, `a __restore_rt frame in ${describe(handler.frames)}`);
      assert.is(handler.frames[trampoline + 1]!.source, 'signal', 'the interrupted frame comes from the ucontext');
      assert.not.ok(handler.frames[trampoline + 1]!.isReturnAddress, 'the interrupted pc is exact');
      const napper = [...ours.values()].find((b) => b.frames.some((f) => f.function === 'napper'))!;
      assert.is(napper.frames.filter((f) => f.function === 'nap_deep').length, 4, 'nap_deep recursed 3 deep');
    } finally {
      await target.kill();
    }
  });
}

gdb.after(() => {
  try {
    temp.remove();
  } catch (error) {
    console.error('cleanup failed:', error);
  }
});
gdb.run();
