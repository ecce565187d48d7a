// Signal frames. When the kernel delivers a signal it pushes a struct rt_sigframe on the stack and
// makes the handler return into the sa_restorer, glibc's __restore_rt:
//     48 c7 c0 0f 00 00 00    mov $15, %rax      (SYS_rt_sigreturn)
//     0f 05                   syscall
// When a frame's pc is there, its rsp points at the ucontext of the rt_sigframe (the handler's `ret`
// popped the pretcode), and the interrupted thread's registers are in uc_mcontext.gregs
// (x86-64 <sys/ucontext.h>): ucontext = { uc_flags 8, uc_link 8, uc_stack 24, uc_mcontext } so the
// gregs start 40 bytes in, one u64 each in the order R8..R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX,
// RSP, RIP. The interrupted pc is exact (not a return address), so it is looked up as is.

/** The bytes of __restore_rt. */
export const RESTORE_RT = Uint8Array.from([0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05]);

/** Offset of uc_mcontext.gregs in struct ucontext (x86-64). */
const GREGS_OFFSET = 40;

/** DWARF register number of each gregs slot REG_R8..REG_RIP (psABI numbering: rax 0, rdx 1, rcx 2, rbx 3, rsi 4, rdi 5, rbp 6, rsp 7, r8-r15 8-15, rip 16). */
const GREGS_TO_DWARF = [8, 9, 10, 11, 12, 13, 14, 15, 5, 4, 6, 3, 1, 0, 2, 7, 16];

/** True when `code` (bytes at a pc) is the rt_sigreturn trampoline. */
export function isRestoreRt(code: Uint8Array | undefined): boolean {
  return code !== undefined && code.length >= RESTORE_RT.length && RESTORE_RT.every((b, i) => code[i] === b);
}

/**
 * The interrupted registers (DWARF numbering, 17 entries) saved in the ucontext at `ucontext`, or
 * undefined when that memory cannot be read.
 */
export function interruptedRegisters(ucontext: bigint, read: (address: bigint) => bigint | undefined): (bigint | undefined)[] | undefined {
  const registers: (bigint | undefined)[] = new Array(17).fill(undefined);
  for (let slot = 0; slot < GREGS_TO_DWARF.length; slot++) {
    const value = read(ucontext + BigInt(GREGS_OFFSET + 8 * slot));
    if (value === undefined) return undefined;
    registers[GREGS_TO_DWARF[slot]!] = value;
  }
  return registers;
}
