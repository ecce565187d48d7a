// seize, interrupt, waitpid, cont, detach against a real running C program (fixtures/ticker.c).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PTRACE_EVENT_STOP,
  PTRACE_O_TRACECLONE,
  SIGTRAP,
  WNOHANG,
  cont,
  decodeStatus,
  detach,
  interrupt,
  seize,
  waitpid,
} from '../lib/index.js';
import { Target, compileFixture, tempDir, tickOf } from './helpers/target.js';

interface Context {
  remove: () => void;
  target: Target;
}

const requests = suite<Context>('seize, interrupt, waitpid, cont, detach');

requests.before(async (ctx) => {
  const { dir, remove } = tempDir();
  ctx.remove = remove;
  ctx.target = await Target.start(compileFixture('ticker', dir));
  await ctx.target.waitFor((line) => line === 'tick 1');
});

requests.after(async (ctx) => {
  await ctx.target.kill();
  ctx.remove();
});

requests('a seized thread keeps running and waitpid WNOHANG reports nothing', ({ target }) => {
  seize(target.pid, PTRACE_O_TRACECLONE);
  assert.is(waitpid(target.pid, WNOHANG), null);
});

requests('interrupt stops the thread with PTRACE_EVENT_STOP', ({ target }) => {
  interrupt(target.pid);
  const stop = waitpid(target.pid)!;
  assert.is(stop.pid, target.pid);
  assert.ok(stop.stopped);
  assert.is(stop.stopSignal, SIGTRAP);
  assert.is(stop.event, PTRACE_EVENT_STOP);
  assert.not.ok(stop.exited);
});

requests('cont resumes it and a second interrupt stops it again', async ({ target }) => {
  const before = target.lines.length;
  cont(target.pid);
  await target.waitFor((line) => tickOf(line) >= before + 2);
  interrupt(target.pid);
  assert.is(waitpid(target.pid)!.event, PTRACE_EVENT_STOP);
});

requests('after detach the program keeps printing consecutive ticks', async ({ target }) => {
  detach(target.pid);
  const last = tickOf(target.lines.at(-1)!);
  await target.waitFor((line) => tickOf(line) >= last + 5);
  const ticks = target.lines.map(tickOf);
  ticks.forEach((tick, i) => assert.is(tick, i, `line ${i} is "${target.lines[i]}"`));
});

requests.run();

const status = suite('decodeStatus');

status('decodes stops, exits and deaths like <sys/wait.h>', () => {
  assert.equal(decodeStatus(7, 0x80057f), { pid: 7, status: 0x80057f, exited: false, signaled: false, stopped: true, stopSignal: 5, event: 128 });
  assert.equal(decodeStatus(7, 0x300), { pid: 7, status: 0x300, exited: true, exitCode: 3, signaled: false, stopped: false, event: 0 });
  assert.equal(decodeStatus(7, 9), { pid: 7, status: 9, exited: false, signaled: true, termSignal: 9, stopped: false, event: 0 });
});

status.run();
