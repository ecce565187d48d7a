// findAllocator on real running programs (fixtures/allocating.c), checked against the addresses the
// program itself prints for malloc, free, calloc and realloc, against gdb's `info address malloc`
// and against `nm`: a dynamic executable (libc's malloc, entry points only: Debian strips libc's
// .symtab), a static one (every malloc.o function from its .symtab), one defining its own malloc,
// one run with an allocator preloaded (LD_PRELOAD: ld.so's search order, not the maps order), and a
// stripped static one (a typed error, or the patch's own addresses).
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessMemory } from '@katana/ptrace';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { AllocatorNotFoundError, findAllocator, type Allocator } from '../src/allocator.js';
import { readProcess } from '../src/process.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

interface Context {
  dir: string;
  remove: () => void;
  targets: Target[];
}

// Starts `exe` (with `env` settings) and waits for its "fn NAME 0x..." lines.
async function start(ctx: Context, exe: string, env: string[] = []): Promise<{ pid: number; fn: Map<string, bigint> }> {
  const target = env.length === 0 ? await Target.start(exe) : await Target.start('/usr/bin/env', [...env, exe]);
  ctx.targets.push(target);
  await target.waitFor((line) => line.startsWith('ready '));
  const fn = new Map(target.lines.filter((l) => l.startsWith('fn ')).map((l) => {
    const [, name, address] = l.split(' ');
    return [name!, BigInt(address!)];
  }));
  return { pid: target.pid, fn };
}

// start(), and the allocator found in the process.
async function run(ctx: Context, exe: string, env: string[] = []): Promise<{ pid: number; fn: Map<string, bigint>; allocator: Allocator }> {
  const started = await start(ctx, exe, env);
  return { ...started, allocator: allocatorOf(started.pid) };
}

function allocatorOf(pid: number, provided?: Parameters<typeof findAllocator>[2]): Allocator {
  const memory = new ProcessMemory(pid);
  try {
    return findAllocator(readProcess(pid), memory, provided);
  } finally {
    memory.close();
  }
}

function range(allocator: Allocator, name: string) {
  return allocator.ranges.find((r) => r.name === name);
}

// gdb's answer to `info address NAME` in the running process.
function gdbAddress(pid: number, name: string): bigint {
  const out = execFileSync('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', `info address ${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = new RegExp(`Symbol "${name}" is (?:at|a function at address) (0x[0-9a-f]+)`).exec(out);
  if (m === null) throw new Error(`gdb did not say where ${name} is:\n${out}`);
  return BigInt(m[1]!);
}

// `nm` of a file: name → { value, size } of its defined functions (-S: sizes; -D: .dynsym).
function nm(file: string, dynamic = false): Map<string, { value: bigint; size: number }> {
  const out = execFileSync('nm', [...(dynamic ? ['-D'] : []), '-S', '--defined-only', file], { encoding: 'utf8' });
  const symbols = new Map<string, { value: bigint; size: number }>();
  for (const line of out.split('\n')) {
    const [value, size, type, name] = line.split(' ');
    if (name === undefined || !/^[TtWi]$/.test(type!)) continue;
    symbols.set(name.replace(/@.*$/, ''), { value: BigInt(`0x${value}`), size: Number(`0x${size}`) });
  }
  return symbols;
}

function hasSymtab(file: string): boolean {
  return execFileSync('readelf', ['-SW', file], { encoding: 'utf8' }).includes('.symtab');
}

const test = suite<Context>('findAllocator');

test.before((ctx) => {
  const { dir, remove } = tempDir('applier');
  ctx.dir = dir;
  ctx.remove = remove;
  ctx.targets = [];
});

test.after(async (ctx) => {
  for (const target of ctx.targets) await target.kill();
  ctx.remove();
});

test('dynamic: libc\'s malloc and free, as the program and gdb see them; entry point ranges sized as nm says', async (ctx) => {
  const exe = compileC(fixture('allocating.c'), ctx.dir);
  const { pid, fn, allocator } = await run(ctx, exe);
  assert.is(allocator.malloc, fn.get('malloc'));
  assert.is(allocator.free, fn.get('free'));
  assert.is(allocator.malloc, gdbAddress(pid, 'malloc'));
  assert.is(allocator.free, gdbAddress(pid, 'free'));
  const libc = nm(LIBC, true);
  const bias = allocator.malloc - libc.get('malloc')!.value;
  for (const name of ['malloc', 'free', 'calloc', 'realloc', 'posix_memalign', 'malloc_usable_size', 'malloc_trim', 'valloc', 'pvalloc']) {
    const r = range(allocator, name);
    assert.ok(r, `a range for ${name}`);
    assert.is(r!.start, libc.get(name)!.value + bias, name);
    assert.is(Number(r!.end - r!.start), libc.get(name)!.size, `size of ${name}`);
  }
  assert.is(range(allocator, 'calloc')!.start, fn.get('calloc'));
  // Debian's libc.so.6 has no .symtab: its internals are found only where it has one.
  assert.is(range(allocator, '_int_malloc') !== undefined, hasSymtab(LIBC));
});

test('static: malloc and free from the executable\'s .symtab, with every malloc.o function', async (ctx) => {
  const exe = join(ctx.dir, 'allocating-static');
  execFileSync('gcc', ['-g', '-O0', '-static', '-o', exe, fixture('allocating.c')]);
  const { pid, fn, allocator } = await run(ctx, exe);
  assert.is(allocator.malloc, fn.get('malloc'));
  assert.is(allocator.free, fn.get('free'));
  assert.is(allocator.malloc, gdbAddress(pid, 'malloc'));
  const symbols = nm(exe);
  for (const name of ['_int_malloc', '_int_free', '_int_realloc', 'sysmalloc', 'malloc_consolidate', 'arena_get2', 'tcache_init.part.0', 'calloc', 'malloc_usable_size']) {
    const r = allocator.ranges.find((x) => x.start === symbols.get(name)?.value);
    assert.ok(r, `a range at ${name}`);
    assert.is(Number(r!.end - r!.start), symbols.get(name)!.size, `size of ${name}`);
  }
  assert.ok(allocator.ranges.every((r) => symbols.get(r.name)?.value === r.start), 'every range is a function nm lists');
  assert.not.ok(allocator.ranges.some((r) => r.name === 'printf' || r.name === 'memcpy'));
  // aliases merge: __libc_malloc is malloc's range
  assert.is(allocator.ranges.filter((r) => r.start === allocator.malloc).length, 1);
  assert.is(range(allocator, 'malloc')!.start, allocator.malloc);
});

test('a program defining its own malloc: the executable\'s, which libc\'s calls are bound to too', async (ctx) => {
  const exe = join(ctx.dir, 'allocating-own');
  execFileSync('gcc', ['-g', '-O0', '-DOWN_MALLOC', '-o', exe, fixture('allocating.c')]);
  const { pid, fn, allocator } = await run(ctx, exe);
  for (const name of ['malloc', 'free', 'calloc', 'realloc']) assert.is(range(allocator, name)?.start, fn.get(name), name);
  assert.is(allocator.malloc, fn.get('malloc'));
  assert.is(allocator.free, fn.get('free'));
  const own = nm(exe).get('malloc')!;
  const malloc = range(allocator, 'malloc')!;
  assert.is(Number(malloc.end - malloc.start), own.size);
  assert.is(allocator.malloc, gdbAddress(pid, 'malloc'));
  // what the program does not define still comes from libc
  const libc = readProcess(pid).modules.find((m) => m.path.includes('libc.so'))!;
  const memalign = range(allocator, 'memalign')!;
  assert.ok(memalign.start >= libc.start && memalign.start < libc.end, 'memalign is libc\'s');
});

test('an allocator preloaded with LD_PRELOAD comes before libc\'s', async (ctx) => {
  const so = join(ctx.dir, 'preload_malloc.so');
  execFileSync('gcc', ['-g', '-O0', '-shared', '-fPIC', '-o', so, fixture('preload_malloc.c')]);
  const exe = compileC(fixture('allocating.c'), ctx.dir);
  const { pid, fn, allocator } = await run(ctx, exe, [`LD_PRELOAD=${so}`]);
  assert.is(allocator.malloc, fn.get('malloc'));
  assert.is(allocator.free, fn.get('free'));
  const preload = readProcess(pid).modules.find((m) => m.path === so)!;
  assert.ok(allocator.malloc >= preload.start && allocator.malloc < preload.end, 'malloc is the preloaded one');
  // libc's own entry points under other names stay in the ranges (the preload calls them)
  assert.ok(range(allocator, '__libc_malloc'), '__libc_malloc');
});

test('a stripped static executable: AllocatorNotFoundError, unless the patch carries the addresses', async (ctx) => {
  const built = join(ctx.dir, 'allocating-static-full');
  execFileSync('gcc', ['-g', '-O0', '-static', '-o', built, fixture('allocating.c')]);
  const exe = join(ctx.dir, 'allocating-stripped');
  copyFileSync(built, exe);
  execFileSync('strip', [exe]);
  const { pid, fn } = await start(ctx, exe);
  try {
    allocatorOf(pid);
    assert.unreachable('found an allocator in a stripped static executable');
  } catch (error) {
    assert.instance(error, AllocatorNotFoundError);
    assert.is((error as AllocatorNotFoundError).code, 'E_NO_ALLOCATOR');
    assert.is((error as Error).message, `pid ${pid} has no malloc in its executable or libraries (a stripped static executable? the patch can carry its address)`);
  }
  const symbols = nm(built);
  const provided = ['malloc', 'free', '_int_malloc'].map((name) => ({ name, address: symbols.get(name)!.value, size: symbols.get(name)!.size }));
  const allocator = allocatorOf(pid, provided);
  assert.is(allocator.malloc, fn.get('malloc'));
  assert.is(allocator.free, fn.get('free'));
  assert.equal(allocator.ranges.map((r) => r.name).sort(), ['_int_malloc', 'free', 'malloc']);
});

test('addresses the patch provides win over the lookup', async (ctx) => {
  const exe = compileC(fixture('allocating.c'), ctx.dir);
  const { pid, fn } = await start(ctx, exe);
  const allocator = allocatorOf(pid, [{ name: 'malloc', address: 0x1234000n, size: 64 }]);
  assert.is(allocator.malloc, 0x1234000n);
  assert.is(allocator.free, fn.get('free'));
  assert.equal(range(allocator, 'malloc'), { name: 'malloc', start: 0x1234000n, end: 0x1234040n });
});

test.run();
