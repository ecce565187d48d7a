// Linux constants for ptrace(2) and waitpid(2) on x86-64, from <linux/ptrace.h>, <sys/wait.h> and
// <asm/signal.h>. Spelled as in the headers.

// PTRACE_SETOPTIONS / PTRACE_SEIZE options (<linux/ptrace.h>).
export const PTRACE_O_TRACESYSGOOD = 0x1;
export const PTRACE_O_TRACEFORK = 0x2;
export const PTRACE_O_TRACEVFORK = 0x4;
export const PTRACE_O_TRACECLONE = 0x8;
export const PTRACE_O_TRACEEXEC = 0x10;
export const PTRACE_O_TRACEVFORKDONE = 0x20;
export const PTRACE_O_TRACEEXIT = 0x40;
export const PTRACE_O_TRACESECCOMP = 0x80;
export const PTRACE_O_EXITKILL = 0x100000;

// Events reported in bits 16..23 of a wait status (<linux/ptrace.h>).
export const PTRACE_EVENT_FORK = 1;
export const PTRACE_EVENT_VFORK = 2;
export const PTRACE_EVENT_CLONE = 3;
export const PTRACE_EVENT_EXEC = 4;
export const PTRACE_EVENT_VFORK_DONE = 5;
export const PTRACE_EVENT_EXIT = 6;
export const PTRACE_EVENT_SECCOMP = 7;
export const PTRACE_EVENT_STOP = 128;

// waitpid flags (<sys/wait.h>); the addon always adds __WALL.
export const WNOHANG = 0x1;
export const __WALL = 0x40000000;

// Signals (<asm/signal.h>, x86-64).
export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGABRT = 6;
export const SIGBUS = 7;
export const SIGFPE = 8;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGSEGV = 11;
export const SIGUSR2 = 12;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGCHLD = 17;
export const SIGCONT = 18;
export const SIGSTOP = 19;
export const SIGTSTP = 20;
export const SIGTTIN = 21;
export const SIGTTOU = 22;
/** Highest real-time signal number; valid signals are 1..SIGRTMAX. */
export const SIGRTMAX = 64;
