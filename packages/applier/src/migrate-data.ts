// Data patching in the applier (Katana §3 "Patch Application", §5 step 2): every variable the PO
// transforms is moved from the target's storage into its new storage in the patch area (or, when
// only the pointers it holds change, updated where it is), and every heap object its pointers reach
// is moved to a new block of the target's own allocator, all inside the stop window that switches
// the code, so that no update can land between the read of an old value and the switch.
// prepareData runs before the stop (addresses, programs, the new objects' initial bytes from
// the relocated image); migrateData runs in the window:
//   1. read every old object first: the roots, and one snapshot of the heap when pointers are followed;
//   2. walk the graph (object-graph.ts), running each object's program into its new image;
//   3. allocate the new blocks, one remote call per type (target-calls.ts), and resolve the pointers;
//   4. write: the new storage (fresh), the roots updated in place and the new blocks (written in
//      spans read back first, so the allocator's headers between blocks are kept);
//   5. call the transformers the new source gives (KATANA_TRANSFORM) on each (new, old) pair.
// Every write into memory the process had is in the undo log, and the new blocks are freed again if
// the apply fails later. The old blocks stay allocated unless the user asks (`--free-old`): a
// pointer katana cannot see may still reach them.
// A rollback runs the same window with the reverse programs (rollback-data.ts): its "old" storage is
// the patch's, its destination the target's own storage, memory the process has ('existing': read
// in the window, every write logged) rather than fresh storage in a new patch area.
// A composed patch transforms in stages (DataTransform.stage), each of the steps above for the
// variables of one stage, in `PreparedData.stages` order: a later stage reads what an earlier one
// wrote. A block an earlier stage allocated and a later one moved again is an intermediate: nothing
// but katana ever saw it, so it is freed after the commit whatever `--free-old` says.
import type { PatchObject } from '@katana/po';
import type { ProcessMemory } from '@katana/ptrace';
import { DataTransformError } from './errors.js';
import { HeapBlocks } from './heap-blocks.js';
import { splitOldBlocks, type SplitBlocks } from './intermediate-blocks.js';
import { LEFT_ALONE_EXAMPLES, type LeftAlonePointer, ObjectGraph } from './object-graph.js';
import { symbolAddress, type RelocateInput } from './relocate.js';
import type { Allocator } from './allocator.js';
import { TargetCalls } from './target-calls.js';
import { readAddress, TransformProgram } from './transform-vm.js';
import { afterCommit, type UndoLog } from './undo.js';

/** One variable ready to be transformed in the stop window. */
export interface PreparedMigration {
  variable: string;
  file: string;
  /** Index into PatchObject.types of its (element or pointee) type. */
  type: number;
  count: number;
  /** Run-time addresses of the target's storage and of the new storage (the same when in place). */
  oldAddress: bigint;
  newAddress: bigint;
  /** Bytes of one old and one new element: the type's sizes, or 8 for a pointer. */
  oldStride: number;
  newStride: number;
  /**
   * Where the transformed objects go. 'fresh': new storage in the patch area, starting as `initial`
   * (its relocated initializer, zeros in .bss.new), never logged (unmapping the area undoes it).
   * 'existing': memory the process has (the variable itself when in place; the target's own
   * storage when a rollback moves a variable back), starting as its bytes read in the window, so a
   * member the program does not fill keeps them, and every write there is in the undo log.
   */
  destination: { kind: 'fresh'; initial: Uint8Array } | { kind: 'existing' };
  /** Its stage (DataTransform.stage; 0 in a patch that is not composed). */
  stage: number;
  /** Whether the variable is an array (messages name its elements). */
  array: boolean;
  inPlace: boolean;
  pointer: boolean;
}

/** Everything the stop window needs. */
export interface PreparedData {
  migrations: PreparedMigration[];
  /** Each type's name ('struct node'), for messages and the report. */
  names: string[];
  /** Each type's program, run on objects of it (its `newSize` is what a new heap block gets). */
  programs: TransformProgram[];
  /** Run-time address of each type's transformer, if it has one. */
  transformers: (bigint | undefined)[];
  /** Whether the window allocates or calls code in the target: pointers are followed or a transformer runs. */
  callsTarget: boolean;
  /** The stages of the migrations, in the order the window runs them (ascending for an apply, the reverse for a rollback). */
  stages: number[];
}

/** What the data patching of an apply did. */
export interface DataReport {
  /** Global objects transformed (array elements counted one by one) and pointers updated in place. */
  globals: number;
  /** Heap blocks moved to new blocks, per stage and type (stage: as in PreparedMigration). */
  moved: { type: string; stage: number; blocks: number; oldBytes: number; newBytes: number }[];
  /** How many stages ran (1 unless the patch is composed). */
  stages: number;
  /** Blocks an earlier stage allocated and a later one moved again (see above), and whether they were freed. */
  intermediate: { blocks: number; bytes: number; freed: boolean };
  /** Heap blocks updated where they are (a type whose layout stayed, holding followed pointers). */
  updatedInPlace: number;
  /** Bytes of old blocks left allocated (0 with freeOld), intermediate blocks not counted. */
  bytesLeftBehind: number;
  freedOld: boolean;
  /** NULL pointers met, and pointers left alone (their count and the first few). */
  nulls: number;
  leftAlone: { count: number; examples: LeftAlonePointer[] };
  transformerCalls: number;
}

/** Resolves every transformed variable of `input.po` against the relocated `image` of the area. */
export function prepareData(input: RelocateInput, image: Uint8Array): PreparedData {
  const po: PatchObject = input.po;
  const types = po.types ?? [];
  const programs = types.map((t) => new TransformProgram(t.rows, t.oldSize, t.newSize, t.name));
  const migrations = (po.dataTransforms ?? []).map((d): PreparedMigration => {
    const type = types[d.type];
    if (!type) throw new DataTransformError(`variable ${d.variable} of ${d.file} names transformed type ${d.type}, which the patch does not have`);
    const pointer = d.pointer === true;
    const inPlace = d.inPlace === true;
    const oldStride = pointer ? 8 : type.oldSize;
    const newStride = pointer ? 8 : type.newSize;
    const newAddress = symbolAddress(input, d.newSymbol);
    const newSize = (d.elements ?? 1) * newStride;
    let destination: PreparedMigration['destination'] = { kind: 'existing' };
    if (!inPlace) {
      const at = Number(newAddress - input.base);
      const initial = at + newSize <= image.length ? Uint8Array.from(image.subarray(at, at + newSize)) : new Uint8Array(newSize);
      destination = { kind: 'fresh', initial };
    }
    return {
      variable: d.variable, file: d.file, type: d.type, count: d.count, oldAddress: symbolAddress(input, d.oldSymbol), newAddress,
      oldStride, newStride, destination, array: d.elements !== undefined, inPlace, pointer, stage: d.stage ?? 0,
    };
  });
  const transformers = types.map((t) => (t.transformer === undefined ? undefined : symbolAddress(input, t.transformer)));
  return { migrations, names: types.map((t) => t.name), programs, transformers, callsTarget: callsTarget(po), stages: stageOrder(migrations, 'first') };
}

/** The distinct stages of `migrations`, stage 0 first (an apply) or last (a rollback, which reverses them). */
export function stageOrder(migrations: readonly PreparedMigration[], zero: 'first' | 'last'): number[] {
  const stages = [...new Set(migrations.map((m) => m.stage))].sort((x, y) => x - y);
  return zero === 'first' ? stages : stages.reverse();
}

/** Whether the patch's data transformation runs code in the target: it follows pointers or has a transformer. */
export function callsTarget(po: PatchObject): boolean {
  return (po.dataTransforms ?? []).some((d) => d.pointer) || (po.types ?? []).some((t) => t.transformer !== undefined || t.rows.some((r) => r.rule.kind === 'follow'));
}

/** What migrateData works with: the stopped target and, when prepared.callsTarget, a way to run code in it. */
export interface DataWindow {
  pid: number;
  memory: ProcessMemory;
  undo: UndoLog;
  calls?: { target: TargetCalls; malloc: bigint; free: bigint };
}

/**
 * The window of a data transformation that calls code in the target: maps the call stubs in `pid`'s
 * leader (which must be stopped, and runs the calls later), and logs their unmapping for a failure.
 */
export function openDataWindow(pid: number, memory: ProcessMemory, undo: UndoLog, allocator: Allocator, timeoutMs: number): DataWindow {
  const target = TargetCalls.open(pid, pid, memory, { timeoutMs });
  undo.recordRelease(() => target.close());
  return { pid, memory, undo, calls: { target, malloc: allocator.malloc, free: allocator.free } };
}

/** What migrateData did, and the blocks it leaves for after the commit (releaseBlocks). */
export interface Migrated {
  /** Its `intermediate` and `bytesLeftBehind` are completed by releaseBlocks. */
  report: DataReport;
  /** What each stage moved and allocated, in the order the stages ran. */
  stages: StageResult[];
  /** Blocks an earlier migrateData of the same window allocated (see migrateData). */
  earlierNew: readonly BigUint64Array[];
}

/**
 * Transforms every prepared variable and what it reaches, stage after stage. Call with all threads
 * stopped. `earlierNew`: blocks an earlier migrateData of the same window allocated (a rollback of
 * several patches), intermediate when this one moves them.
 */
export function migrateData(window: DataWindow, prepared: PreparedData, earlierNew: readonly BigUint64Array[] = []): Migrated {
  const stages = prepared.stages.map((stage) => migrateStage(window, prepared, stage));
  const reports = stages.map((r) => r.report);
  const examples = reports.flatMap((r) => r.leftAlone.examples).slice(0, LEFT_ALONE_EXAMPLES);
  const sum = (f: (r: DataReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
  const report: DataReport = {
    globals: sum((r) => r.globals),
    moved: reports.flatMap((r) => r.moved),
    stages: stages.length,
    intermediate: { blocks: 0, bytes: 0, freed: false },
    updatedInPlace: sum((r) => r.updatedInPlace),
    bytesLeftBehind: sum((r) => r.bytesLeftBehind),
    freedOld: false,
    nulls: sum((r) => r.nulls),
    leftAlone: { count: sum((r) => r.leftAlone.count), examples },
    transformerCalls: sum((r) => r.transformerCalls),
  };
  return { report, stages, earlierNew };
}

/** The new blocks `migrated` allocated, every stage's (for the `earlierNew` of the next migrateData in the same window). */
export function newBlocksOf(migrated: Migrated): BigUint64Array[] {
  return migrated.stages.flatMap((r) => r.newBlocks);
}

/**
 * Once the patch is committed, with only the leader held: tells the intermediate blocks (allocated
 * by an earlier stage, or in `earlierNew`) from the process's own old blocks, completes the report,
 * frees the intermediate ones, and the process's own when `freeOld`. Telling them apart waits until
 * here because nothing in the window needs it (88 ms for a million blocks per stage); one stage with
 * nothing before it, every patch that is not composed, has no intermediate blocks and pays nothing.
 * A failure is a warning (`oldName`: what the old blocks are, for it): the patch stays committed.
 */
export function releaseBlocks(window: DataWindow, migrated: Migrated, freeOld: boolean, warnings: string[], oldName: string): void {
  const { report, stages, earlierNew } = migrated;
  const split: SplitBlocks = stages.length === 1 && earlierNew.length === 0
    ? { original: stages[0]!.oldBlocks, originalBytes: report.bytesLeftBehind, intermediate: new BigUint64Array(), intermediateBytes: 0 }
    : splitOldBlocks(stages.map((r) => ({ blocks: r.oldBlocks, usable: r.oldUsable })), [...earlierNew, ...newBlocksOf(migrated)]);
  report.intermediate = { blocks: split.intermediate.length, bytes: split.intermediateBytes, freed: false };
  report.bytesLeftBehind = split.originalBytes;
  const calls = window.calls;
  if (!calls) return;
  afterCommit(warnings, 'the intermediate blocks could not be freed', () => {
    if (split.intermediate.length === 0) return;
    calls.target.freeEach(calls.free, split.intermediate);
    report.intermediate.freed = true;
  });
  afterCommit(warnings, `the ${oldName} could not be freed`, () => {
    if (!freeOld || split.original.length === 0) return;
    calls.target.freeEach(calls.free, split.original);
    report.freedOld = true;
    report.bytesLeftBehind = 0;
  });
}

/** What one stage did: its report, the old blocks it moved (with their usable sizes) and the blocks it allocated. */
interface StageResult {
  report: DataReport;
  oldBlocks: BigUint64Array;
  oldUsable: Uint32Array;
  /** One array per type it moved. */
  newBlocks: BigUint64Array[];
}

/** Transforms the prepared variables of `stage` and what they reach. */
function migrateStage(window: DataWindow, prepared: PreparedData, stage: number): StageResult {
  const { memory, undo } = window;
  const { names, programs } = prepared;
  const migrations = prepared.migrations.filter((m) => m.stage === stage);
  // 1. Every old object is read before anything is written, and so is every destination the process
  // already has (for the undo log, and as the start of its new image).
  const snapshots = migrations.map((m) => memory.read(m.oldAddress, m.count * m.oldStride));
  const before = migrations.map((m, i) => {
    if (m.destination.kind === 'fresh') return undefined;
    return m.inPlace ? snapshots[i]! : memory.read(m.newAddress, m.count * m.newStride);
  });
  const heap = prepared.callsTarget ? HeapBlocks.read(window.pid, memory) : undefined;

  // 2. The graph, from the roots.
  const graph = new ObjectGraph(programs, heap, names);
  for (const m of migrations) {
    if (m.pointer) continue;
    for (let e = 0; e < m.count; e++) graph.addGlobal(m.oldAddress + BigInt(e * m.oldStride), m.type, m.newAddress + BigInt(e * m.newStride));
  }
  const images = migrations.map((m, i) => {
    const image = Uint8Array.from(m.destination.kind === 'fresh' ? m.destination.initial : before[i]!);
    for (let e = 0; e < m.count; e++) {
      const what = m.array || m.count > 1 ? `${m.variable}[${e}]` : m.variable;
      if (m.pointer) graph.visitPointer(readAddress(snapshots[i]!, e * 8), m.type, image, e * 8, what);
      else graph.visitRoot(m.type, snapshots[i]!, e * m.oldStride, image, e * m.newStride, `${what} (${names[m.type]})`);
    }
    return image;
  });
  graph.drain();

  // 3. New blocks for the moved heap objects, one batch per type.
  const byType = programs.map(() => [] as number[]);
  for (let o = 0; o < graph.count; o++) if (!graph.isInPlace(o)) byType[graph.typeOf(o)]!.push(o);
  const moved: DataReport['moved'] = [];
  const oldBlocks = new BigUint64Array(byType.reduce((n, objects) => n + objects.length, 0));
  const oldUsable = new Uint32Array(oldBlocks.length);
  const newBlocks: BigUint64Array[] = [];
  const calls = window.calls;
  if (oldBlocks.length > 0 && !calls) throw new DataTransformError('the patch moves heap blocks but the applier cannot call the target\'s allocator');
  let filled = 0;
  programs.forEach((program, type) => {
    const objects = byType[type]!;
    if (objects.length === 0) return;
    const blocks = calls!.target.allocateEachArray(calls!.malloc, program.newSize, objects.length, calls!.free);
    undo.recordRelease(() => calls!.target.freeEach(calls!.free, blocks));
    newBlocks.push(blocks);
    graph.place(objects, blocks);
    let oldBytes = 0;
    for (const o of objects) {
      oldBytes += graph.usableOf(o);
      oldUsable[filled] = graph.usableOf(o);
      oldBlocks[filled++] = BigInt(graph.oldAddressOf(o));
    }
    moved.push({ type: names[type]!, stage, blocks: objects.length, oldBytes, newBytes: objects.length * program.newSize });
  });
  graph.resolvePointers();

  // 4. Writes: roots, then heap objects in spans.
  migrations.forEach((m, i) => {
    if (before[i]) undo.recordWrite(m.newAddress, before[i]!);
    memory.write(m.newAddress, images[i]!);
  });
  writeHeapObjects(memory, undo, graph, heap);

  // 5. Transformers, on every object of their type.
  let transformerCalls = 0;
  prepared.transformers.forEach((fn, type) => {
    if (fn === undefined) return;
    const pairs: [bigint, bigint][] = [];
    for (const m of migrations) {
      if (m.type !== type || m.pointer) continue;
      for (let e = 0; e < m.count; e++) pairs.push([m.newAddress + BigInt(e * m.newStride), m.oldAddress + BigInt(e * m.oldStride)]);
    }
    for (let o = 0; o < graph.count; o++) if (graph.typeOf(o) === type) pairs.push([BigInt(graph.newAddressOf(o)), BigInt(graph.oldAddressOf(o))]);
    if (pairs.length === 0) return;
    if (!calls) throw new DataTransformError(`the patch has a transformer for ${names[type]} but the applier cannot call code in the target`);
    calls.target.callEach(fn, pairs, `the transformer of ${names[type]}`);
    transformerCalls += pairs.length;
  });

  const report: DataReport = {
    globals: migrations.reduce((n, m) => n + m.count, 0),
    moved,
    stages: 1,
    intermediate: { blocks: 0, bytes: 0, freed: false },
    updatedInPlace: graph.count - oldBlocks.length,
    bytesLeftBehind: moved.reduce((n, m) => n + m.oldBytes, 0),
    freedOld: false,
    nulls: graph.nulls,
    leftAlone: { count: graph.leftAloneTotal, examples: graph.leftAlone },
    transformerCalls,
  };
  return { report, oldBlocks, oldUsable, newBlocks };
}

/** Gap up to which two written objects share one read-modify-write span. */
const SPAN_GAP = 4096;

// The new blocks of one type usually lie side by side in the heap, separated by the allocator's
// 8-byte headers: reading the span they cover, laying the images over it and writing it back costs
// two system calls instead of two per block. Objects are taken in address order (malloc mostly
// returns ascending blocks, so the sort is usually over sorted data).
function writeHeapObjects(memory: ProcessMemory, undo: UndoLog, graph: ObjectGraph, heap: HeapBlocks | undefined): void {
  const order = new Int32Array(graph.count);
  for (let o = 0; o < order.length; o++) order[o] = o;
  let ascending = true;
  for (let i = 1; i < order.length && ascending; i++) ascending = graph.newAddressOf(i) >= graph.newAddressOf(i - 1);
  if (!ascending) order.sort((a, b) => graph.newAddressOf(a) - graph.newAddressOf(b));
  let first = 0;
  while (first < order.length) {
    let last = first;
    const start = graph.newAddressOf(order[first]!);
    let end = start + graph.newSizeOf(order[first]!);
    while (last + 1 < order.length && graph.newAddressOf(order[last + 1]!) - end <= SPAN_GAP) {
      last++;
      end = Math.max(end, graph.newAddressOf(order[last]!) + graph.newSizeOf(order[last]!));
    }
    const span = memory.read(BigInt(start), end - start);
    for (let i = first; i <= last; i++) {
      const o = order[i]!;
      if (graph.isInPlace(o)) undo.recordWrite(BigInt(graph.oldAddressOf(o)), Uint8Array.from(heap!.read(graph.oldAddressOf(o), graph.newSizeOf(o))!));
      graph.copyImageInto(o, span, graph.newAddressOf(o) - start);
    }
    memory.write(BigInt(start), span);
    first = last + 1;
  }
}
