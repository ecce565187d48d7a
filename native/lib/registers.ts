// Registers: a thread's struct user_regs_struct (x86-64), 27 u64 words in the kernel's order, with a
// named accessor per field. Setting a negative bigint stores it modulo 2^64 (orig_rax = -1n works).
import { native } from './binding.js';
import { checkFlags, checkTid } from './validate.js';

/** Number of words in struct user_regs_struct. */
export const USER_REGS_WORDS = 27;

/** One thread's general-purpose registers, as PTRACE_GETREGS returns them. */
export class Registers {
  /** The 27 words in struct user_regs_struct order (r15 first, gs last). */
  readonly raw: BigUint64Array;

  constructor(raw: BigUint64Array = new BigUint64Array(USER_REGS_WORDS)) {
    if (!(raw instanceof BigUint64Array) || raw.length !== USER_REGS_WORDS) {
      throw new TypeError(`Registers needs a BigUint64Array of ${USER_REGS_WORDS} words`);
    }
    this.raw = raw;
  }

  /** An independent copy. */
  clone(): Registers {
    return new Registers(this.raw.slice());
  }

  get r15(): bigint { return this.raw[0]!; }
  set r15(v: bigint) { this.raw[0] = v; }
  get r14(): bigint { return this.raw[1]!; }
  set r14(v: bigint) { this.raw[1] = v; }
  get r13(): bigint { return this.raw[2]!; }
  set r13(v: bigint) { this.raw[2] = v; }
  get r12(): bigint { return this.raw[3]!; }
  set r12(v: bigint) { this.raw[3] = v; }
  get rbp(): bigint { return this.raw[4]!; }
  set rbp(v: bigint) { this.raw[4] = v; }
  get rbx(): bigint { return this.raw[5]!; }
  set rbx(v: bigint) { this.raw[5] = v; }
  get r11(): bigint { return this.raw[6]!; }
  set r11(v: bigint) { this.raw[6] = v; }
  get r10(): bigint { return this.raw[7]!; }
  set r10(v: bigint) { this.raw[7] = v; }
  get r9(): bigint { return this.raw[8]!; }
  set r9(v: bigint) { this.raw[8] = v; }
  get r8(): bigint { return this.raw[9]!; }
  set r8(v: bigint) { this.raw[9] = v; }
  get rax(): bigint { return this.raw[10]!; }
  set rax(v: bigint) { this.raw[10] = v; }
  get rcx(): bigint { return this.raw[11]!; }
  set rcx(v: bigint) { this.raw[11] = v; }
  get rdx(): bigint { return this.raw[12]!; }
  set rdx(v: bigint) { this.raw[12] = v; }
  get rsi(): bigint { return this.raw[13]!; }
  set rsi(v: bigint) { this.raw[13] = v; }
  get rdi(): bigint { return this.raw[14]!; }
  set rdi(v: bigint) { this.raw[14] = v; }
  get orig_rax(): bigint { return this.raw[15]!; }
  set orig_rax(v: bigint) { this.raw[15] = v; }
  get rip(): bigint { return this.raw[16]!; }
  set rip(v: bigint) { this.raw[16] = v; }
  get cs(): bigint { return this.raw[17]!; }
  set cs(v: bigint) { this.raw[17] = v; }
  get eflags(): bigint { return this.raw[18]!; }
  set eflags(v: bigint) { this.raw[18] = v; }
  get rsp(): bigint { return this.raw[19]!; }
  set rsp(v: bigint) { this.raw[19] = v; }
  get ss(): bigint { return this.raw[20]!; }
  set ss(v: bigint) { this.raw[20] = v; }
  get fs_base(): bigint { return this.raw[21]!; }
  set fs_base(v: bigint) { this.raw[21] = v; }
  get gs_base(): bigint { return this.raw[22]!; }
  set gs_base(v: bigint) { this.raw[22] = v; }
  get ds(): bigint { return this.raw[23]!; }
  set ds(v: bigint) { this.raw[23] = v; }
  get es(): bigint { return this.raw[24]!; }
  set es(v: bigint) { this.raw[24] = v; }
  get fs(): bigint { return this.raw[25]!; }
  set fs(v: bigint) { this.raw[25] = v; }
  get gs(): bigint { return this.raw[26]!; }
  set gs(v: bigint) { this.raw[26] = v; }
}

/** PTRACE_GETREGS of a stopped thread. */
export function getRegs(tid: number): Registers {
  checkTid(tid);
  const regs = new Registers();
  native.getRegs(tid, regs.raw);
  return regs;
}

/** PTRACE_SETREGS of a stopped thread. */
export function setRegs(tid: number, regs: Registers): void {
  checkTid(tid);
  if (!(regs instanceof Registers)) throw new TypeError('setRegs needs a Registers');
  native.setRegs(tid, regs.raw);
}

/** Note type of struct user_fpregs_struct (the 512-byte FXSAVE area: x87, MXCSR, xmm0-15), <elf.h>. */
export const NT_PRFPREG = 2;
/** Note type of the whole XSAVE area (x87, SSE, AVX, AVX-512, ...), <elf.h>; its size depends on the CPU. */
export const NT_X86_XSTATE = 0x202;
// Larger than any XSAVE area a kernel reports (AMX tile data included, the area is about 11 KiB).
const MAX_REGSET_BYTES = 64 * 1024;

/** PTRACE_GETREGSET of a stopped thread: the register set `type` (NT_X86_XSTATE, ...) as the kernel laid it out. */
export function getRegSet(tid: number, type: number): Uint8Array {
  checkTid(tid);
  checkFlags(type, 'type');
  const buffer = new Uint8Array(MAX_REGSET_BYTES);
  const length = native.getRegSet(tid, type, buffer);
  return buffer.slice(0, length);
}

/** PTRACE_SETREGSET of a stopped thread: loads `bytes` (as getRegSet returned them, whole) into register set `type`. */
export function setRegSet(tid: number, type: number, bytes: Uint8Array): void {
  checkTid(tid);
  checkFlags(type, 'type');
  if (!(bytes instanceof Uint8Array)) throw new TypeError('setRegSet needs a Uint8Array');
  native.setRegSet(tid, type, bytes);
}
