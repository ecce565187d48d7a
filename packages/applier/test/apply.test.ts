// applyPatch() end to end on real running programs: a PIE whose value() starts returning 2, a
// non-PIE patched with code that calls puts through the jump table, a static non-PIE; and the
// refusals (wrong build-id, no such pid, a thread asleep inside the replaced function), after which
// the target must be untouched (same bytes at the function entry, same mappings), untraced and running.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile, R_X86_64_32, R_X86_64_PLT32 } from '@katana/elf';
import { ProcessMemory } from '@katana/ptrace';
import { BuildIdMismatchError, NoSuchProcessError, UnresolvedSymbolError, UnsafeStateError, applyPatch, readProcess } from '../src/index.js';
import { Target, fixture, gcc, patchFromObject, tempDir } from './helpers.js';

const apply = suite('applyPatch');
const tmp = tempDir();
const targets: Target[] = [];
const path = (name: string): string => join(tmp.dir, name);

function run(exe: string): Target {
  const t = new Target(exe);
  targets.push(t);
  return t;
}

function tracerOf(pid: number): number {
  return Number(/TracerPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** The first bytes of `fn` in the running process, and its run-time address. */
function entryBytes(pid: number, exe: string, fn: string): { address: bigint; bytes: number[] } {
  const sym = ElfFile.open(exe).symbols().find((s) => s.name === fn)!;
  const address = sym.value + readProcess(pid).exe.bias;
  const memory = new ProcessMemory(pid);
  try {
    return { address, bytes: [...memory.read(address, 8)] };
  } finally {
    memory.close();
  }
}

apply.before(() => {
  gcc(['-g', '-O2', '-pie', '-fPIE', '-o', path('value-pie'), fixture('value.c')]);
  gcc(['-g', '-O2', '-no-pie', '-fno-pie', '-o', path('value-nopie'), fixture('value.c')]);
  gcc(['-g', '-O2', '-static', '-no-pie', '-fno-pie', '-o', path('value-static'), fixture('value.c')]);
  gcc(['-g', '-O2', '-pthread', '-o', path('sleeper'), fixture('sleeper.c')]);
  gcc(['-g', '-O2', '-fPIE', '-ffunction-sections', '-c', '-o', path('value2.o'), fixture('value2.c')]);
  gcc(['-g', '-O2', '-fno-pie', '-ffunction-sections', '-c', '-o', path('value_puts.o'), fixture('value_puts.c')]);
  gcc(['-g', '-O2', '-fno-pie', '-ffunction-sections', '-c', '-o', path('value_printf.o'), fixture('value_printf.c')]);
});

apply.after(() => {
  for (const t of targets) t.kill();
  tmp.remove();
});

apply('a running PIE prints 2 instead of 1 and keeps running', async () => {
  const exe = path('value-pie');
  const t = run(exe);
  await t.waitFor(/value 1\n/);
  const before = entryBytes(t.pid, exe, 'value');
  const report = applyPatch({ pid: t.pid, po: patchFromObject(path('value2.o'), 'value', exe), poName: 'value2.po' });
  const mark = t.output.length;
  await t.waitFor(/value 2\nvalue 2\n/, mark);
  assert.is(report.pid, t.pid);
  assert.is(report.functions.length, 1);
  assert.is(report.functions[0]!.name, 'value');
  assert.is(report.functions[0]!.from, before.address);
  assert.is(report.functions[0]!.to, report.area.start);
  assert.is(report.threads, 1);
  assert.ok(report.area.start < before.address && before.address - report.area.start < 1n << 31n, 'the area lies within rel32 reach below the exe');
  assert.is(entryBytes(t.pid, exe, 'value').bytes[0], 0xe9, 'a jmp rel32 sits at the old entry');
  assert.is(tracerOf(t.pid), 0, 'the target is detached');
  assert.ok(t.running);
});

apply('a non-PIE exe calls puts from the patch through the jump table', async () => {
  const exe = path('value-nopie');
  const po = patchFromObject(path('value_puts.o'), 'value', exe);
  assert.ok(po.relocations.some((r) => r.type === R_X86_64_PLT32), 'the patch calls puts with a PLT32');
  assert.ok(po.relocations.some((r) => r.type === R_X86_64_32), 'the patch addresses its string with an R_X86_64_32');
  const t = run(exe);
  await t.waitFor(/value 1\n/);
  const report = applyPatch({ pid: t.pid, po });
  const mark = t.output.length;
  await t.waitFor(/patched\nvalue 2\npatched\nvalue 2\n/, mark);
  assert.ok(report.area.start < 0x400000n && report.area.start >= 0x10000n, 'the area lies just below the non-PIE exe');
  assert.ok(t.running);
});

apply('a static non-PIE exe is patched with a call into its own copy of printf', async () => {
  const exe = path('value-static');
  const t = run(exe);
  await t.waitFor(/value 1\n/);
  const report = applyPatch({ pid: t.pid, po: patchFromObject(path('value_printf.o'), 'value', exe) });
  const mark = t.output.length;
  await t.waitFor(/patched 2\nvalue 2\n/, mark);
  assert.ok(report.area.start < 0x400000n);
  assert.ok(t.running);
});

apply('a symbol the static exe does not link (puts) is UnresolvedSymbolError, the target untouched', async () => {
  const exe = path('value-static');
  const t = run(exe);
  await t.waitFor(/value 1\n/);
  const maps = readFileSync(`/proc/${t.pid}/maps`, 'utf8');
  const before = entryBytes(t.pid, exe, 'value');
  assert.throws(
    () => applyPatch({ pid: t.pid, po: patchFromObject(path('value_puts.o'), 'value', exe) }),
    (e: unknown) => e instanceof UnresolvedSymbolError && (e as Error).message === `symbol puts needed by the patch is not in pid ${t.pid} or its libraries`,
  );
  assert.equal(entryBytes(t.pid, exe, 'value'), before);
  assert.is(readFileSync(`/proc/${t.pid}/maps`, 'utf8'), maps);
});

apply('a wrong build-id is refused and leaves the target untouched', async () => {
  const exe = path('value-pie');
  const t = run(exe);
  await t.waitFor(/value 1\n/);
  const po = { ...patchFromObject(path('value2.o'), 'value', exe), targetBuildId: '00112233445566778899aabbccddeeff00112233' };
  const maps = readFileSync(`/proc/${t.pid}/maps`, 'utf8');
  const before = entryBytes(t.pid, exe, 'value');
  try {
    applyPatch({ pid: t.pid, po, poName: 'fix.po' });
    assert.unreachable('the build-id differs');
  } catch (error) {
    assert.instance(error, BuildIdMismatchError);
    assert.is((error as BuildIdMismatchError).code, 'E_BUILD_ID');
    assert.match((error as Error).message, `fix.po is for build-id 00112233445566778899aabbccddeeff00112233, but pid ${t.pid} runs ${exe} with build-id `);
  }
  assert.equal(entryBytes(t.pid, exe, 'value'), before);
  assert.is(readFileSync(`/proc/${t.pid}/maps`, 'utf8'), maps);
  const mark = t.output.length;
  await t.waitFor(/value 1\n/, mark);
});

apply('a pid that does not exist is NoSuchProcessError', () => {
  const po = patchFromObject(path('value2.o'), 'value', path('value-pie'));
  assert.throws(() => applyPatch({ pid: 0x3ffffff, po }), (e: unknown) => e instanceof NoSuchProcessError && /no process with pid 67108863/.test((e as Error).message));
});

apply('a thread asleep inside the replaced function is refused; the target is untouched and runs on', async () => {
  const exe = path('sleeper');
  const t = run(exe);
  await t.waitFor(/sleeping\n(.|\n)*tick\n/);
  const maps = readFileSync(`/proc/${t.pid}/maps`, 'utf8');
  const before = entryBytes(t.pid, exe, 'value');
  try {
    applyPatch({ pid: t.pid, po: patchFromObject(path('value2.o'), 'value', exe), timeoutMs: 300 });
    assert.unreachable('the worker thread will return into value');
  } catch (error) {
    assert.instance(error, UnsafeStateError);
    assert.match((error as Error).message, /^thread \d+ will return into value \(called from worker\), which the patch replaces, and did not leave it within 0\.3 s$/);
  }
  assert.equal(entryBytes(t.pid, exe, 'value'), before);
  assert.is(readFileSync(`/proc/${t.pid}/maps`, 'utf8'), maps, 'the patch area was unmapped again');
  assert.is(tracerOf(t.pid), 0, 'the target is detached');
  const mark = t.output.length;
  await t.waitFor(/tick\ntick\n/, mark);
});

apply.run();
