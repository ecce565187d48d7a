// @katana/applier: applies a Patch Object to a running x86-64 Linux process through ptrace.
export { applyPatch, type ApplyOptions, type ApplyReport } from './apply.js';
export {
  ApplierError, NoSuchProcessError, PermissionError, BuildIdMismatchError, UnsafeStateError, UnresolvedSymbolError,
  PatchAreaError, RelocationError,
} from './errors.js';
export { readProcess, readMaps, readAuxv, parseMaps, Module, type MapEntry, type ProcessModel } from './process.js';
export { resolveSymbols, type ResolvedSymbol } from './symbols.js';
export { planArea, isCallTarget, PAGE_SIZE, JUMP_ENTRY_SIZE, GOT_SLOT_SIZE, type PatchPlan } from './plan.js';
export { chooseRange, freeGaps, REL32_REACH, type AreaRequest, type ReachConstraint, type AreaNeighbourhood } from './choose-range.js';
export { areaRequest, mapNear } from './map.js';
export { relocate, symbolAddress, type RelocateInput } from './relocate.js';
export { SafetyCheck, unsafeRanges, followsCall, STACK_SCAN_LIMIT, type UnsafeRange, type ThreadState } from './safety.js';
export { trampolineSites, encodeJmpRel32, saveUndo, prepareTrampoline, writeBody, writeTrampoline, JMP_REL32_SIZE, type PreparedTrampoline, type TrampolineSite } from './write.js';
export { UndoLog } from './undo.js';
export { ThreadGroup, listTasks, type SignalStopHook } from './threads.js';
export { waitUntilLeft, type ResumeSite, type WaitOutcome } from './wait-for-exit.js';
export { Breakpoints, INT3 } from './breakpoints.js';
export { stepOut, MAX_STEPS } from './step-out.js';
export { restartInterruptedWait } from './restart-wait.js';
export * from './remote-syscall.js';
