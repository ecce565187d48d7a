// The applier raises its own scheduling priority while it works on a target: on a busy machine
// (more runnable threads than cores, e.g. a target spinning on every core) a tracer at normal
// priority waits for CPU between ptrace calls, and every thread it resumes may preempt it, which
// lengthens both the stop window and the whole apply. SCHED_FIFO (priority 1, the lowest real-time
// one) is tried first: no normal thread preempts it; the tracer blocks in waitpid while the target
// threads reach their stops, and it sleeps while it waits for a safe moment, so it never hogs a
// core. Failing that, nice -20. Both need CAP_SYS_NICE; without it the applier runs at its normal
// priority, correct, only slower.
import { getPriority, setPriority } from 'node:os';
import { setFifoPriority } from '@katana/ptrace';

/** Runs `work` at the highest priority this process may take, then restores the old one. */
export function withHighPriority<T>(work: () => T): T {
  const before = getPriority();
  let realtime = false;
  let niced = false;
  try {
    setFifoPriority(1);
    realtime = true;
  } catch {
    try {
      setPriority(-20);
      niced = true;
    } catch {
      // EACCES/EPERM without CAP_SYS_NICE.
    }
  }
  try {
    return work();
  } finally {
    if (realtime) setFifoPriority(0);
    if (niced) setPriority(before);
  }
}
