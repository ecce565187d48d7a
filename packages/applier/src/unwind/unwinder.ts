// Walks the stack of a stopped thread, frame by frame, with DWARF call frame information (after
// libunwind's and gdb's dwarf2 unwinders). For each frame: find the code of its pc (code-map.ts),
// take the unwind row at that pc (for every frame but the first, at pc − 1: a return address points
// after the call, possibly past the end of a noreturn function), compute the CFA, then the caller's
// registers: rip from the return-address column, rsp = CFA, rbx/rbp/r12-r15 from their rules
// (absent = same value). Special cases:
//  - a pc at __restore_rt: the caller is the interrupted code; its registers come from the ucontext
//    (signal-frame.ts), and its pc is exact; so is the pc of a frame whose caller's FDE is an 'S' one;
//  - no CFI for a pc: the rbp chain, if sane (rbp ≥ rsp, 8-aligned, in the stack's mapping);
//  - the return-address rule is "undefined" (glibc's _start and clone3): the outermost frame;
//  - frame 0 in the CFI-less tail of glibc's clone/clone3 (clone-return.ts): a thread just born
//    (outermost) or its parent returning (the return address on top of the stack).
// A corrupt or unreadable stack never throws out of here: the backtrace comes back `unreliable`
// with the reason (depth limit, a cycle, unreadable memory, a pc in no mapping, no way to unwind).
import { evaluateExpression, type CfaRule, type CfiRow, type RegisterRule } from '@katana/dwarf';
import type { Registers } from '@katana/ptrace';
import type { Code, CodeMap } from './code-map.js';
import type { MemoryView } from './memory-view.js';
import { cloneReturn } from './clone-return.js';
import { RESTORE_RT, interruptedRegisters, isRestoreRt } from './signal-frame.js';

/** The deepest stack the unwinder walks before calling it unreliable. */
export const MAX_FRAMES = 256;

/** DWARF register numbers (x86-64 psABI). */
const RAX = 0;
const RBP = 6;
const RSP = 7;
const RIP = 16;
/** Registers a caller can rely on across a call: rbx, rbp, r12-r15 (rsp and rip are computed). */
const CALLEE_SAVED = [3, 6, 12, 13, 14, 15];

/** How a frame's registers were found. */
export type FrameSource = 'registers' | 'cfi' | 'signal' | 'frame-pointer';

/** One frame of a backtrace. */
export interface StackFrame {
  /** The frame's pc: the thread's rip for frame 0 and interrupted frames, a return address otherwise. */
  pc: bigint;
  /** The frame's rsp. */
  sp: bigint;
  /** True when pc is a return address (looked up as pc − 1). */
  isReturnAddress: boolean;
  /** The function holding the pc, when a symbol covers it. */
  function: string | undefined;
  /** Run-time address of that function's first byte. */
  functionStart: bigint | undefined;
  /** The file (or '[vdso]', or an extra CFI source's name) holding the pc. */
  module: string | undefined;
  /** How this frame's registers were recovered from its callee. */
  source: FrameSource;
}

/** A thread's stack as far as it could be walked. */
export interface Backtrace {
  tid: number;
  /** Innermost first. */
  frames: StackFrame[];
  /** Set when the walk stopped before the outermost frame: why. */
  unreliable: string | undefined;
}

type RegisterFile = (bigint | undefined)[];

/** What one unwinding step found: the caller's registers, the end of the stack, or why it is stuck. */
type Step =
  | { kind: 'caller'; registers: RegisterFile; signalFrame: boolean }
  | { kind: 'outermost' }
  | { kind: 'stuck'; reason: string };

const stuck = (reason: string): Step => ({ kind: 'stuck', reason });

/** Unwinds stopped threads of one process. */
export class Unwinder {
  constructor(private readonly code: CodeMap) {}

  /** Walks the stack of thread `tid` from its registers; never throws. */
  unwind(tid: number, registers: Registers, memory: MemoryView): Backtrace {
    const frames: StackFrame[] = [];
    try {
      const unreliable = this.#walk(toRegisterFile(registers), memory, frames);
      return { tid, frames, unreliable };
    } catch (error) {
      // A bug or a malformed table we did not foresee: the stack is not trustworthy, say why.
      return { tid, frames, unreliable: `unwinding failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  // Fills `frames`; returns undefined when the outermost frame was reached, or why the walk stopped.
  #walk(start: RegisterFile, memory: MemoryView, frames: StackFrame[]): string | undefined {
    let regs = start;
    let exact = true; // frame 0's pc and a signal-interrupted pc are not return addresses
    let source: FrameSource = 'registers';
    const seen = new Set<string>();
    for (;;) {
      const pc = regs[RIP];
      const sp = regs[RSP];
      if (pc === undefined || sp === undefined) return 'the caller\'s pc or stack pointer could not be recovered';
      if (pc === 0n && frames.length > 0) return undefined; // a zeroed return address ends some hand-written stacks
      if (frames.length >= MAX_FRAMES) return `more than ${MAX_FRAMES} frames (depth limit)`;
      const key = `${pc}/${sp}`;
      if (seen.has(key)) return `a cycle: pc 0x${hex(pc)} with rsp 0x${hex(sp)} repeats`;
      seen.add(key);
      const lookup: bigint = exact ? pc : pc - 1n;
      const code: Code | undefined = this.code.codeAt(lookup);
      // Rows are looked up at table addresses; a malformed FDE program throws DwarfFormatError,
      // which unwind() turns into an unreliable verdict.
      const found: CfiRow | undefined = code === undefined ? undefined : this.code.rowFor(code, lookup - code.bias);
      // Only a pc without CFI or with an 'S' FDE can be glibc's __restore_rt: read code bytes only then.
      const trampoline = (found === undefined || found.fde.cie.signalFrame) && isRestoreRt(memory.bytes(pc, RESTORE_RT.length));
      // A trampoline is named at its own address (__restore_rt is a zero-size symbol, and the
      // return address into it is its first byte).
      const symbol = trampoline ? (code?.symbols?.at(pc - code.bias)) : code?.symbols?.find(lookup - code.bias);
      frames.push({
        pc, sp, isReturnAddress: !exact, source,
        function: symbol?.name,
        functionStart: symbol === undefined || code === undefined ? undefined : symbol.start + code.bias,
        module: code?.name,
      });
      if (!this.code.isExecutable(lookup) && code === undefined) return `pc 0x${hex(pc)} is in no executable mapping`;

      const clone = found === undefined && frames.length === 1 ? cloneReturn(symbol?.name, regs[RAX], sp) : undefined;
      if (clone?.kind === 'child') return undefined;
      if (clone?.kind === 'parent') {
        const ra = memory.read(clone.returnAddressAt, 8);
        if (ra === undefined) return `the return address of ${symbol!.name} at 0x${hex(sp)} cannot be read`;
        const caller: RegisterFile = new Array(17).fill(undefined);
        for (const n of CALLEE_SAVED) caller[n] = regs[n];
        caller[RIP] = ra;
        caller[RSP] = sp + 8n;
        regs = caller;
        exact = false;
        source = 'registers';
        continue;
      }

      if (trampoline) {
        const interrupted = interruptedRegisters(sp, (address) => memory.read(address, 8));
        if (interrupted === undefined) return `the signal frame at 0x${hex(sp)} cannot be read`;
        regs = interrupted;
        exact = true;
        source = 'signal';
        continue;
      }

      let caller: RegisterFile;
      if (found !== undefined) {
        const step: Step = cfiStep(found, lookup, regs, memory);
        if (step.kind === 'stuck') return step.reason;
        if (step.kind === 'outermost') return undefined;
        caller = step.registers;
        exact = step.signalFrame;
        source = 'cfi';
      } else {
        const step: Step = this.#framePointerStep(regs, memory);
        if (step.kind === 'stuck') {
          const why = code === undefined ? 'in no mapped file' : code.cfi === undefined ? `in ${code.name}, whose CFI is unreadable (${code.cfiError ?? 'none'})` : `not covered by the CFI of ${code.name}`;
          return `pc 0x${hex(pc)} is ${why}, and ${step.reason}`;
        }
        if (step.kind !== 'caller') return undefined;
        caller = step.registers;
        exact = false;
        source = 'frame-pointer';
      }
      // The stack grows down: a caller's frame is above its callee's, except when a signal handler
      // ran on an alternate stack (sigaltstack), which `exact` marks.
      const callerSp = caller[RSP];
      if (callerSp !== undefined && callerSp <= sp && !exact) {
        return `the stack pointer does not grow towards the caller at pc 0x${hex(pc)} (rsp 0x${hex(sp)} → 0x${hex(callerSp)})`;
      }
      regs = caller;
    }
  }

  // One step along the rbp chain: [rbp] is the caller's rbp, [rbp+8] the return address.
  #framePointerStep(regs: RegisterFile, memory: MemoryView): Step {
    const rbp = regs[RBP];
    const sp = regs[RSP]!;
    // rbp 0 marks the outermost frame only in code that keeps frame pointers; without CFI we cannot
    // tell, so it is no proof that the stack ends here.
    if (rbp === undefined || rbp === 0n || rbp < sp || rbp % 8n !== 0n) return stuck('there is no sane frame pointer');
    const stack = this.code.mappingOf(sp);
    if (stack === undefined || rbp + 16n > stack.end) return stuck('the frame pointer leaves the stack');
    const savedRbp = memory.read(rbp, 8);
    const ra = memory.read(rbp + 8n, 8);
    if (savedRbp === undefined || ra === undefined) return stuck(`the frame at 0x${hex(rbp)} cannot be read`);
    const caller: RegisterFile = new Array(17).fill(undefined);
    for (const n of CALLEE_SAVED) caller[n] = regs[n];
    caller[RBP] = savedRbp;
    caller[RIP] = ra;
    caller[RSP] = rbp + 16n;
    return { kind: 'caller', registers: caller, signalFrame: false };
  }
}

// One step with CFI: the caller's registers, 'outermost' when the return address is undefined, or
// a reason string when the rules cannot be followed (unreadable stack).
function cfiStep(found: CfiRow, lookup: bigint, regs: RegisterFile, memory: MemoryView): Step {
  const { row, fde } = found;
  const context = {
    register: (n: number) => regs[n],
    memory: (address: bigint, size: number) => memory.read(address, size),
  };
  const cfa = computeCfa(row.cfa, regs, context);
  if (cfa === undefined) return stuck(`the CFA at pc 0x${hex(lookup)} cannot be computed (a register or stack word is unreadable)`);
  const ra = row.registers.get(fde.cie.returnAddressRegister);
  if (ra === undefined || ra.kind === 'undefined') return { kind: 'outermost' };
  const caller: RegisterFile = new Array(17).fill(undefined);
  for (const n of CALLEE_SAVED) caller[n] = regs[n];
  for (const [n, rule] of row.registers) {
    if (n > RIP) continue;
    const value = recover(rule, n, cfa, regs, context);
    if (value === 'unreadable') {
      if (n === fde.cie.returnAddressRegister || n === RSP) return stuck(`the return address at pc 0x${hex(lookup)} cannot be read`);
      caller[n] = undefined;
    } else {
      caller[n] = value;
    }
  }
  caller[RIP] = caller[fde.cie.returnAddressRegister];
  if (!row.registers.has(RSP) || row.registers.get(RSP)!.kind === 'same-value') caller[RSP] = cfa;
  return { kind: 'caller', registers: caller, signalFrame: fde.cie.signalFrame };
}

function computeCfa(rule: CfaRule, regs: RegisterFile, context: Parameters<typeof evaluateExpression>[1]): bigint | undefined {
  if (rule.kind === 'expression') return evaluateExpression(rule.expression, context);
  const base = regs[rule.register];
  return base === undefined ? undefined : BigInt.asUintN(64, base + BigInt(rule.offset));
}

// The caller's value of register `n` under `rule`; 'unreadable' when memory or a register is missing.
function recover(rule: RegisterRule, n: number, cfa: bigint, regs: RegisterFile, context: Parameters<typeof evaluateExpression>[1]): bigint | 'unreadable' | undefined {
  switch (rule.kind) {
    case 'undefined': return undefined;
    case 'same-value': return regs[n];
    case 'offset': return context.memory(cfa + BigInt(rule.offset), 8) ?? 'unreadable';
    case 'val-offset': return cfa + BigInt(rule.offset);
    case 'register': return regs[rule.register];
    case 'expression': {
      const address = evaluateExpression(rule.expression, context, [cfa]);
      return address === undefined ? 'unreadable' : (context.memory(address, 8) ?? 'unreadable');
    }
    case 'val-expression': return evaluateExpression(rule.expression, context, [cfa]) ?? 'unreadable';
  }
}

/** The thread's registers in DWARF numbering (rax 0, rdx 1, rcx 2, rbx 3, rsi 4, rdi 5, rbp 6, rsp 7, r8-r15, rip 16). */
function toRegisterFile(r: Registers): RegisterFile {
  return [r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip];
}

function hex(value: bigint): string {
  return value.toString(16);
}
