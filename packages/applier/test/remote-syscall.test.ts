// remoteSyscall and its mmap/munmap/mprotect helpers in real programs stopped inside system calls:
// fixtures/nanosleeper.c (in nanosleep; the sleep must not be shortened) and fixtures/reader.c (in
// read() on a pipe; no data lost, no EINTR). Registers are restored exactly after each call, and
// the stack, red zone included, is never written.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessMemory, getRegs } from '@katana/ptrace';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { ThreadGroup } from '../src/threads.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  RemoteSyscallError,
  SYS_getpid,
  remoteMmap,
  remoteMprotect,
  remoteMunmap,
  remoteSyscall,
} from '../src/remote-syscall.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}.c`, import.meta.url));
const SYS_clock_nanosleep = 230;
const SYS_read = 0;
const PAGE = 0x1000;

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
}

function maps(pid: number): Mapping[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [range, perms] = line.split(/\s+/);
      const [start, end] = range!.split('-').map((h) => BigInt(`0x${h}`));
      return { start: start!, end: end!, perms: perms! };
    });
}

// The first page-aligned address from 4 GiB up where `length` bytes overlap no mapping.
function freeAddress(pid: number, length: number): bigint {
  const taken = maps(pid);
  for (let address = 0x100000000n; ; address += 0x10000000n) {
    if (taken.every((m) => address + BigInt(length) <= m.start || address >= m.end)) return address;
  }
}

// Waits until the target's main thread is blocked in system call `nr` (per /proc/PID/syscall).
async function blockedIn(pid: number, nr: number): Promise<void> {
  while (readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0] !== String(nr)) await sleep(5);
}

// Maps a page at a chosen free address, checks it in /proc/PID/maps, writes and reads it through
// ProcessMemory, unmaps it; all with the thread's registers unchanged afterwards.
function mapWriteUnmap(group: ThreadGroup): void {
  const { pid } = group;
  const saved = group.regs(pid).clone();
  const stack = new ProcessMemory(pid);
  // The 128-byte red zone below rsp (leaf functions keep locals there without moving rsp) and the
  // frame above it: an injected call must leave every byte as it was.
  const redZone = stack.read(saved.rsp - 128n, 256);
  const address = freeAddress(pid, PAGE);
  const got = remoteMmap(pid, pid, address, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
  assert.is(got, address);
  assert.ok(maps(pid).some((m) => m.start === address && m.end === address + BigInt(PAGE) && m.perms === 'rw-p'));
  const memory = new ProcessMemory(pid);
  try {
    memory.write(address + 16n, Uint8Array.of(1, 2, 3, 4, 0xfe));
    assert.equal([...memory.read(address + 14n, 8)], [0, 0, 1, 2, 3, 4, 0xfe, 0]);
  } finally {
    memory.close();
  }
  remoteMunmap(pid, pid, address, PAGE);
  assert.not.ok(maps(pid).some((m) => m.start <= address && address < m.end));
  assert.equal([...getRegs(pid).raw], [...saved.raw], 'every register is restored');
  assert.equal([...stack.read(saved.rsp - 128n, 256)], [...redZone], 'the red zone and the stack are untouched');
  stack.close();
}

interface Context {
  remove: () => void;
  target: Target;
  group: ThreadGroup;
}

const inSleep = suite<Context>('remoteSyscall in a thread asleep in nanosleep');

inSleep.before(async (ctx) => {
  const { dir, remove } = tempDir('applier');
  ctx.remove = remove;
  ctx.target = await Target.start(compileC(fixture('nanosleeper'), dir));
  await ctx.target.waitFor((line) => line.startsWith('slept 0 '));
  await blockedIn(ctx.target.pid, SYS_clock_nanosleep);
  ctx.group = ThreadGroup.seize(ctx.target.pid);
  ctx.group.stopAll();
});

inSleep.after(async (ctx) => {
  await ctx.target.kill();
  ctx.remove();
});

inSleep('the thread was interrupted inside clock_nanosleep', ({ group }) => {
  assert.is(group.regs(group.pid).orig_rax, BigInt(SYS_clock_nanosleep));
});

inSleep('getpid runs in the target and returns its pid', ({ group }) => {
  assert.is(remoteSyscall(group.pid, group.pid, SYS_getpid, []), BigInt(group.pid));
});

inSleep('mmap with MAP_FIXED_NOREPLACE maps the chosen address; its bytes read back; munmap frees it', ({ group }) => {
  mapWriteUnmap(group);
});

inSleep('mprotect changes the protection of a remote mapping', ({ group }) => {
  const { pid } = group;
  const address = remoteMmap(pid, pid, freeAddress(pid, PAGE), PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
  remoteMprotect(pid, pid, address, PAGE, PROT_READ);
  assert.is(maps(pid).find((m) => m.start === address)?.perms, 'r--p');
  remoteMunmap(pid, pid, address, PAGE);
});

inSleep('a failing call throws RemoteSyscallError naming the call and errno; registers are restored', ({ group }) => {
  const { pid } = group;
  const saved = group.regs(pid).clone();
  const taken = maps(pid)[0]!.start;
  try {
    remoteMmap(pid, pid, taken, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
    assert.unreachable('mmap over an existing mapping succeeded');
  } catch (error) {
    assert.instance(error, RemoteSyscallError);
    const e = error as RemoteSyscallError;
    assert.is(e.code, 'E_REMOTE_SYSCALL');
    assert.is(e.errnoCode, 'EEXIST');
    assert.is(e.syscall, 'mmap');
    assert.is(e.message, `mmap executed in thread ${pid} of pid ${pid} failed: file already exists (EEXIST)`);
  }
  assert.equal([...getRegs(pid).raw], [...saved.raw]);
});

inSleep('after detach every sleep lasts at least the requested time', async ({ target, group }) => {
  const mark = target.lines.length;
  group.detachAll();
  await target.waitFor((line) => /^slept/.test(line), mark + 2);
  for (const line of target.lines) {
    const [, n, elapsed, requested, rc] = line.split(' ').map(Number);
    assert.is(rc, 0, `sleep ${n} returned ${rc}`);
    assert.ok(elapsed! >= requested!, `sleep ${n} lasted ${elapsed} ns, less than the ${requested} ns requested`);
  }
});

inSleep.run();

const inRead = suite<Context>('remoteSyscall in a thread blocked in read() on a pipe');

inRead.before(async (ctx) => {
  const { dir, remove } = tempDir('applier');
  ctx.remove = remove;
  ctx.target = await Target.start(compileC(fixture('reader'), dir));
  ctx.target.write('one\n');
  await ctx.target.waitFor((line) => line === 'got 4 one|');
  await blockedIn(ctx.target.pid, SYS_read);
  ctx.group = ThreadGroup.seize(ctx.target.pid);
  ctx.group.stopAll();
});

inRead.after(async (ctx) => {
  await ctx.target.kill();
  ctx.remove();
});

inRead('the thread was interrupted inside read', ({ group }) => {
  assert.is(group.regs(group.pid).orig_rax, BigInt(SYS_read));
});

inRead('mmap, write, read back, munmap, with registers restored', ({ group }) => {
  mapWriteUnmap(group);
});

inRead('after detach read() returns the next data whole, without EINTR', async ({ target, group }) => {
  group.detachAll();
  target.write('two\n');
  await target.waitFor((line) => line === 'got 4 two|');
  target.write('three\n');
  await target.waitFor((line) => line === 'got 6 three|');
  target.endInput();
  await target.waitFor((line) => line === 'eof');
  assert.equal(target.lines, ['got 4 one|', 'got 4 two|', 'got 6 three|', 'eof']);
});

inRead.run();
