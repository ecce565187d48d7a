// TargetCalls in a real program blocked in read() on its stdin (fixtures/allocs.c), with the malloc
// and free findAllocator finds: 100,000 blocks allocated in one batch are freed by the TARGET's own
// free() after it reads their malloc_usable_size (so they are its allocator's blocks); freeEach gives
// blocks back (mallinfo2 returns to its level); callEach calls a function of the target with each
// pair in order; a malloc that runs out of memory half way (RLIMIT_AS) frees what it had obtained
// and throws TargetOutOfMemoryError; close() unmaps the scratch region.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessMemory } from '@katana/ptrace';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { findAllocator, type Allocator } from '../src/allocator.js';
import { readProcess } from '../src/process.js';
import { TargetCalls, TargetOutOfMemoryError } from '../src/target-calls.js';
import { ThreadGroup } from '../src/threads.js';

const source = fileURLToPath(new URL('../../test/fixtures/allocs.c', import.meta.url));

interface Context {
  remove: () => void;
  target: Target;
  group: ThreadGroup;
  memory: ProcessMemory;
  allocator: Allocator;
  calls: TargetCalls;
  at: Map<string, bigint>;
}

// Resumes the target, sends it `command` and waits for its answer (the line passing `test` and
// the `extra` lines after it); stops it again and returns those lines.
async function ask(ctx: Context, command: string, test: (line: string) => boolean, extra = 0): Promise<string[]> {
  const from = ctx.target.lines.length;
  ctx.group.resumeAll();
  ctx.target.write(`${command}\n`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = ctx.target.lines.slice(from);
    const at = lines.findIndex(test);
    if (at >= 0 && lines.length > at + extra) {
      ctx.group.stopAll();
      return lines.slice(at, at + extra + 1);
    }
    if (Date.now() > deadline) throw new Error(`no answer to ${command}; the target printed:\n${lines.join('\n')}`);
    ctx.group.poll();
    await sleep(2);
  }
}

async function inUse(ctx: Context): Promise<{ arena: number; mmapped: number }> {
  const [line] = await ask(ctx, 'in-use', (l) => l.startsWith('in-use '));
  const [, arena, mmapped] = line!.split(' ').map(Number);
  return { arena: arena!, mmapped: mmapped! };
}

function scratchInMaps(pid: number, calls: TargetCalls): string[] {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  return calls.mappings.flatMap((m) => maps.filter((line) => line.startsWith(`${m.start.toString(16)}-`)));
}

const test = suite<Context>('TargetCalls');

test.before(async (ctx) => {
  const { dir, remove } = tempDir('applier');
  ctx.remove = remove;
  ctx.target = await Target.start(compileC(source, dir));
  await ctx.target.waitFor((line) => line === 'ready');
  ctx.at = new Map(ctx.target.lines.filter((l) => l.startsWith('at ')).map((l) => {
    const [, name, address] = l.split(' ');
    return [name!, BigInt(address!)];
  }));
  ctx.group = ThreadGroup.seize(ctx.target.pid);
  ctx.group.stopAll();
  ctx.memory = new ProcessMemory(ctx.target.pid);
  ctx.allocator = findAllocator(readProcess(ctx.target.pid), ctx.memory);
  ctx.calls = TargetCalls.open(ctx.target.pid, ctx.target.pid, ctx.memory, { timeoutMs: 10_000 });
});

test.after(async (ctx) => {
  ctx.calls.close();
  ctx.memory.close();
  ctx.group.detachAll();
  await ctx.target.kill();
  ctx.remove();
});

test('open maps the stub page R+X and nothing else yet', (ctx) => {
  const lines = scratchInMaps(ctx.target.pid, ctx.calls);
  assert.is(lines.length, 1);
  assert.match(lines[0]!, / r-xp /);
});

test('allocateEach: 100,000 blocks of 40 bytes in one batch, which the target\'s own free() takes', async (ctx) => {
  const blocks = ctx.calls.allocateEach(ctx.allocator.malloc, 40, 100_000);
  assert.is(blocks.length, 100_000);
  assert.is(new Set(blocks).size, 100_000, 'distinct');
  assert.ok(blocks.every((b) => b % 16n === 0n), '16-aligned');
  const words = BigUint64Array.from(blocks);
  ctx.memory.write(ctx.at.get('blocks')!, new Uint8Array(words.buffer));
  const [answer] = await ask(ctx, 'free 100000', (l) => l.startsWith('freed '));
  assert.is(answer, 'freed 100000 usable 40 40');
});

test('freeEach gives the blocks back: mallinfo2 returns to its level', async (ctx) => {
  const before = await inUse(ctx);
  const blocks = ctx.calls.allocateEach(ctx.allocator.malloc, 2000, 10_000);
  const during = await inUse(ctx);
  assert.ok(during.arena >= before.arena + 10_000 * 2000, `in use ${before.arena} → ${during.arena}`);
  ctx.calls.freeEach(ctx.allocator.free, blocks);
  assert.equal(await inUse(ctx), before);
});

test('callEach calls the target\'s function with each pair, in order', async (ctx) => {
  const pairs = Array.from({ length: 1000 }, (_, i) => [BigInt(i * 2 + 1), 0x1000n + BigInt(i)] as const);
  ctx.calls.callEach(ctx.at.get('record')!, pairs, 'record');
  const lines = await ask(ctx, 'recorded', (l) => l.startsWith('recorded '), 8);
  assert.is(lines[0], 'recorded 1000');
  assert.equal(lines.slice(1), pairs.slice(0, 8).map(([a, b]) => `pair 0x${a.toString(16)} 0x${b.toString(16)}`));
});

test('a malloc that fails half way: TargetOutOfMemoryError, and the blocks obtained are freed', async (ctx) => {
  const { pid } = ctx.target;
  const before = await inUse(ctx);
  // Room for about 64 more blocks of 1 MiB (each mmapped on its own) in the address space (the soft
  // limit only: raising a hard limit back needs CAP_SYS_RESOURCE).
  const vmSize = Number(/VmSize:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  execFileSync('prlimit', [`--pid=${pid}`, `--as=${vmSize + 64 * 2 ** 20}:`]);
  try {
    ctx.calls.allocateEach(ctx.allocator.malloc, 2 ** 20, 1000, ctx.allocator.free);
    assert.unreachable('1000 blocks of 1 MiB fitted in 64 MiB');
  } catch (error) {
    assert.instance(error, TargetOutOfMemoryError);
    const e = error as TargetOutOfMemoryError;
    assert.is(e.code, 'E_TARGET_OOM');
    // Half way: some blocks, not all. How many exactly depends on what else the address space holds
    // at the moment of the call (VmSize moves as glibc trims and maps), so only the bounds are fixed.
    assert.ok(e.obtained > 0 && e.obtained < 1000, `obtained ${e.obtained}`);
    assert.is(e.message, `malloc in pid ${pid} returned NULL after ${e.obtained} of 1000 blocks of 1048576 bytes (the target is out of memory); the ${e.obtained} obtained were freed`);
  } finally {
    execFileSync('prlimit', [`--pid=${pid}`, '--as=unlimited:']);
  }
  assert.equal(await inUse(ctx), before);
});

test('call runs one function and returns its result', (ctx) => {
  const block = ctx.calls.call(ctx.allocator.malloc, [100n], 'malloc');
  assert.ok(block > 0n && block % 16n === 0n);
  ctx.calls.call(ctx.allocator.free, [block], 'free');
});

test('close unmaps the stubs and the data region; a second close does nothing', (ctx) => {
  const calls = TargetCalls.open(ctx.target.pid, ctx.target.pid, ctx.memory, { timeoutMs: 1000 });
  calls.freeEach(ctx.allocator.free, [0n]);
  const mappings = calls.mappings;
  assert.equal(mappings.map((m) => m.what), ['stubs', 'data']);
  assert.is(scratchInMaps(ctx.target.pid, calls).length, 2);
  calls.close();
  calls.close();
  const maps = readFileSync(`/proc/${ctx.target.pid}/maps`, 'utf8');
  for (const m of mappings) assert.not.ok(maps.includes(`${m.start.toString(16)}-`), `0x${m.start.toString(16)} unmapped`);
  assert.equal(calls.mappings, []);
});

test.run();
