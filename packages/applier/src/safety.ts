// The safety check of the stop window (Katana §5, the paper's first safe-state condition): no thread
// may be executing, or be about to return into, a function the patch replaces or lists as unsafe,
// or it would run a mix of old and new code. Each stopped thread's stack is walked with DWARF CFI
// (unwind/unwinder.ts): frame 0's pc in an unsafe range means the thread "is in" it; a caller
// frame's return address in one means it "will return into" it; a stack that cannot be walked to
// its outermost frame is unsafe too ("unreliable stack"), since an unsafe frame could hide below.
// An unsafe verdict names the innermost unsafe function and its callers, and gives the return
// address of the OUTERMOST unsafe frame: once the thread reaches that address it has left every
// unsafe function (the paper's breakpoint for waiting). CFI files are read and indexed in the
// constructor, before the stop; inside the window we only read registers and stack memory.
import type { PatchObject } from '@katana/po';
import type { ProcessMemory, Registers } from '@katana/ptrace';
import { UnsafeStateError } from './errors.js';
import type { ProcessModel } from './process.js';
import { CodeMap, type ExtraCfi } from './unwind/code-map.js';
import { MemoryView } from './unwind/memory-view.js';
import { Unwinder, type Backtrace, type StackFrame } from './unwind/unwinder.js';

/** A run-time address range no thread may be in or return into. */
export interface UnsafeRange {
  name: string;
  start: bigint;
  end: bigint;
  /** How the message explains it: the patch replaces it, marks it unsafe, or calls it in the stop window (the allocator). */
  why: 'replaces' | 'marks unsafe' | 'calls';
}

/** The functions the patch replaces plus those it lists as unsafe, at run-time addresses. */
export function unsafeRanges(po: PatchObject, bias: bigint): UnsafeRange[] {
  const ranges: UnsafeRange[] = [];
  for (const f of po.functions) {
    if (f.replaces === undefined) continue;
    ranges.push({ name: f.name, start: f.replaces.address + bias, end: f.replaces.address + bias + BigInt(f.replaces.size), why: 'replaces' });
  }
  for (const u of po.unsafe) {
    const start = u.address + bias;
    if (ranges.some((r) => r.start === start)) continue;
    ranges.push({ name: u.name, start, end: start + BigInt(u.size), why: u.redirectTo === undefined ? 'marks unsafe' : 'replaces' });
  }
  return ranges;
}

/** Why a thread blocks the patch, with what waiting for it needs. */
export interface UnsafeThread {
  tid: number;
  /** The innermost unsafe function; for an unreliable stack, the function of the innermost frame (or '??'). */
  function: string;
  how: 'is in' | 'will return into' | 'unreliable stack';
  /** For 'is in' and 'will return into': whether the patch replaces the function or marks it unsafe. */
  why: 'replaces' | 'marks unsafe' | 'calls' | undefined;
  /** Names of the frames that called `function`, innermost first ('??' where no symbol covers a pc). */
  callers: string[];
  /**
   * The return address of the outermost unsafe frame: a breakpoint there fires when the thread has
   * left all unsafe code. Undefined for an unreliable stack and when no frame returns from it.
   */
  resumeAt: bigint | undefined;
  /** For an unreliable stack: why the walk stopped. */
  reason: string | undefined;
}

/** The safety check of one patch: CFI loaded up front, threads checked inside the stop. */
export class SafetyCheck {
  readonly #code: CodeMap;
  readonly #unwinder: Unwinder;

  /**
   * Loads the CFI and symbols of every module of the process (and of `extraCfi`, the code of
   * patches already applied), so that check() only reads registers and stacks.
   */
  constructor(readonly ranges: UnsafeRange[], private readonly memory: ProcessMemory, model: ProcessModel, extraCfi: readonly ExtraCfi[] = []) {
    this.#code = new CodeMap(model, memory, extraCfi);
    this.#code.prepare();
    this.#unwinder = new Unwinder(this.#code);
  }

  /** The backtrace of a stopped thread and the verdict on it (undefined when it is safe). */
  inspect(tid: number, registers: Registers): { backtrace: Backtrace; unsafe: UnsafeThread | undefined } {
    const backtrace = this.#unwinder.unwind(tid, registers, new MemoryView(this.memory));
    return { backtrace, unsafe: this.#verdict(backtrace) };
  }

  /** The UnsafeStateError of a stopped thread, or undefined when it is safe. */
  check(tid: number, registers: Registers): UnsafeStateError | undefined {
    const unsafe = this.inspect(tid, registers).unsafe;
    return unsafe === undefined ? undefined : new UnsafeStateError(unsafe);
  }

  #verdict(backtrace: Backtrace): UnsafeThread | undefined {
    const { frames } = backtrace;
    const unsafeAt = frames.map((frame) => this.#rangeOf(frame));
    const innermost = unsafeAt.findIndex((r) => r !== undefined);
    const names = frames.map((f) => f.function ?? '??');
    if (backtrace.unreliable !== undefined) {
      const at = innermost >= 0 ? innermost : 0;
      return {
        tid: backtrace.tid, function: innermost >= 0 ? unsafeAt[innermost]!.name : (names[0] ?? '??'), how: 'unreliable stack',
        why: innermost >= 0 ? unsafeAt[innermost]!.why : undefined, callers: names.slice(at + 1), resumeAt: undefined, reason: backtrace.unreliable,
      };
    }
    if (innermost < 0) return undefined;
    let outermost = innermost;
    for (let i = innermost; i < frames.length; i++) if (unsafeAt[i] !== undefined) outermost = i;
    const range = unsafeAt[innermost]!;
    return {
      tid: backtrace.tid,
      function: range.name,
      how: innermost === 0 ? 'is in' : 'will return into',
      why: range.why,
      callers: names.slice(innermost + 1),
      resumeAt: frames[outermost + 1]?.pc,
      reason: undefined,
    };
  }

  // The unsafe range holding a frame's code: its pc, or pc − 1 for a return address (which may
  // point just past the end of a function whose last instruction is a call).
  #rangeOf(frame: StackFrame): UnsafeRange | undefined {
    const pc = frame.isReturnAddress ? frame.pc - 1n : frame.pc;
    return this.ranges.find((r) => pc >= r.start && pc < r.end);
  }
}
