// The undo log of one apply: the old bytes of every write into memory the process already had,
// every mapping we created, and what must be given back to the target's own allocator (the new
// heap blocks of a data patch). A target is never left half-patched: on any failure after the first
// change, rollback() runs the releases (newest first, while the scratch code they call is still
// mapped), restores the bytes in reverse order (so overlapping writes unwind correctly) and then
// unmaps the patch area. Writes into the fresh patch area are not logged; unmapping drops them.
import type { ProcessMemory } from '@katana/ptrace';
import { remoteMunmap } from './remote-syscall.js';
import type { ThreadGroup } from './threads.js';

/** Everything an apply changed in the target, in order. */
export class UndoLog {
  readonly #writes: { address: bigint; old: Uint8Array }[] = [];
  readonly #mappings: { start: bigint; size: number }[] = [];
  readonly #releases: (() => void)[] = [];

  /** Remembers that `old` were the bytes at `address` before we overwrote them. */
  recordWrite(address: bigint, old: Uint8Array): void {
    this.#writes.push({ address, old });
  }

  /** Remembers a mapping we created in the target. */
  recordMapping(start: bigint, size: number): void {
    this.#mappings.push({ start, size });
  }

  /** Remembers something to give back to the target (it runs code in a stopped thread). */
  recordRelease(release: () => void): void {
    this.#releases.push(release);
  }

  /** True when nothing was changed yet. */
  get empty(): boolean {
    return this.#writes.length === 0 && this.#mappings.length === 0 && this.#releases.length === 0;
  }

  /** Whether rollback() will need a stopped thread (to run munmap in the target). */
  get hasMappings(): boolean {
    return this.#mappings.length > 0;
  }

  /**
   * Restores every byte in reverse order, then unmaps every mapping through `unmap` (which runs
   * munmap in a stopped thread of the target). Keeps going past failures and rethrows the first.
   */
  rollback(memory: ProcessMemory, unmap: (start: bigint, size: number) => void): void {
    let first: unknown;
    for (const release of [...this.#releases].reverse()) {
      try {
        release();
      } catch (error) {
        first ??= error;
      }
    }
    for (const w of [...this.#writes].reverse()) {
      try {
        memory.write(w.address, w.old);
      } catch (error) {
        first ??= error;
      }
    }
    for (const m of [...this.#mappings].reverse()) {
      try {
        unmap(m.start, m.size);
      } catch (error) {
        first ??= error;
      }
    }
    this.#releases.length = 0;
    this.#writes.length = 0;
    this.#mappings.length = 0;
    if (first !== undefined) throw first;
  }
}

/**
 * After a failure: undoes every change `undo` logged (all threads stopped first; munmap runs in one
 * of them), then lets every thread go. Best effort: the original error matters more.
 */
export function undoAndDetach(group: ThreadGroup, memory: ProcessMemory, undo: UndoLog): void {
  try {
    if (!undo.empty) {
      group.stopAll();
      const tid = group.threads[0]!;
      undo.rollback(memory, (start, size) => remoteMunmap(group.pid, tid, start, size));
    }
  } catch {
    // The process may have died; nothing more can be restored.
  } finally {
    try {
      group.detachAll();
    } catch {
      // Already detached or gone.
    }
  }
}

/**
 * Runs `step`, a clean-up after the switch was committed (nothing is undone any more); a failure
 * becomes a warning saying `what` did not happen.
 */
export function afterCommit(warnings: string[], what: string, step: () => void): void {
  try {
    step();
  } catch (error) {
    warnings.push(`${what}: ${(error as Error).message}`);
  }
}
