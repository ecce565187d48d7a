// PtraceError as the addon throws it: class, errno fields, one-line message, the caller's stack.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isKatanaError } from '@katana/errors';
import { PtraceError, ProcessMemory, errnoName, seize } from '../lib/index.js';

const errors = suite('PtraceError');

// pid_max itself is never a valid pid: pids are 1..pid_max-1.
const noSuchPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));

errors('seize of a non-existent pid throws ESRCH with a one-line message', () => {
  try {
    seize(noSuchPid);
    assert.unreachable('seize succeeded');
  } catch (error) {
    assert.instance(error, PtraceError);
    assert.ok(isKatanaError(error));
    const e = error as PtraceError;
    assert.is(e.code, 'E_PTRACE');
    assert.is(e.errno, 3);
    assert.is(e.errnoCode, 'ESRCH');
    assert.is(e.syscall, 'ptrace(PTRACE_SEIZE)');
    assert.is(e.pid, noSuchPid);
    assert.is(e.message, `ptrace(PTRACE_SEIZE) on ${noSuchPid} failed: No such process (ESRCH)`);
    assert.match(e.stack ?? '', /errors\.test\.js/);
  }
});

errors('opening /proc/PID/mem of a non-existent pid throws ENOENT', () => {
  try {
    new ProcessMemory(noSuchPid);
    assert.unreachable('open succeeded');
  } catch (error) {
    assert.instance(error, PtraceError);
    assert.is((error as PtraceError).errnoCode, 'ENOENT');
  }
});

errors('invalid arguments are rejected before reaching the addon', () => {
  assert.throws(() => seize(0), RangeError);
  assert.throws(() => seize(1.5), RangeError);
});

errors('errnoName knows the symbolic names', () => {
  assert.is(errnoName(1), 'EPERM');
  assert.is(errnoName(11), 'EAGAIN');
  assert.is(errnoName(100000), 'E? (100000)');
});

errors.run();
