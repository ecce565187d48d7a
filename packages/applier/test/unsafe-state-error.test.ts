// The refusal a user reads when no safe moment comes: one thread is named with its function and
// callers (as integration/cases/fail_unsafe_forever checks end to end); several are all named.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UnsafeStateError } from '../src/index.js';

const serving = { tid: 4242, function: 'serve_forever', how: 'is in' as const, why: 'replaces' as const, callers: ['main', '__libc_start_call_main'], resumeAt: 0x401234n, reason: undefined };
const worker = { tid: 4243, function: 'parse', how: 'will return into' as const, why: 'marks unsafe' as const, callers: ['handle', 'worker', 'start_thread', 'clone3'], resumeAt: 0x401300n, reason: undefined };
const lost = { tid: 4244, function: '??', how: 'unreliable stack' as const, why: undefined, callers: [], resumeAt: undefined, reason: 'pc 0x10 is in no mapping' };

const message = suite('UnsafeStateError');

message('one thread: its function, callers up to main, and what the patch does to it', () => {
  const error = new UnsafeStateError(serving);
  assert.is(error.code, 'E_UNSAFE');
  assert.is(error.message, 'thread 4242 is in serve_forever (called from main), which the patch replaces; try again later');
  assert.is(error.afterWaiting(5000).message, 'thread 4242 is in serve_forever (called from main), which the patch replaces, and did not leave it within 5 s');
});

message('after waiting, every blocking thread is named, thread start-up frames left out', () => {
  const error = new UnsafeStateError(serving).afterWaiting(2000, [new UnsafeStateError(worker), new UnsafeStateError(lost)]);
  assert.is(
    error.message,
    '3 threads did not leave unsafe code within 2 s: thread 4242 is in serve_forever (called from main); ' +
      'thread 4243 will return into parse (called from handle, worker); thread 4244 has an unreliable stack in ?? (pc 0x10 is in no mapping)',
  );
  assert.equal(error.others.map((t) => t.tid), [4243, 4244]);
});

message.run();
