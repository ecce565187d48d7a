// remoteCall in a real program asleep in nanosleep (fixtures/callee.c), built dynamic and -static:
// arguments and return values, a global written by the call and printed by the target afterwards,
// the stack alignment at entry, a crash (typed error, the target runs on), a call that never
// returns (timeout, the target runs on), a signal raised during the call (delivered after the
// resume), a call that ends the process. After each call, the thread's general registers and
// its XSAVE area (vector registers) are what they were.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NT_X86_XSTATE, ProcessMemory, getRegSet, getRegs } from '@katana/ptrace';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { ThreadGroup } from '../src/threads.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, remoteMmap, remoteMprotect } from '../src/remote-syscall.js';
import { RemoteCallCrashError, RemoteCallExitError, RemoteCallTimeoutError, remoteCall } from '../src/remote-call.js';

const source = fileURLToPath(new URL('../../test/fixtures/callee.c', import.meta.url));
const PAGE = 0x1000;

interface Context {
  remove: () => void;
  target: Target;
  group: ThreadGroup;
  fn: Map<string, bigint>;
  returnSite: bigint;
}

// Maps a page holding one int3 in the target (RW, written, then R+X): the calls' return site.
function mapReturnSite(pid: number): bigint {
  const page = remoteMmap(pid, pid, 0n, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const memory = new ProcessMemory(pid);
  memory.write(page, Uint8Array.of(0xcc));
  memory.close();
  remoteMprotect(pid, pid, page, PAGE, PROT_READ | PROT_EXEC);
  return page;
}

// Calls `name` in the main thread and checks that every register is back afterwards.
function call(ctx: Context, name: string, args: bigint[], timeoutMs = 2000): bigint {
  const { pid } = ctx.group;
  const before = getRegs(pid);
  const vectorsBefore = getRegSet(pid, NT_X86_XSTATE);
  try {
    return remoteCall(pid, pid, ctx.fn.get(name)!, args, { returnSite: ctx.returnSite, timeoutMs, name });
  } finally {
    assert.equal([...getRegs(pid).raw], [...before.raw], `general registers after calling ${name}`);
    assert.equal([...getRegSet(pid, NT_X86_XSTATE)], [...vectorsBefore], `XSAVE area after calling ${name}`);
  }
}

// Lets the target run until it prints a tick line passing `test` (taking its signal stops
// meanwhile, which the group passes on); stops it again.
async function runUntil(ctx: Context, test: (line: string) => boolean): Promise<void> {
  const from = ctx.target.lines.length;
  const seen = () => ctx.target.lines.slice(from).some((l) => l.startsWith('tick') && test(l));
  ctx.group.resumeAll();
  const deadline = Date.now() + 10_000;
  while (!seen()) {
    if (Date.now() > deadline) throw new Error(`the target did not print the awaited line; it printed:\n${ctx.target.lines.slice(from).join('\n')}`);
    ctx.group.poll();
    await sleep(5);
  }
  ctx.group.stopAll();
}

for (const build of ['dynamic', 'static'] as const) {
  const test = suite<Context>(`remoteCall in a ${build} executable`);

  test.before(async (ctx) => {
    const { dir, remove } = tempDir('applier');
    ctx.remove = remove;
    ctx.target = await Target.start(compileC(source, dir, build === 'static' ? ['-static'] : []));
    await ctx.target.waitFor((line) => line.startsWith('tick 1 '));
    ctx.fn = new Map(ctx.target.lines.filter((l) => l.startsWith('fn ')).map((l) => {
      const [, name, address] = l.split(' ');
      return [name!, BigInt(address!)];
    }));
    ctx.group = ThreadGroup.seize(ctx.target.pid);
    ctx.group.stopAll();
    ctx.returnSite = mapReturnSite(ctx.target.pid);
  });

  test.after(async (ctx) => {
    // A traced process that dies is reaped by its tracer before its parent sees it: let it go first.
    ctx.group.detachAll();
    await ctx.target.kill();
    ctx.remove();
  });

  test('six arguments arrive in rdi, rsi, rdx, rcx, r8, r9 and rax comes back', (ctx) => {
    assert.is(call(ctx, 'weigh', [1n, 2n, 3n, 4n, 5n, 6n]), 91n);
    assert.is(call(ctx, 'weigh', [-1n & 0xffffffffffffffffn, 0n, 0n, 0n, 0n, 1n]), 5n);
  });

  test('at the function entry (rsp + 8) % 16 == 0 and rsp is below the red zone', (ctx) => {
    const rsp = getRegs(ctx.group.pid).rsp;
    const atEntry = call(ctx, 'entry_rsp', []);
    assert.is(atEntry % 16n, 0n);
    assert.ok(atEntry <= rsp - 128n, `rsp + 8 at entry 0x${atEntry.toString(16)}, thread rsp 0x${rsp.toString(16)}`);
  });

  test('a global the call writes is what the target prints once it runs', async (ctx) => {
    call(ctx, 'set_value', [4242n]);
    await runUntil(ctx, (line) => line.includes(' value 4242 '));
  });

  test('vector registers the function clobbers are restored', (ctx) => {
    call(ctx, 'clobber_vectors', []);
  });

  test('a call that segfaults throws RemoteCallCrashError; the target runs on', async (ctx) => {
    try {
      call(ctx, 'load', [0n]);
      assert.unreachable('load(NULL) returned');
    } catch (error) {
      assert.instance(error, RemoteCallCrashError);
      const e = error as RemoteCallCrashError;
      assert.is(e.code, 'E_REMOTE_CALL_CRASH');
      assert.is(e.signal, 11);
      assert.is(e.faultAddress, 0n);
      const load = ctx.fn.get('load')!;
      assert.ok(e.rip >= load && e.rip < load + 32n, `rip 0x${e.rip.toString(16)} is in load`);
      assert.match(e.message, new RegExp(`^load called in thread ${ctx.group.pid} of pid ${ctx.group.pid} crashed with SIGSEGV at rip 0x${e.rip.toString(16)} accessing 0x0;`));
    }
    const seen = ctx.target.lines.length;
    await runUntil(ctx, (line) => line.includes(' value 4242 '));
    await runUntil(ctx, () => ctx.target.lines.length > seen + 3);
    assert.is(call(ctx, 'weigh', [1n, 1n, 1n, 1n, 1n, 1n]), 21n, 'the thread still calls');
  });

  test('a call that never returns throws RemoteCallTimeoutError on time; the target runs on', async (ctx) => {
    const started = performance.now();
    try {
      call(ctx, 'wait_forever', [], 300);
      assert.unreachable('wait_forever returned');
    } catch (error) {
      assert.instance(error, RemoteCallTimeoutError);
      const e = error as RemoteCallTimeoutError;
      assert.is(e.code, 'E_REMOTE_CALL_TIMEOUT');
      assert.is(e.message, `wait_forever called in thread ${ctx.group.pid} of pid ${ctx.group.pid} did not return within 300 ms (is another thread holding the allocator's lock?)`);
    }
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 300 && elapsed < 800, `timed out after ${elapsed.toFixed(0)} ms`);
    const seen = ctx.target.lines.length;
    await runUntil(ctx, () => ctx.target.lines.length > seen + 3);
  });

  test('a signal raised during the call is delivered once the thread runs again', async (ctx) => {
    assert.is(call(ctx, 'raise_usr1', []), 0n);
    await runUntil(ctx, (line) => line.endsWith(' usr1 1'));
  });

  if (build === 'dynamic') {
    test('a call that ends the process throws RemoteCallExitError', (ctx) => {
      try {
        remoteCall(ctx.group.pid, ctx.group.pid, ctx.fn.get('leave')!, [7n], { returnSite: ctx.returnSite, timeoutMs: 2000, name: 'leave' });
        assert.unreachable('leave returned');
      } catch (error) {
        assert.instance(error, RemoteCallExitError);
        assert.is((error as RemoteCallExitError).message, `thread ${ctx.group.pid} of pid ${ctx.group.pid} exited with status 7 during a call to leave`);
      }
    });
  }

  test.run();
}
