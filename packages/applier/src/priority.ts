// The applier raises its own scheduling priority while it works on a target: on a busy machine
// (more runnable threads than cores, e.g. a target spinning on every core) a tracer at normal
// priority waits for CPU between ptrace calls, which lengthens both the stop window and the whole
// apply. nice -20 needs CAP_SYS_NICE; without it the applier runs at its normal priority.
import { getPriority, setPriority } from 'node:os';

/** Runs `work` at the highest nice priority this process may take, then restores the old one. */
export function withHighPriority<T>(work: () => T): T {
  const before = getPriority();
  let raised = false;
  try {
    setPriority(-20);
    raised = true;
  } catch {
    // EACCES without CAP_SYS_NICE: the apply is correct at any priority, only slower.
  }
  try {
    return work();
  } finally {
    if (raised) setPriority(before);
  }
}
