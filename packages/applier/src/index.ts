// @katana/applier: applies a Patch Object to a running x86-64 Linux process through ptrace.
export { applyPatch, type ApplyOptions, type ApplyReport } from './apply.js';
export { type DataReport } from './migrate-data.js';
export { ObjectGraph, usableSizeFor, type LeftAlonePointer } from './object-graph.js';
export { HeapBlocks, type BlockVerdict, type HeapSummary } from './heap-blocks.js';
export { TransformProgram, runTransformProgram } from './transform-vm.js';
export { checkPatch, type CheckOptions, type CheckReport } from './check.js';
export { rollbackPatches, type RollbackOptions, type RollbackReport, type RolledBackData } from './rollback.js';
export { prepareRollbackData, droppedMembers } from './rollback-data.js';
export { selectRollback, patchLabel, type RollbackRequest } from './rollback-select.js';
export { patchSymbols, definedByPatches, stackedSites, type StackedSites } from './stack.js';
export {
  ApplierError, NoSuchProcessError, PermissionError, BuildIdMismatchError, UnsafeStateError, UnresolvedSymbolError,
  PatchAreaError, RelocationError, AlreadyAppliedError, BaseMismatchError, RegistryFormatError, NothingAppliedError, LibraryNotLoadedError, DataRollbackError,
  UnknownPatchError, PatchUnderOthersError, DataTransformError,
} from './errors.js';
export {
  REGISTRY_NAME, REGISTRY_MAGIC, REGISTRY_VERSION, REGISTRY_READABLE_VERSIONS, REGISTRY_VERSION_OFFSET, REGISTRY_HEADER_SIZE, REGISTRY_COMMIT_OFFSET,
  encodeRegistryHeader, encodeRegistryCommit, encodeRegistryEntry, decodeRegistry, decodeRegistryHeader, hasRegistryMagic, type RegistryHeader,
  type RegistryEntry, type RegisteredFunction, type RegisteredSymbol, type RegisteredCfi, type RegisteredData, type RegisteredType, type RegisteredVariable, type RegisteredFunctionRange,
} from './registry-format.js';
export { readRegistry, findRegistry, readPatchCfi, appliedPatches, isRegistryMapping, type Registry, type RegistryRegion, type PatchCfi } from './registry-read.js';
export { checkBase } from './base.js';
export { findTargetModule } from './target-module.js';
export { readProcess, readMaps, readAuxv, parseMaps, Module, type MapEntry, type ProcessModel } from './process.js';
export { resolveSymbols, type ResolvedSymbol } from './symbols.js';
export { planArea, isCallTarget, PAGE_SIZE, JUMP_ENTRY_SIZE, GOT_SLOT_SIZE, type PatchPlan } from './plan.js';
export { chooseRange, freeGaps, REL32_REACH, type AreaRequest, type ReachConstraint, type AreaNeighbourhood } from './choose-range.js';
export { areaRequest, mapNear } from './map.js';
export { relocate, symbolAddress, type RelocateInput } from './relocate.js';
export { SafetyCheck, unsafeRanges, type UnsafeRange, type UnsafeThread } from './safety.js';
export { describeUnsafeFunction } from './errors.js';
export { Unwinder, MAX_FRAMES, type Backtrace, type StackFrame, type FrameSource } from './unwind/unwinder.js';
export { CodeMap, type ExtraCfi, type Code } from './unwind/code-map.js';
export { MemoryView } from './unwind/memory-view.js';
export { FunctionSymbols, type FunctionSymbol } from './unwind/symbolize.js';
export { trampolineSites, encodeJmpRel32, saveUndo, prepareTrampoline, writeBody, writeTrampoline, JMP_REL32_SIZE, type PreparedTrampoline, type TrampolineSite } from './write.js';
export { UndoLog } from './undo.js';
export { ThreadGroup, listTasks, type SignalStopHook } from './threads.js';
export { waitUntilLeft, type ResumeSite, type WaitOutcome } from './wait-for-exit.js';
export { Breakpoints, INT3 } from './breakpoints.js';
export { stepOut, MAX_STEPS } from './step-out.js';
export { restartInterruptedWait } from './restart-wait.js';
export * from './remote-syscall.js';
export {
  remoteCall, signalName, RED_ZONE, RemoteCallError, RemoteCallTimeoutError, RemoteCallCrashError, RemoteCallExitError, type RemoteCallOptions,
} from './remote-call.js';
export { ALLOCATE_EACH, FREE_EACH, CALL_EACH, assemble, stubPage, type StubInstruction, type StubPage } from './call-stubs.js';
export { TargetCalls, TargetOutOfMemoryError, BATCH_LIMIT, type ScratchMapping } from './target-calls.js';
export {
  findAllocator, ALLOCATOR_ENTRY_POINTS, AllocatorNotFoundError, type Allocator, type AllocatorRange, type ProvidedFunction,
} from './allocator.js';
export { searchOrder } from './link-map.js';

export { applyPatchToFile, type FileApplyOptions, type FileApplyReport } from './persist/apply-file.js';
export { readFileRegistry, findFileRegistry, encodeRegistryNote, NT_KATANA_REGISTRY, type FileRegistry } from './persist/file-registry.js';
export { PersistError, FileAlreadyPatchedError, FileBaseMismatchError, FileBuildIdMismatchError } from './persist/errors.js';
