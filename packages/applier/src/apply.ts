// applyPatch: the orchestration, arranged to keep the target's stop window as short as possible.
//   1. With nothing stopped: read the process model, find the module with the PO's build-id (the
//      executable or a shared library), read the patch registry and check the base (not already
//      applied, the patches the PO expects), resolve symbols, plan the area, load the CFI of
//      every module (and of the patches already applied) for the unwinder.
//   2. Seize every thread (PTRACE_SEIZE stops nothing); stop ONE thread just long enough to mmap the
//      area near that module and mprotect its code pages (and map a registry region if needed);
//      resume it.
//   3. With the target running: relocate and write the area (nothing executes those pages yet), and
//      write the registry entry past the committed ones.
//   4. Stop all threads, check that none is in or returning into a replaced function, nor in the
//      allocator when the patch calls it (while one is, get it out: safe-moment.ts), transform the
//      data (migrate-data.ts: globals, and the heap blocks their pointers reach, moved to blocks the
//      target's malloc gives; a composed patch in stages), write the trampolines and the registry's
//      8-byte commit word; then, with only the leader still held, free the intermediate blocks of a
//      staged transformation, the old blocks if asked, and unmap the call stubs
//      (a failure there is a warning: the patch is committed); detach. Only the last stop counts as
//      `stoppedMicros`.
//   5. On any error: roll back every write and mapping (undo.ts), detach, rethrow a typed error.
// The target is never left half-patched, and keeps running in every case.
import { patchObjectId, writePatchObject, type PatchObject } from '@katana/po';
import { areaRequest, mapNear } from './map.js';
import { type DataReport, type DataWindow, migrateData, openDataWindow, prepareData, releaseBlocks } from './migrate-data.js';
import { explainOsError, openProcessMemory } from './os-errors.js';
import { planArea } from './plan.js';
import { preparePatch } from './prepare.js';
import { withHighPriority } from './priority.js';
import { readProcess } from './process.js';
import { registeredData, registryEntry } from './registry-entry.js';
import { encodeRegistryEntry } from './registry-format.js';
import { assertRegistryUnchanged } from './registry-read.js';
import { commitRegistry, createRegistryRegion, placeRegistryEntry, writeRegistryEntry } from './registry-write.js';
import { relocate, symbolAddress } from './relocate.js';
import { remoteMunmap } from './remote-syscall.js';
import { stopAtSafeMoment } from './safe-moment.js';
import { ThreadGroup } from './threads.js';
import { afterCommit, UndoLog, undoAndDetach } from './undo.js';
import { prepareTrampoline, writeBody, writeTrampoline } from './write.js';

/** What to apply where. */
export interface ApplyOptions {
  pid: number;
  po: PatchObject;
  /** How messages and the registry name the patch (e.g. the .po file name); "the patch" when absent. */
  poName?: string;
  /** The patch's id, patchObjectId of its PO file's bytes; default: the id of writePatchObject(po). */
  id?: string;
  /** How long to keep retrying while a thread is in unsafe code, in ms (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Free the old heap blocks of moved objects (default: they stay allocated, see migrate-data.ts). */
  freeOld?: boolean;
}

/** Default bound on waiting for a safe moment. */
export const DEFAULT_TIMEOUT_MS = 2000;

/** What an apply did. */
export interface ApplyReport {
  pid: number;
  /** The patch's id, as the registry records it. */
  id: string;
  /** Each patched function: its old entry and its new code. */
  functions: { name: string; from: bigint; to: bigint }[];
  /**
   * Each variable moved to new storage in the stop (data patching): its source name, file and struct
   * type, the objects transformed, its old and new run-time address, the bytes read and written,
   * and its stage (0 unless the patch is composed).
   */
  moved: { variable: string; file: string; type: string; count: number; from: bigint; to: bigint; oldSize: number; newSize: number; inPlace: boolean; stage: number }[];
  /** Where the patch was mapped. */
  area: { start: bigint; size: number };
  /** Threads of the target at the moment of the switch. */
  threads: number;
  /** Wall time from the first interrupt to the last thread resumed, in the stop that switched. */
  stoppedMicros: number;
  /** How many times the safety of every thread was checked (1 when it was safe at once). */
  attempts: number;
  /** Wall time from the first stop to the moment every thread was found safe. */
  safeAfterMicros: number;
  totalMillis: number;
  /** What data patching did, when the patch transforms data. */
  data?: DataReport;
  /** Clean-ups after the commit that failed without undoing the patch (old blocks not freed, stubs left mapped). */
  warnings: string[];
}

/** Applies `po` to the running process `pid`; throws an ApplierError subclass, leaving the target unchanged, on failure. */
export function applyPatch(options: ApplyOptions): ApplyReport {
  return withHighPriority(() => applyAtCurrentPriority(options));
}

function applyAtCurrentPriority(options: ApplyOptions): ApplyReport {
  const started = process.hrtime.bigint();
  const { pid, po } = options;
  const poName = options.poName ?? 'the patch';

  // Phase 1: nothing stopped.
  const model = readProcess(pid);
  const id = options.id ?? patchObjectId(writePatchObject(po));
  const memory = openProcessMemory(pid);
  try {
    const { target, registry, inherited, resolved, sites, safety, allocator } = preparePatch(model, memory, po, poName, id);
    const inheritedBytes = inherited.map(encodeRegistryEntry);
    const plan = planArea(po, resolved);
    // The entry's size depends only on names and counts: known now, so phase 2 can map a region for it.
    const draft = registryEntry(id, poName, 0n, plan, po, sites.map((s) => ({ name: s.name, address: s.site, to: 0n, original: new Uint8Array(5) })), registeredData(po));
    const placement = placeRegistryEntry(registry, encodeRegistryEntry(draft).length + inheritedBytes.reduce((n, e) => n + e.length, 0));
    const request = areaRequest(po, plan, resolved, sites);

    // Phase 2: seize, and map the area in one briefly stopped thread.
    const group = ThreadGroup.seize(pid);
    const undo = new UndoLog();
    try {
      assertRegistryUnchanged(pid, memory, registry, poName);
      group.stopOne(pid);
      const base = mapNear(model, target, pid, plan, request);
      undo.recordMapping(base, plan.size);
      let fresh: bigint | undefined;
      if (placement.kind === 'create') {
        fresh = createRegistryRegion(pid, pid, memory, base, placement.size);
        undo.recordMapping(fresh, placement.size);
      }
      // Regions the registry outgrew are never read again (a higher generation is current).
      for (const stale of registry?.stale ?? []) remoteMunmap(pid, pid, stale.start, stale.size);
      // V8 compiles a function on its first call; running the window's safety check once here, on
      // the thread we hold anyway, keeps that compilation out of the stop window. Its verdict is
      // ignored: only the check inside the window counts.
      safety.check(pid, group.regs(pid));
      // The code that calls malloc and the transformers in the stop window, mapped now (in the leader,
      // which runs those calls then).
      const window: DataWindow = allocator ? openDataWindow(pid, memory, undo, allocator, options.timeoutMs ?? DEFAULT_TIMEOUT_MS) : { pid, memory, undo };
      group.resumeOne(pid);

      // Phase 3: target running; fill the fresh pages and prepare the trampolines.
      const input = { po, plan, base, resolved };
      const image = relocate(input);
      writeBody(memory, base, image);
      const data = prepareData(input, image);
      const functions = sites.map((s) => ({ name: s.name, from: s.site, to: symbolAddress(input, s.symbol) }));
      const trampolines = functions.map((f) => prepareTrampoline(memory, f.from, f.to));
      // The entry keeps what a rollback needs to transform the data back, without the PO.
      const entry = registryEntry(
        id, poName, base, plan, po, functions.map((f, i) => ({ name: f.name, address: f.from, to: f.to, original: trampolines[i]!.old })),
        registeredData(po, data.migrations, allocator),
      );
      const commit = writeRegistryEntry(pid, memory, undo, registry, placement, fresh, encodeRegistryEntry(entry), inheritedBytes);

      // Phase 4: the stop window, once every thread is stopped out of unsafe code (safe-moment.ts).
      const { attempts, safeAfterMicros } = stopAtSafeMoment(group, memory, safety, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      // Data patching: the old values are read now, with every thread stopped, and land in the new
      // storage before any code that uses it can run (migrate-data.ts).
      const migrated = data.migrations.length > 0 ? migrateData(window, data) : undefined;
      for (const t of trampolines) writeTrampoline(memory, undo, t);
      commitRegistry(memory, undo, commit);
      // Committed: nothing is undone past this point. The target calls that remain (the old blocks
      // freed, the call stubs unmapped) run in the leader while the other threads go on.
      const threads = group.threads.length;
      const warnings: string[] = [];
      if (window.calls) {
        for (const tid of group.threads) if (tid !== pid) group.resumeOne(tid);
        if (migrated) releaseBlocks(window, migrated, options.freeOld === true, warnings, 'old blocks');
        afterCommit(warnings, 'the code that called the allocator could not be unmapped', () => window.calls!.target.close());
      }
      group.detachAll();
      const stopEnded = process.hrtime.bigint();

      return {
        pid,
        id,
        functions,
        moved: data.migrations.map((m) => ({
          variable: m.variable, file: m.file, type: data.names[m.type]!, count: m.count, from: m.oldAddress, to: m.newAddress,
          oldSize: m.count * m.oldStride, newSize: m.destination.kind === 'fresh' ? m.destination.initial.length : m.count * m.newStride, inPlace: m.inPlace,
          stage: m.stage,
        })),
        area: { start: base, size: plan.size },
        threads,
        stoppedMicros: Number((stopEnded - group.lastStopStarted) / 1000n),
        attempts,
        safeAfterMicros,
        totalMillis: Number((process.hrtime.bigint() - started) / 1_000_000n),
        ...(migrated ? { data: migrated.report } : {}),
        warnings,
      };
    } catch (error) {
      undoAndDetach(group, memory, undo);
      throw error;
    }
  } catch (error) {
    throw explainOsError(pid, error);
  } finally {
    memory.close();
  }
}

