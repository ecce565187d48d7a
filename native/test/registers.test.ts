// getRegs/setRegs and the Registers accessors, on a stopped real program (fixtures/ticker.c).
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NT_X86_XSTATE, Registers, USER_REGS_WORDS, detach, getRegSet, getRegs, interrupt, seize, setRegSet, setRegs, waitpid } from '../lib/index.js';
import { Target, compileFixture, tempDir } from './helpers/target.js';

interface Context {
  remove: () => void;
  target: Target;
}

const registers = suite<Context>('getRegs, setRegs');

registers.before(async (ctx) => {
  const { dir, remove } = tempDir();
  ctx.remove = remove;
  ctx.target = await Target.start(compileFixture('ticker', dir));
  await ctx.target.waitFor((line) => line === 'tick 1');
  seize(ctx.target.pid);
  interrupt(ctx.target.pid);
  waitpid(ctx.target.pid);
});

registers.after(async (ctx) => {
  detach(ctx.target.pid);
  const next = ctx.target.lines.length + 1;
  await ctx.target.waitFor((line) => line === `tick ${next}`);
  await ctx.target.kill();
  ctx.remove();
});

registers('rip lies inside an executable mapping of /proc/PID/maps', ({ target }) => {
  const regs = getRegs(target.pid);
  const maps = readFileSync(`/proc/${target.pid}/maps`, 'utf8').trim().split('\n');
  const hit = maps.find((line) => {
    const [range, perms] = line.split(/\s+/);
    const [start, end] = range!.split('-').map((h) => BigInt(`0x${h}`));
    return regs.rip >= start! && regs.rip < end! && perms!.includes('x');
  });
  assert.ok(hit, `rip 0x${regs.rip.toString(16)} is in no executable mapping`);
  assert.ok(regs.rsp > 0n);
});

registers('setRegs round-trips every word and accessors name the kernel slots', ({ target }) => {
  const regs = getRegs(target.pid);
  assert.is(regs.raw.length, USER_REGS_WORDS);
  assert.is(regs.rip, regs.raw[16]);
  assert.is(regs.orig_rax, regs.raw[15]);
  const changed = regs.clone();
  changed.r12 = 0x1122334455667788n;
  setRegs(target.pid, changed);
  assert.is(getRegs(target.pid).r12, 0x1122334455667788n);
  setRegs(target.pid, regs);
  assert.equal([...getRegs(target.pid).raw], [...regs.raw]);
});

// The XSAVE layout (Intel SDM vol. 1 §13.4): the legacy FXSAVE region's xmm0 at byte 160, the XSAVE
// header at 512 whose first word, XSTATE_BV, says which components hold real state (bit 1: SSE).
registers('getRegSet/setRegSet round-trip the XSAVE area (NT_X86_XSTATE), xmm0 included', ({ target }) => {
  const saved = getRegSet(target.pid, NT_X86_XSTATE);
  assert.ok(saved.length >= 576, `XSAVE area of ${saved.length} bytes`);
  const changed = saved.slice();
  changed.set([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 160);
  changed[512] = changed[512]! | 2;
  setRegSet(target.pid, NT_X86_XSTATE, changed);
  assert.equal([...getRegSet(target.pid, NT_X86_XSTATE).subarray(160, 176)], [...changed.subarray(160, 176)]);
  setRegSet(target.pid, NT_X86_XSTATE, saved);
  assert.equal([...getRegSet(target.pid, NT_X86_XSTATE)], [...saved]);
});

registers('a negative value is stored modulo 2^64', () => {
  const regs = new Registers();
  regs.orig_rax = -1n;
  assert.is(regs.orig_rax, 0xffffffffffffffffn);
});

registers.run();
