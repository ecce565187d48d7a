// @katana/ptrace: synchronous ptrace, waitpid and /proc/PID/mem for the applier (native/CONTRACT.md).
// Everything runs on the caller's JS thread, so every ptrace request for a tracee comes from one OS
// thread, as the kernel requires. Failures throw PtraceError.
export * from './constants.js';
export { PtraceError, errnoName, isPtraceError } from './errors.js';
export { seize, interrupt, detach, cont, singleStep, getEventMsg, getSigInfo, tgkill, waitpid, decodeStatus, type WaitResult } from './requests.js';
export { Registers, USER_REGS_WORDS, NT_PRFPREG, NT_X86_XSTATE, getRegs, setRegs, getRegSet, setRegSet } from './registers.js';
export { ProcessMemory } from './memory.js';
export { setFifoPriority } from './scheduling.js';
