// SafetyCheck on real stopped threads (fixtures/sleeper.c: a worker asleep inside value(), main
// ticking): "will return into" with callers and the resume address of the outermost unsafe frame,
// "is in" for frame 0, unreliable stacks (a pc in no mapping, an unreadable stack) reported as
// unsafe with a reason, the extra CFI path (an .eh_frame copy at another address, as applied patches
// keep them), and unsafeRanges (no process).
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DW_EH_PE_pcrel, DW_EH_PE_sdata4, FrameSection } from '@katana/dwarf';
import type { PatchObject } from '@katana/po';
import { ProcessMemory, type Registers } from '@katana/ptrace';
import { SafetyCheck, ThreadGroup, UnsafeStateError, readProcess, unsafeRanges, type ProcessModel, type UnsafeRange } from '../src/index.js';
import { fixture, gcc, tempDir, Target } from './helpers.js';

const ranges = suite('unsafeRanges');

ranges('replaced and unsafe functions become run-time ranges, once each', () => {
  const po: PatchObject = {
    targetBuildId: 'ab', targetName: 'p', text: new Uint8Array(8), rodata: new Uint8Array(0), data: new Uint8Array(0), bssSize: 0,
    symbols: [{ name: 'f', type: 'func', bind: 'global', size: 8, defined: { section: 'text', offset: 0 } }],
    relocations: [],
    functions: [{ symbol: 0, name: 'f', file: 'a.c', size: 8, replaces: { address: 0x1100n, size: 0x20 } }],
    unsafe: [
      { name: 'f', address: 0x1100n, size: 0x20, redirectTo: 0 },
      { name: 'g.cold', address: 0x1000n, size: 0x10 },
    ],
  };
  assert.equal(unsafeRanges(po, 0x5000n), [
    { name: 'f', start: 0x6100n, end: 0x6120n, why: 'replaces' },
    { name: 'g.cold', start: 0x6000n, end: 0x6010n, why: 'marks unsafe' },
  ]);
});

ranges.run();

/** A run-time range for the function `name` of the executable. */
function rangeOf(model: ProcessModel, name: string, why: UnsafeRange['why'] = 'replaces'): UnsafeRange {
  const symbol = model.exe.elf.symbols().find((s) => s.name === name && s.size > 0);
  if (symbol === undefined) throw new Error(`no symbol ${name} in ${model.exePath}`);
  return { name, start: symbol.value + model.exe.bias, end: symbol.value + model.exe.bias + BigInt(symbol.size), why };
}

/** Stops the target, runs `body` on the registers of each thread, detaches. */
function withStoppedThreads<T>(pid: number, body: (tid: number, registers: Registers) => T): T[] {
  const group = ThreadGroup.seize(pid);
  try {
    group.stopAll();
    return group.threads.map((tid) => body(tid, group.regs(tid)));
  } finally {
    group.detachAll();
  }
}

const check = suite('SafetyCheck on a real process');
const temp = tempDir();
let target: Target | undefined;
let model: ProcessModel;
let memory: ProcessMemory;

check.before(async () => {
  try {
    const exe = join(temp.dir, 'sleeper');
    gcc(['-g', '-O2', '-pthread', '-o', exe, fixture('sleeper.c')]);
    target = new Target(exe);
    await target.waitFor(/sleeping\n(.|\n)*tick\n/);
    model = readProcess(target.pid);
    memory = new ProcessMemory(target.pid);
  } catch (error) {
    console.error('setup failed:', error);
    throw error;
  }
});

check.after(() => {
  try {
    memory?.close();
    target?.kill();
    temp.remove();
  } catch (error) {
    console.error('cleanup failed:', error);
  }
});

check('a worker asleep in value() will return into it; the verdict names its caller and where it will have left', () => {
  const safety = new SafetyCheck([rangeOf(model, 'value')], memory, model);
  const verdicts = withStoppedThreads(target!.pid, (tid, regs) => safety.inspect(tid, regs));
  const unsafe = verdicts.filter((v) => v.unsafe !== undefined).map((v) => v.unsafe!);
  assert.is(unsafe.length, 1, 'only the worker');
  const worker = unsafe[0]!;
  assert.is(worker.function, 'value');
  assert.is(worker.how, 'will return into');
  assert.equal(worker.callers.slice(0, 2), ['worker', 'start_thread']);
  const workerRange = rangeOf(model, 'worker');
  assert.ok(worker.resumeAt! > workerRange.start && worker.resumeAt! <= workerRange.end, 'resumeAt is the return address into worker');
  assert.match(new UnsafeStateError(worker).message, /^thread \d+ will return into value \(called from worker\), which the patch replaces; try again later$/);
});

check('nested unsafe functions: the innermost is named, the outermost decides where the thread has left', () => {
  const safety = new SafetyCheck([rangeOf(model, 'value'), rangeOf(model, 'worker', 'marks unsafe')], memory, model);
  const [worker] = withStoppedThreads(target!.pid, (tid, regs) => safety.inspect(tid, regs)).filter((v) => v.unsafe !== undefined);
  assert.is(worker!.unsafe!.function, 'value');
  const startThread = worker!.backtrace.frames.find((f) => f.function === 'start_thread')!;
  assert.is(worker!.unsafe!.resumeAt, startThread.pc, 'the return address into start_thread');
});

check('frame 0 in an unsafe range "is in" it', () => {
  const safety = new SafetyCheck([rangeOf(model, 'value')], memory, model);
  const verdicts = withStoppedThreads(target!.pid, (tid, regs) => {
    const frame0 = safety.inspect(tid, regs).backtrace.frames[0]!;
    const inner = new SafetyCheck([{ name: 'here', start: frame0.pc, end: frame0.pc + 1n, why: 'marks unsafe' }], memory, model);
    return inner.inspect(tid, regs).unsafe;
  });
  for (const v of verdicts) {
    assert.is(v?.how, 'is in');
    assert.is(v?.function, 'here');
  }
});

check('a pc in no mapping or an unreadable stack is an unreliable stack, reported as unsafe with the reason', () => {
  const safety = new SafetyCheck([rangeOf(model, 'value')], memory, model);
  const [noMapping, unreadable] = withStoppedThreads(target!.pid, (tid, regs) => {
    const wild = regs.clone();
    wild.rip = 0x10n;
    const lost = regs.clone();
    lost.rsp = 0x8n;
    lost.rbp = 0x8n;
    return [safety.inspect(tid, wild).unsafe, safety.inspect(tid, lost).unsafe];
  })[0]!;
  assert.is(noMapping?.how, 'unreliable stack');
  assert.match(noMapping!.reason!, /pc 0x10 is in no executable mapping/);
  assert.is(unreadable?.how, 'unreliable stack');
  assert.match(unreadable!.reason!, /cannot be (read|computed)/);
  assert.match(new UnsafeStateError(unreadable!).message, /^thread \d+ has an unreliable stack in .* \(.*\); try again later$/);
});

check('extra CFI: value() unwound with an .eh_frame copy at another address, as an applied patch keeps it', () => {
  const exe = model.exe.elf;
  const ehFrame = exe.section('.eh_frame')!;
  const section = FrameSection.parse('.eh_frame', ehFrame.data(), { section: ehFrame.addr });
  const value = rangeOf(model, 'value');
  const fde = section.findFde(value.start - model.exe.bias)!;
  assert.is(fde.cie.fdeEncoding, DW_EH_PE_pcrel | DW_EH_PE_sdata4, 'gcc encodes FDE pcs pcrel sdata4');
  // [the CIE as is][an FDE: length, CIE pointer, pc, range, no augmentation data, its instructions][terminator]
  const bytes = ehFrame.data();
  const cie = bytes.subarray(fde.cie.offset, fde.cie.offset + 4 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(fde.cie.offset, true));
  const instructions = bytes.subarray(fde.instructionsStart, fde.instructionsEnd);
  const fdeLength = 4 + 4 + 4 + 1 + instructions.length;
  const copy = new Uint8Array(cie.length + 4 + fdeLength + 4);
  const view = new DataView(copy.buffer);
  copy.set(cie, 0);
  const at = cie.length;
  // Where the copy "sits" in the target: only pcrel pointers care, and sdata4 reaches ±2 GiB.
  const address = value.end + 0x100000n;
  view.setUint32(at, fdeLength, true);
  view.setUint32(at + 4, at + 4, true); // back to the CIE at offset 0
  view.setInt32(at + 8, Number(value.start - (address + BigInt(at + 8))), true);
  view.setUint32(at + 12, Number(value.end - value.start), true);
  copy[at + 16] = 0; // augmentation data length
  copy.set(instructions, at + 17);
  const extra = [{ start: value.start, end: value.end, ehFrameAddress: address, ehFrame: copy, name: 'patch fix.po' }];
  const safety = new SafetyCheck([value], memory, model, extra);
  const [worker] = withStoppedThreads(target!.pid, (tid, regs) => safety.inspect(tid, regs)).filter((v) => v.unsafe !== undefined);
  const frame = worker!.backtrace.frames.find((f) => f.module === 'patch fix.po');
  assert.ok(frame !== undefined, 'a frame unwound through the extra CFI');
  assert.is(worker!.backtrace.unreliable, undefined);
  assert.equal(worker!.unsafe!.callers.slice(0, 2), ['worker', 'start_thread'], 'and the walk went on past it to the same callers');
});

check.run();
