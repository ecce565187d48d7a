// Patching a process whose threads are in every state (integration/threads/main.c): 64 threads
// calling the patched function in a tight loop; threads blocked in read(), pthread_cond_wait,
// accept(), epoll_wait and nanosleep; a real-time signal handler calling the patched function while
// the test sends that signal throughout the apply; a thread starting and ending threads without
// pause. After `katana apply`: every hot thread runs the new code, every blocked call returns only
// with what the test sends afterwards, exact, without EINTR or a shortened sleep, every signal sent
// is handled, and threads keep being born.
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana } from '../lib/katana.js';
import { repoRoot } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

const source = join(repoRoot, 'integration', 'threads');
// glibc's SIGRTMIN (the kernel's 32 and 33 belong to the threading library).
const SIGRTMIN = 34;
const SLEEP_NS = 300_000_000n;

interface Status {
  rt: number;
  hv: number;
  min: number;
  max: number;
  born: number;
}

function parseStatus(line: string): Status | undefined {
  const m = /^status rt (\d+) hv (\d+) min (\d+) max (\d+) born (\d+)$/.exec(line);
  if (m === null) return undefined;
  const [rt, hv, min, max, born] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { rt, hv, min, max, born };
}

interface Context {
  project: TempProject;
  target: RunningTarget;
  readFifo: string;
  epollFifo: string;
  port: number;
  apply: { exitCode: number; stdout: string; stderr: string };
  /** SIGRTMIN signals the kernel accepted for the target while the apply ran. */
  sent: number;
  /** Lines printed before the apply started, and the status then. */
  linesBefore: number;
  statusBefore: Status;
}

const threads = suite<Context>('threads: a process with threads in every state, patched while running');

threads.before(async (ctx) => {
  try {
    const project = (ctx.project = new TempProject('threads'));
    project.copyIn(join(source, 'main.c'), 'main.c');
    const v1 = await project.build(['main.c'], 'prog', ['-O0', '-pthread'], ['-pthread']);
    await project.patch(join(source, 'fix.patch'));
    const v2 = await project.build(['main.c'], 'prog-v2', ['-O0', '-pthread'], ['-pthread']);
    const po = join(project.dir, 'fix.po');
    const diff = await katana(['diff', '--old', v1, '--new', v2, '-o', po], project.dir, project.env);
    assert.is(diff.exitCode, 0, `katana diff failed: ${diff.stderr}`);
    ctx.readFifo = join(project.dir, 'read.fifo');
    ctx.epollFifo = join(project.dir, 'epoll.fifo');
    await execa('mkfifo', [ctx.readFifo, ctx.epollFifo]);

    const target = (ctx.target = new RunningTarget(v1, [ctx.readFifo, ctx.epollFifo]));
    ctx.port = Number(/^ready (\d+)$/.exec(target.lines[await target.waitForLine(/^ready \d+$/)]!)![1]);
    await target.waitForLine(/^status .* min 1 max 1 /);
    ctx.linesBefore = target.lines.length;
    ctx.statusBefore = parseStatus(target.lines.filter((l) => l.startsWith('status ')).at(-1)!)!;

    // Real-time signals queue (none is merged with another), so each one sent must be handled.
    ctx.sent = 0;
    const sender = setInterval(() => {
      try {
        process.kill(target.pid, SIGRTMIN);
        ctx.sent++;
      } catch {
        // the target is gone: the tests say so
      }
    }, 1);
    try {
      ctx.apply = await katana(['apply', '--json', '--pid', String(target.pid), po], project.dir);
    } finally {
      clearInterval(sender);
    }
  } catch (error) {
    console.error('threads setup failed:', error);
    throw error;
  }
});

threads.after((ctx) => {
  ctx.target?.kill();
  ctx.project?.remove();
});

threads('katana apply succeeds while signals arrive and threads come and go', (ctx) => {
  assert.is(ctx.apply.exitCode, 0, `katana apply failed: ${ctx.apply.stderr}`);
  const report = JSON.parse(ctx.apply.stdout);
  assert.ok(report.threads >= 64 + 7, `threads stopped: ${report.threads}`);
  assert.ok(ctx.sent > 0, 'signals were sent during the apply');
  assert.ok(ctx.target.alive, 'target alive');
});

threads('all 64 hot threads switch to the new version and keep running', async ({ target, linesBefore }) => {
  await target.waitForLine(/^status .* min 2 max 2 /, linesBefore);
});

threads('every SIGRTMIN sent during the apply is handled, by the new code', async ({ target, sent }) => {
  await target.waitForLine(new RegExp(`^status rt ${sent} hv 2 `));
  const handled = target.lines.map(parseStatus).filter((s) => s !== undefined).map((s) => s.rt);
  assert.ok(handled.every((rt) => rt <= sent), `more signals handled than sent (${sent}): ${handled.at(-1)}`);
});

threads('threads blocked in read, pthread_cond_wait and accept return with what is sent after the apply', async ({ target, readFifo, port }) => {
  const blockedCalls = /^(read |cond |accept|epoll)/;
  assert.equal(target.lines.filter((l) => blockedCalls.test(l)), [], 'no blocked call returned before anything was sent');
  writeFileSync(readFifo, 'hello');
  await target.waitForLine(/^read /);
  await target.waitForLine(/^cond /);
  const socket = createConnection(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  await target.waitForLine(/^accept/);
  socket.destroy();
  assert.equal(target.lines.filter((l) => /^(read |cond |accept)/.test(l)), ['read 5 hello|', 'cond 2', 'accepted 2']);
});

threads('a thread blocked in epoll_wait sees no EINTR and gets the data sent after the apply', async ({ target, epollFifo }) => {
  writeFileSync(epollFifo, 'ping');
  await target.waitForLine(/^epoll data /);
  assert.equal(target.lines.filter((l) => l.startsWith('epoll')), ['epoll 1 0', 'epoll data ping|']);
});

threads('no 300 ms nanosleep ends early or fails', async ({ target, linesBefore }) => {
  await target.waitForLine(/^slept /, linesBefore);
  const sleeps = target.lines.filter((l) => l.startsWith('slept '));
  for (const line of sleeps) {
    const [, start, end, rc] = line.split(' ');
    assert.is(rc, '0', `nanosleep failed: ${line}`);
    assert.ok(BigInt(end!) - BigInt(start!) >= SLEEP_NS, `a sleep lasted less than 300 ms: ${line}`);
  }
});

threads('threads keep starting and ending after the apply', async ({ target, statusBefore }) => {
  const mark = target.lines.length;
  const now = parseStatus(target.lines[await target.waitForLine(/^status /, mark)]!)!;
  const later = parseStatus(target.lines[await target.waitForLine(/^status /, target.lines.length)]!)!;
  assert.ok(now.born > statusBefore.born && later.born > now.born, `born: ${statusBefore.born} → ${now.born} → ${later.born}`);
  assert.ok(target.alive);
});

threads.run();
