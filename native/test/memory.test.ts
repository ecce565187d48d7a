// ProcessMemory on a stopped real program: reads match the executable file, writes reach read-only
// text, unmapped addresses fail with EIO.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessMemory, PtraceError, detach, interrupt, seize, waitpid } from '../lib/index.js';
import { Target, compileFixture, tempDir, tickOf } from './helpers/target.js';

interface Context {
  remove: () => void;
  exe: string;
  target: Target;
  memory: ProcessMemory;
  text: { start: bigint; offset: number };
}

const memory = suite<Context>('ProcessMemory');

memory.before(async (ctx) => {
  const { dir, remove } = tempDir();
  ctx.remove = remove;
  ctx.exe = compileFixture('ticker', dir);
  ctx.target = await Target.start(ctx.exe);
  await ctx.target.waitFor((line) => line === 'tick 1');
  seize(ctx.target.pid);
  interrupt(ctx.target.pid);
  waitpid(ctx.target.pid);
  ctx.memory = new ProcessMemory(ctx.target.pid);
  const line = readFileSync(`/proc/${ctx.target.pid}/maps`, 'utf8')
    .split('\n')
    .find((l) => l.endsWith(ctx.exe) && l.split(/\s+/)[1] === 'r-xp');
  assert.ok(line, `no r-xp mapping of ${ctx.exe}`);
  const [range, , offset] = line!.split(/\s+/);
  ctx.text = { start: BigInt(`0x${range!.split('-')[0]}`), offset: parseInt(offset!, 16) };
});

memory.after(async (ctx) => {
  ctx.memory.close();
  detach(ctx.target.pid);
  await ctx.target.kill();
  ctx.remove();
});

memory('reads the executable text exactly as the ELF file holds it', ({ exe, memory, text }) => {
  const file = readFileSync(exe);
  const bytes = memory.read(text.start, 256);
  assert.equal([...bytes], [...file.subarray(text.offset, text.offset + 256)]);
});

memory('readInto fills a view into a larger buffer, leaving the rest alone', ({ memory, text }) => {
  const buffer = new Uint8Array(64).fill(0xee);
  memory.readInto(text.start + 16n, buffer.subarray(8, 40));
  assert.equal([...buffer.subarray(8, 40)], [...memory.read(text.start + 16n, 32)]);
  assert.ok(buffer.subarray(0, 8).every((b) => b === 0xee) && buffer.subarray(40).every((b) => b === 0xee));
});

memory('writes into a read-only text page and reads the bytes back', ({ memory, text }) => {
  const original = memory.read(text.start, 4);
  memory.write(text.start, Uint8Array.of(0xcc, 0x90, 0x90, 0xcc));
  assert.equal([...memory.read(text.start, 4)], [0xcc, 0x90, 0x90, 0xcc]);
  memory.write(text.start, original);
  assert.equal([...memory.read(text.start, 4)], [...original]);
});

memory('an unmapped address fails with EIO naming the address; tryRead gives null', ({ memory, target }) => {
  assert.is(memory.tryRead(0n, 8), null);
  try {
    memory.read(0x10n, 8);
    assert.unreachable('read of address 0x10 succeeded');
  } catch (error) {
    assert.instance(error, PtraceError);
    const e = error as PtraceError;
    assert.is(e.errnoCode, 'EIO');
    assert.is(e.pid, target.pid);
    assert.is(e.message, `pread(/proc/PID/mem) on ${target.pid} at 0x10 (8 bytes) failed: Input/output error (EIO)`);
  }
});

memory('the program runs on correctly after its text was written and restored', async ({ target }) => {
  detach(target.pid);
  const last = tickOf(target.lines.at(-1)!);
  await target.waitFor((line) => tickOf(line) >= last + 3);
  target.lines.map(tickOf).forEach((tick, i) => assert.is(tick, i));
  seize(target.pid);
  interrupt(target.pid);
  waitpid(target.pid);
});

memory.run();
