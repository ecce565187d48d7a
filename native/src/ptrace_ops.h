// Mechanism only: one C++ function per ptrace/waitpid//proc/PID/mem operation, at the granularity of
// libcare's kpatch_ptrace.h. Each returns 0 (or a count, a pid, an fd) on success and -errno on
// failure; no policy, no validation, no JavaScript. addon.cc wraps these for Node.
#ifndef KATANA_PTRACE_OPS_H
#define KATANA_PTRACE_OPS_H

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace katana {

// Number of 64-bit words in struct user_regs_struct on x86-64.
constexpr std::size_t kUserRegsWords = 27;

int ptrace_seize(pid_t tid, unsigned long options);
int ptrace_interrupt(pid_t tid);
int ptrace_detach(pid_t tid, int signal);
int ptrace_cont(pid_t tid, int signal);
int ptrace_singlestep(pid_t tid, int signal);
int ptrace_geteventmsg(pid_t tid, unsigned long* message);
int ptrace_getsiginfo(pid_t tid, int* signo, int* code, int* error, std::uint64_t* address);
int ptrace_getregs(pid_t tid, std::uint64_t* words);        // kUserRegsWords words
int ptrace_setregs(pid_t tid, const std::uint64_t* words);  // kUserRegsWords words
// PTRACE_GETREGSET of note type `type` (NT_X86_XSTATE, ...) into `buffer`: returns the number of
// bytes the kernel filled (at most `length`) or -errno. PTRACE_SETREGSET loads `length` bytes.
int ptrace_getregset(pid_t tid, unsigned type, std::uint8_t* buffer, std::size_t length);
int ptrace_setregset(pid_t tid, unsigned type, std::uint8_t* buffer, std::size_t length);

// tgkill(2): queue `signal` to thread `tid` of thread group `tgid`.
int thread_kill(pid_t tgid, pid_t tid, int signal);

// sched_setscheduler(0, SCHED_FIFO, priority) for the calling thread; priority 0 puts it back
// to SCHED_OTHER.
int set_fifo_priority(int priority);

// waitpid(tid, status, flags | __WALL), retried on EINTR; returns the pid (0 with WNOHANG) or -errno.
int wait_for(pid_t tid, int flags, int* status);

// /proc/PID/mem: open O_RDWR; transfer exactly `length` bytes at `address` (unsigned: the kernel
// marks this file FMODE_UNSIGNED_OFFSET); a short transfer is reported as -EIO.
int mem_open(pid_t pid);
int mem_read(int fd, std::uint64_t address, std::uint8_t* buffer, std::size_t length);
int mem_write(int fd, std::uint64_t address, const std::uint8_t* buffer, std::size_t length);
int mem_close(int fd);

}  // namespace katana

#endif
