// Software breakpoints in the target: an int3 (0xcc) written over the first byte of an instruction
// through /proc/PID/mem, the original byte kept to put back. A thread that executes one stops with
// SIGTRAP (si_code SI_KERNEL) and rip one byte past the int3; owns() recognises such a stop and
// rewind() moves rip back so that the thread runs the original instruction once the byte is
// restored. removeAll() restores every byte it can and tolerates a target that has died.
import { getSigInfo, type ProcessMemory, type Registers } from '@katana/ptrace';

/** The int3 instruction. */
export const INT3 = 0xcc;
// include/uapi/asm-generic/siginfo.h: si_code of a SIGTRAP raised by the kernel for int3.
const SI_KERNEL = 0x80;

/** The breakpoints of one wait, keyed by address. */
export class Breakpoints {
  // address → the byte the int3 replaced
  readonly #original = new Map<bigint, number>();

  constructor(private readonly memory: ProcessMemory) {}

  /** Addresses that currently hold one of our int3. */
  get addresses(): bigint[] {
    return [...this.#original.keys()];
  }

  /**
   * Writes int3 at `address` (once per address). An address that already holds an int3 (the
   * program's own, or a debugger's) is left alone: its SIGTRAP is not ours to claim.
   */
  insert(address: bigint): void {
    if (this.#original.has(address)) return;
    const [byte] = this.memory.read(address, 1);
    if (byte === INT3) return;
    this.#original.set(address, byte!);
    this.memory.write(address, Uint8Array.of(INT3));
  }

  /** True when `address` holds one of our int3. */
  has(address: bigint): boolean {
    return this.#original.has(address);
  }

  /**
   * True when the SIGTRAP stop of `tid` with registers `regs` comes from one of our int3: rip is
   * just past it and the kernel raised the signal (a SIGTRAP sent with kill() is not ours).
   */
  owns(tid: number, regs: Registers): boolean {
    return this.#original.has(regs.rip - 1n) && getSigInfo(tid).code === SI_KERNEL;
  }

  /** Moves rip back onto the int3 the thread executed, so it runs the original instruction later. */
  static rewind(regs: Registers): void {
    regs.rip -= 1n;
  }

  /**
   * Puts every original byte back. Returns the first failure instead of throwing, after trying
   * every address; a dead target (ESRCH/EIO/ENOENT) is no failure, its memory is gone.
   */
  removeAll(): unknown {
    let failure: unknown;
    for (const [address, byte] of this.#original) {
      try {
        this.memory.write(address, Uint8Array.of(byte));
      } catch (error) {
        if (!isGone(error)) failure ??= error;
      }
    }
    this.#original.clear();
    return failure;
  }
}

function isGone(error: unknown): boolean {
  const code = (error as { errnoCode?: string; code?: string }).errnoCode ?? (error as { code?: string }).code;
  return code === 'ESRCH' || code === 'EIO' || code === 'ENOENT';
}
