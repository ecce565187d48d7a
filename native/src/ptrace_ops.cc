// Plain C++ over the ptrace(2), waitpid(2) and pread/pwrite(2) system calls; see ptrace_ops.h.
// Every function maps a failing call to -errno so that the caller decides what a failure means.
#include "ptrace_ops.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

namespace katana {

static_assert(sizeof(struct user_regs_struct) == kUserRegsWords * sizeof(std::uint64_t),
              "user_regs_struct is 27 u64 on x86-64");

namespace {

int request(enum __ptrace_request req, pid_t tid, unsigned long addr, unsigned long data) {
  if (ptrace(req, tid, addr, data) == -1) return -errno;
  return 0;
}

}  // namespace

int ptrace_seize(pid_t tid, unsigned long options) { return request(PTRACE_SEIZE, tid, 0, options); }

int ptrace_interrupt(pid_t tid) { return request(PTRACE_INTERRUPT, tid, 0, 0); }

int ptrace_detach(pid_t tid, int signal) { return request(PTRACE_DETACH, tid, 0, signal); }

int ptrace_cont(pid_t tid, int signal) { return request(PTRACE_CONT, tid, 0, signal); }

int ptrace_singlestep(pid_t tid, int signal) { return request(PTRACE_SINGLESTEP, tid, 0, signal); }

int ptrace_geteventmsg(pid_t tid, unsigned long* message) {
  if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, message) == -1) return -errno;
  return 0;
}

int ptrace_getsiginfo(pid_t tid, int* signo, int* code, int* error, std::uint64_t* address) {
  siginfo_t info{};
  if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info) == -1) return -errno;
  *signo = info.si_signo;
  *code = info.si_code;
  *error = info.si_errno;
  *address = reinterpret_cast<std::uint64_t>(info.si_addr);
  return 0;
}

int ptrace_getregs(pid_t tid, std::uint64_t* words) {
  struct user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == -1) return -errno;
  const auto* src = reinterpret_cast<const std::uint64_t*>(&regs);
  for (std::size_t i = 0; i < kUserRegsWords; i++) words[i] = src[i];
  return 0;
}

int ptrace_setregs(pid_t tid, const std::uint64_t* words) {
  struct user_regs_struct regs{};
  auto* dst = reinterpret_cast<std::uint64_t*>(&regs);
  for (std::size_t i = 0; i < kUserRegsWords; i++) dst[i] = words[i];
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == -1) return -errno;
  return 0;
}

int ptrace_getregset(pid_t tid, unsigned type, std::uint8_t* buffer, std::size_t length) {
  struct iovec iov{buffer, length};
  if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(static_cast<unsigned long>(type)), &iov) == -1) return -errno;
  return static_cast<int>(iov.iov_len);
}

int ptrace_setregset(pid_t tid, unsigned type, std::uint8_t* buffer, std::size_t length) {
  struct iovec iov{buffer, length};
  if (ptrace(PTRACE_SETREGSET, tid, reinterpret_cast<void*>(static_cast<unsigned long>(type)), &iov) == -1) return -errno;
  return 0;
}

int thread_kill(pid_t tgid, pid_t tid, int signal) {
  if (syscall(SYS_tgkill, tgid, tid, signal) == -1) return -errno;
  return 0;
}

int set_fifo_priority(int priority) {
  struct sched_param param{};
  param.sched_priority = priority;
  if (sched_setscheduler(0, priority > 0 ? SCHED_FIFO : SCHED_OTHER, &param) == -1) return -errno;
  return 0;
}

int wait_for(pid_t tid, int flags, int* status) {
  for (;;) {
    pid_t got = waitpid(tid, status, flags | __WALL);
    if (got >= 0) return got;
    if (errno != EINTR) return -errno;
  }
}

int mem_open(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/mem", static_cast<int>(pid));
  int fd = open(path, O_RDWR | O_CLOEXEC);
  return fd == -1 ? -errno : fd;
}

int mem_read(int fd, std::uint64_t address, std::uint8_t* buffer, std::size_t length) {
  std::size_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, buffer + done, length - done, static_cast<off_t>(address + done));
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) return -errno;
    if (n == 0) return -EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

int mem_write(int fd, std::uint64_t address, const std::uint8_t* buffer, std::size_t length) {
  std::size_t done = 0;
  while (done < length) {
    ssize_t n = pwrite(fd, buffer + done, length - done, static_cast<off_t>(address + done));
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) return -errno;
    if (n == 0) return -EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

int mem_close(int fd) { return close(fd) == -1 ? -errno : 0; }

}  // namespace katana
