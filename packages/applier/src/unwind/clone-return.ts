// glibc's clone and clone3 end their CFI just before the `syscall` that makes the new thread
// (cfi_endproc in sysdeps/unix/sysv/linux/x86_64/clone.S and clone3.S): the child starts on an
// empty stack, so no table can describe the few instructions between the syscall and the child's
// start routine (whose own CFI marks rip undefined, the outermost frame). A thread stopped there
// is either the child just born (rax 0: this is its outermost frame) or the parent on its way back
// (nothing pushed since the call: the return address is on top of the stack). Threads being
// created while katana stops a process stop there often; without this they read as unreliable.

/** The names glibc's clone entry points have in .symtab and .dynsym. */
const CLONE_FUNCTIONS = new Set(['clone', '__clone', 'clone3', '__clone3']);

/** What a thread stopped in glibc's clone without CFI is doing: being born, or returning to the caller. */
export type CloneReturn = { kind: 'child' } | { kind: 'parent'; returnAddressAt: bigint };

/** For frame 0 at a pc without CFI inside `functionName`: the clone case, or undefined when it is not one. */
export function cloneReturn(functionName: string | undefined, rax: bigint | undefined, rsp: bigint): CloneReturn | undefined {
  if (functionName === undefined || !CLONE_FUNCTIONS.has(functionName) || rax === undefined) return undefined;
  return rax === 0n ? { kind: 'child' } : { kind: 'parent', returnAddressAt: rsp };
}
