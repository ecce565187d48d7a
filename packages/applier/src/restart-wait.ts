// Keeps a ptrace stop invisible to a thread blocked in epoll_wait. Most blocking calls (read,
// accept, futex, nanosleep, poll, select) return -ERESTART* when PTRACE_INTERRUPT or a signal wakes
// them, and the kernel restarts them when no handler runs. epoll_wait/epoll_pwait/epoll_pwait2
// return -EINTR instead (signal(7): "never restarted"), and while a thread is traced even an ignored
// signal is queued and wakes it. So at a stop where such a call is returning -EINTR, we turn rax
// into -ERESTARTNOHAND: with no handler to run the kernel restarts the call (ip -= 2, rax =
// orig_rax); with a handler it still becomes -EINTR, exactly as without us. A finite timeout then
// restarts from its full length: the wait can only grow by the stop, never end early or fail.
import type { Registers } from '@katana/ptrace';

const EINTR = 4n;
// include/linux/errno.h: "restart if no handler", never seen by user space.
const ERESTARTNOHAND = 514n;
// x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
const SYS_epoll_wait = 232n;
const SYS_epoll_pwait = 281n;
const SYS_epoll_pwait2 = 441n;

/**
 * True (and `regs` rewritten) when the stopped thread is returning -EINTR from an epoll wait that a
 * stop interrupted; the caller then loads `regs` into the thread before resuming it.
 */
export function restartInterruptedWait(regs: Registers): boolean {
  const nr = regs.orig_rax;
  if (nr !== SYS_epoll_wait && nr !== SYS_epoll_pwait && nr !== SYS_epoll_pwait2) return false;
  if (regs.rax !== BigInt.asUintN(64, -EINTR)) return false;
  regs.rax = BigInt.asUintN(64, -ERESTARTNOHAND);
  return true;
}
