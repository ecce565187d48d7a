// Runs a system call inside a stopped thread of the target (libcare's kpatch_execute_remote):
// save every register; point rip at a `syscall` instruction (bytes 0f 05) found in an executable
// mapping of the target; load rax = nr and the arguments (rdi, rsi, rdx, r10, r8, r9); set
// orig_rax = -1 so that the kernel's restart logic does not rewrite our call when the thread was
// interrupted inside nanosleep/read/futex (it sees "no syscall in progress"); single-step; read rax;
// restore every saved register, which puts the interrupted call's restart state back, so the thread
// later restarts it as if nothing happened. A signal that arrives during the step is suppressed and
// deferred: ThreadGroup (threads.ts) re-delivers it when it resumes or detaches the thread.
import { getSystemErrorMap } from 'node:util';
import {
  ProcessMemory,
  SIGTRAP,
  PTRACE_EVENT_STOP,
  Registers,
  getRegs,
  setRegs,
  singleStep,
  waitpid,
} from '@katana/ptrace';
import { ApplierError } from './errors.js';
import { readMaps } from './process.js';

// x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
export const SYS_close = 3;
export const SYS_mmap = 9;
export const SYS_mprotect = 10;
export const SYS_munmap = 11;
export const SYS_getpid = 39;
export const SYS_ftruncate = 77;
export const SYS_gettid = 186;
export const SYS_memfd_create = 319;

// <asm-generic/mman-common.h>, <asm/mman.h>.
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_FIXED_NOREPLACE = 0x100000;
// <linux/memfd.h>.
export const MFD_CLOEXEC = 0x1;

const SYSCALL_NAMES = new Map<number, string>([
  [SYS_mmap, 'mmap'],
  [SYS_mprotect, 'mprotect'],
  [SYS_munmap, 'munmap'],
  [SYS_getpid, 'getpid'],
  [SYS_gettid, 'gettid'],
  [SYS_close, 'close'],
  [SYS_ftruncate, 'ftruncate'],
  [SYS_memfd_create, 'memfd_create'],
]);

const SYSCALL_INSN = [0x0f, 0x05];
const MAX_ERRNO = 4095n;

/** A system call executed inside the target returned an error. */
export class RemoteSyscallError extends ApplierError {
  /** Name of the call, 'mmap', or 'syscall 231' when we have no name for it. */
  readonly syscall: string;
  readonly errno: number;
  /** 'ENOMEM', 'EEXIST', ... */
  readonly errnoCode: string;

  constructor(readonly pid: number, readonly tid: number, nr: number, errno: number) {
    const [errnoCode, text] = getSystemErrorMap().get(-errno) ?? [`E? (${errno})`, 'unknown error'];
    const syscall = SYSCALL_NAMES.get(nr) ?? `syscall ${nr}`;
    super(`${syscall} executed in thread ${tid} of pid ${pid} failed: ${text} (${errnoCode})`, undefined, 'E_REMOTE_SYSCALL');
    this.syscall = syscall;
    this.errno = errno;
    this.errnoCode = errnoCode;
  }
}

// Signals that reached a thread while it was single-stepping through an injected call, per tid, in
// arrival order. ThreadGroup takes them when it resumes or detaches the thread.
const deferredSignals = new Map<number, number[]>();

/** Records a signal that reached `tid` while it ran an instruction for us, to deliver when it resumes. */
export function deferSignal(tid: number, signal: number): void {
  const list = deferredSignals.get(tid) ?? [];
  list.push(signal);
  deferredSignals.set(tid, list);
}

/** Removes and returns the signals deferred for `tid` by remoteSyscall (oldest first). */
export function takeDeferredSignals(tid: number): number[] {
  const signals = deferredSignals.get(tid) ?? [];
  deferredSignals.delete(tid);
  return signals;
}

// Address of a `syscall` instruction per pid; re-checked before each use (the pid may be reused).
const syscallSites = new Map<number, bigint>();

/** Address of bytes 0f 05 in an executable mapping of pid: the [vdso] first, then file text. */
export function findSyscallInsn(pid: number, memory: ProcessMemory): bigint {
  const cached = syscallSites.get(pid);
  if (cached !== undefined && isSyscallAt(memory, cached)) return cached;
  // [vsyscall] is emulated by the kernel: executing anything but its entry points faults.
  const candidates = readMaps(pid).filter((m) => m.perms.startsWith('r-x') && m.path !== '[vsyscall]');
  candidates.sort((a, b) => Number(b.path === '[vdso]') - Number(a.path === '[vdso]'));
  for (const mapping of candidates) {
    const bytes = memory.tryRead(mapping.start, Number(mapping.end - mapping.start));
    if (bytes === null) continue;
    for (let i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] === SYSCALL_INSN[0] && bytes[i + 1] === SYSCALL_INSN[1]) {
        const address = mapping.start + BigInt(i);
        syscallSites.set(pid, address);
        return address;
      }
    }
  }
  throw new ApplierError(`no syscall instruction (0f 05) in any executable mapping of pid ${pid}`, undefined, 'E_REMOTE_SYSCALL');
}

function isSyscallAt(memory: ProcessMemory, address: bigint): boolean {
  const bytes = memory.tryRead(address, 2);
  return bytes !== null && bytes[0] === SYSCALL_INSN[0] && bytes[1] === SYSCALL_INSN[1];
}

/**
 * Executes system call `nr` with up to six `args` in thread `tid` of `pid`, which must be in a
 * ptrace-stop; returns rax, or throws RemoteSyscallError for a result in [-4095, -1].
 */
export function remoteSyscall(pid: number, tid: number, nr: number, args: bigint[]): bigint {
  if (args.length > 6) throw new RangeError(`a system call takes at most 6 arguments, got ${args.length}`);
  const memory = new ProcessMemory(pid);
  let site: bigint;
  try {
    site = findSyscallInsn(pid, memory);
  } finally {
    memory.close();
  }

  const saved = getRegs(tid);
  const call = saved.clone();
  call.rip = site;
  call.rax = BigInt(nr);
  call.orig_rax = -1n;
  call.rdi = args[0] ?? 0n;
  call.rsi = args[1] ?? 0n;
  call.rdx = args[2] ?? 0n;
  call.r10 = args[3] ?? 0n;
  call.r8 = args[4] ?? 0n;
  call.r9 = args[5] ?? 0n;
  let result: bigint;
  // From here until the finally block, the thread's registers are ours: restore them whatever happens.
  setRegs(tid, call);
  try {
    result = stepOverSyscall(pid, tid, site + 2n);
  } catch (error) {
    try {
      setRegs(tid, saved);
    } catch {
      // The thread is gone (the step failed because it died): there is nothing left to restore.
    }
    throw error;
  }
  setRegs(tid, saved);
  const signed = BigInt.asIntN(64, result);
  if (signed < 0n && signed >= -MAX_ERRNO) throw new RemoteSyscallError(pid, tid, nr, Number(-signed));
  return result;
}

// Single-steps tid until its rip is `after` (the syscall instruction has run); returns rax. Any
// other stop on the way is a signal (deferred, then suppressed) or a group/interrupt stop (ignored).
function stepOverSyscall(pid: number, tid: number, after: bigint): bigint {
  for (;;) {
    singleStep(tid);
    const stop = waitpid(tid)!;
    if (!stop.stopped) {
      const how = stop.exited ? `exited with status ${stop.exitCode}` : `was killed by signal ${stop.termSignal}`;
      throw new ApplierError(`thread ${tid} of pid ${pid} ${how} during an injected system call`, undefined, 'E_REMOTE_SYSCALL');
    }
    if (stop.event === PTRACE_EVENT_STOP) continue;
    const regs: Registers = getRegs(tid);
    if (stop.event === 0 && stop.stopSignal === SIGTRAP && regs.rip === after) return regs.rax;
    if (stop.event === 0 && stop.stopSignal !== undefined) deferSignal(tid, stop.stopSignal);
  }
}

/** mmap(addr, length, prot, flags, fd, offset) inside the target; returns the mapped address. */
export function remoteMmap(
  pid: number,
  tid: number,
  addr: bigint,
  length: number,
  prot: number,
  flags: number,
  fd = -1,
  offset = 0,
): bigint {
  return remoteSyscall(pid, tid, SYS_mmap, [addr, BigInt(length), BigInt(prot), BigInt(flags), BigInt(fd), BigInt(offset)]);
}

/** munmap(addr, length) inside the target. */
export function remoteMunmap(pid: number, tid: number, addr: bigint, length: number): void {
  remoteSyscall(pid, tid, SYS_munmap, [addr, BigInt(length)]);
}

/** mprotect(addr, length, prot) inside the target. */
export function remoteMprotect(pid: number, tid: number, addr: bigint, length: number, prot: number): void {
  remoteSyscall(pid, tid, SYS_mprotect, [addr, BigInt(length), BigInt(prot)]);
}
