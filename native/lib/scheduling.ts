// Real-time scheduling for the tracer's own thread: with SCHED_FIFO, the target threads it wakes
// (PTRACE_CONT, PTRACE_DETACH) can never preempt it, so resuming 64 threads is 64 system calls, not
// 64 trips through the scheduler. Needs CAP_SYS_NICE (EPERM otherwise).
import { native } from './binding.js';

/** sched_setscheduler(2) for the calling thread: SCHED_FIFO at `priority` (1..99), or SCHED_OTHER for 0. */
export function setFifoPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > 99) throw new RangeError(`SCHED_FIFO priority must be an integer in 0..99, got ${priority}`);
  native.setFifoPriority(priority);
}
