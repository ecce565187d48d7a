// rollbackPatches: removes the newest patches from a running process, the reverse of applyPatch.
//   1. With nothing stopped: read the registry, choose the patches (rollback-select.ts: a patch that
//      transformed data goes only when its entry says how to transform it back), check that every
//      trampoline they wrote is still in place, prepare the reverse programs (rollback-data.ts),
//      read the code the safety check needs.
//   2. Seize every thread; the registry must be unchanged. When data must go back through the heap,
//      stop one thread briefly to map the code that calls the target's malloc (target-calls.ts).
//      Stop all; no thread may be in, or return into, the area of a patch being removed (its code
//      would vanish under it), nor in the allocator when it is called; otherwise get them out and
//      look again (safe-moment.ts), until the timeout.
//   3. In the stop window: transform the data of each removed patch back, newest first (its
//      storage and heap objects in the patch's layout become objects in the layout before it:
//      migrate-data.ts with the reverse programs), while its area is still mapped; write back the
//      bytes every trampoline overwrote, newest patch first and each patch's trampolines in reverse
//      order (so a function patched twice gets the older patch's jmp back, then the original
//      code), then ONE 8-byte registry write that drops the entries. Resume every thread but one,
//      which frees the old-layout blocks (--free-old) and unmaps the call stubs and the areas; detach.
// On a failure before the registry write every byte is restored, the blocks it allocated are freed,
// and the process keeps all patches.
import { ProcessMemory } from '@katana/ptrace';
import { findAllocator, type ProvidedFunction } from './allocator.js';
import { ApplierError } from './errors.js';
import { DEFAULT_TIMEOUT_MS } from './apply.js';
import { type DataReport, type DataWindow, migrateData, newBlocksOf, openDataWindow, releaseBlocks } from './migrate-data.js';
import { explainOsError, openProcessMemory } from './os-errors.js';
import { withHighPriority } from './priority.js';
import { readProcess, type ProcessModel } from './process.js';
import { type RegistryEntry } from './registry-format.js';
import { assertRegistryUnchanged, findRegistry, patchCfiOf, type PatchCfi } from './registry-read.js';
import { commitRegistry, prepareRegistryTruncate } from './registry-write.js';
import { droppedMembers, prepareRollbackData } from './rollback-data.js';
import { patchLabel, selectRollback, type RollbackRequest } from './rollback-select.js';
import { remoteMunmap } from './remote-syscall.js';
import { stopAtSafeMoment } from './safe-moment.js';
import { SafetyCheck, type UnsafeRange } from './safety.js';
import { ThreadGroup } from './threads.js';
import { afterCommit, UndoLog, undoAndDetach } from './undo.js';
import { encodeJmpRel32 } from './write.js';

/** What to roll back where. */
export interface RollbackOptions {
  pid: number;
  request: RollbackRequest;
  /** How long to keep retrying while a thread is in code being removed, in ms (default 2000). */
  timeoutMs?: number;
  /** Free the heap blocks in the removed patches' layout once their objects moved back (default: they stay allocated). */
  freeOld?: boolean;
}

/** What transforming a patch's data back did: the apply's report turned around, and what was dropped. */
export type RolledBackData = DataReport & {
  /** "member 'weight' of struct node": what the layout before the patch has no room for. */
  dropped: string[];
};

/** What a rollback did. */
export interface RollbackReport {
  pid: number;
  /** The patches removed, newest first; `data` when the patch's data was transformed back. */
  rolledBack: { id: string; name: string; functions: string[]; data?: RolledBackData }[];
  /** The patches still applied, oldest first. */
  remaining: { id: string; name: string }[];
  threads: number;
  /** Wall time of the stop that switched, from the first interrupt to the writes done. */
  stoppedMicros: number;
  attempts: number;
  /** Problems after the switch that did not undo it (an area that could not be unmapped). */
  warnings: string[];
  totalMillis: number;
}


/** Rolls back patches of `pid`; throws an ApplierError subclass, leaving every patch in place, on failure. */
export function rollbackPatches(options: RollbackOptions): RollbackReport {
  return withHighPriority(() => rollbackAtCurrentPriority(options));
}

function rollbackAtCurrentPriority(options: RollbackOptions): RollbackReport {
  const started = process.hrtime.bigint();
  const { pid } = options;
  const memory = openProcessMemory(pid);
  try {
    // Phase 1: nothing stopped.
    const model = readProcess(pid);
    const registry = findRegistry(pid, memory, model.maps);
    const entries = registry?.entries ?? [];
    const from = selectRollback(pid, entries, options.request);
    const removed = entries.slice(from).reverse(); // newest first
    assertTrampolinesInPlace(pid, memory, removed);
    const commit = prepareRegistryTruncate(memory, registry!, from);
    const data = removed.map(prepareRollbackData);
    // No thread may be inside the allocator when the stop window calls it: it would deadlock on its lock.
    const allocator = data.some((d) => d?.callsTarget) ? findAllocator(model, memory, recordedAllocator(removed)) : undefined;
    const allocatorRanges: UnsafeRange[] = (allocator?.ranges ?? []).map((r) => ({ ...r, why: 'calls' as const }));
    const safety = removalSafety(removed, allocatorRanges, memory, model, patchCfiOf(registry?.entries ?? [], memory));
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

    // Phase 2: seize; stop all until no thread is in code being removed.
    const group = ThreadGroup.seize(pid);
    const undo = new UndoLog();
    let switched = false;
    try {
      assertRegistryUnchanged(pid, memory, registry, 'the rollback');
      let window: DataWindow = { pid, memory, undo };
      if (allocator) {
        // The code that calls malloc in the stop window, mapped now in the leader, which runs the calls then.
        group.stopOne(pid);
        window = openDataWindow(pid, memory, undo, allocator, timeoutMs);
        group.resumeOne(pid);
      }
      const { attempts } = stopAtSafeMoment(group, memory, safety, timeoutMs);

      // Phase 3: the stop window. The data first, newest patch first, while every area is mapped.
      // A block one removed patch's reverse allocated and an older one's moved again is an
      // intermediate, like one of a composed patch's stages: freed whatever --free-old says.
      const allocated: BigUint64Array[] = [];
      const movedBack = data.map((prepared) => {
        if (prepared === undefined) return undefined;
        const moved = migrateData(window, prepared, allocated);
        allocated.push(...newBlocksOf(moved));
        return moved;
      });
      for (const entry of removed) {
        for (const f of [...entry.functions].reverse()) {
          undo.recordWrite(f.address, memory.read(f.address, f.original.length));
          memory.write(f.address, f.original);
        }
      }
      commitRegistry(memory, undo, commit);
      switched = true;
      // Switched: from here on nothing is undone.
      const warnings: string[] = [];
      const stopEnded = process.hrtime.bigint();
      const threads = group.threads.length;
      // What remains runs while one thread is held (the leader, when it runs the target calls): the
      // blocks in the removed layout freed, the call stubs and the areas unmapped.
      const holder = window.calls ? pid : group.threads[0]!;
      for (const tid of group.threads) if (tid !== holder) group.resumeOne(tid);
      for (const m of movedBack) if (m) releaseBlocks(window, m, options.freeOld === true, warnings, 'blocks in the removed layout');
      afterCommit(warnings, 'the code that called the allocator could not be unmapped', () => window.calls?.target.close());
      for (const entry of removed) {
        try {
          remoteMunmap(pid, holder, entry.area.start, entry.area.size);
        } catch (error) {
          warnings.push(`the area of ${patchLabel(entry)} at 0x${entry.area.start.toString(16)} could not be unmapped: ${(error as Error).message}`);
        }
      }
      group.detachAll();
      return {
        pid,
        rolledBack: removed.map((e, i) => {
          const moved = movedBack[i];
          return { id: e.id, name: e.name, functions: e.functions.map((f) => f.name), ...(moved ? { data: { ...moved.report, dropped: droppedMembers(e) } } : {}) };
        }),
        remaining: entries.slice(0, from).map((e) => ({ id: e.id, name: e.name })),
        threads,
        stoppedMicros: Number((stopEnded - group.lastStopStarted) / 1000n),
        attempts,
        warnings,
        totalMillis: Number((process.hrtime.bigint() - started) / 1_000_000n),
      };
    } catch (error) {
      // Once the registry says the patches are gone, the code must match it: nothing is restored.
      undoAndDetach(group, memory, switched ? new UndoLog() : undo);
      throw error;
    }
  } catch (error) {
    throw explainOsError(pid, error);
  } finally {
    memory.close();
  }
}

/**
 * The safety check of a rollback: no thread in, or returning into, the area of a removed patch, nor
 * in the allocator (`allocatorRanges`) when the stop window calls it.
 * (One place to adapt when the safety check's API changes.)
 */
function removalSafety(
  removed: readonly RegistryEntry[], allocatorRanges: readonly UnsafeRange[], memory: ProcessMemory, model: ProcessModel, patchCfi: readonly PatchCfi[],
): SafetyCheck {
  const ranges: UnsafeRange[] = removed.map((e) => ({ name: `the code of ${patchLabel(e)}`, start: e.area.start, end: e.area.start + BigInt(e.area.size), why: 'replaces' as const }));
  return new SafetyCheck([...ranges, ...allocatorRanges], memory, model, patchCfi);
}

/**
 * malloc and free as the newest removed patch that called them recorded them (run-time address and
 * size): the ones its apply called, found again even in a stripped static executable.
 */
function recordedAllocator(removed: readonly RegistryEntry[]): ProvidedFunction[] {
  const recorded = removed.find((e) => e.data?.allocator !== undefined)?.data?.allocator;
  if (recorded === undefined) return [];
  return [{ name: 'malloc', ...recorded.malloc }, { name: 'free', ...recorded.free }];
}

/**
 * Each site holds the jmp its newest removed patch wrote; anything else means the code was changed
 * behind the registry's back, and writing old bytes there could break it.
 */
function assertTrampolinesInPlace(pid: number, memory: ProcessMemory, removed: readonly RegistryEntry[]): void {
  const seen = new Set<bigint>();
  for (const entry of removed) {
    for (const f of entry.functions) {
      if (seen.has(f.address)) continue; // a newer removed patch overwrote this one's jmp
      seen.add(f.address);
      const expected = encodeJmpRel32(f.address, f.to);
      const actual = memory.read(f.address, expected.length);
      if (!expected.every((b, i) => b === actual[i])) {
        throw new ApplierError(
          `the code at 0x${f.address.toString(16)} (${f.name}) of pid ${pid} is not the jump ${patchLabel(entry)} wrote; refusing to roll back over it`,
          undefined,
          'E_CODE_CHANGED',
        );
      }
    }
  }
}
