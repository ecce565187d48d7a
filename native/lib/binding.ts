// Loads the compiled addon (build/Release/katana_ptrace.node) and hands it PtraceError, so that native
// failures arrive as instances of the TypeScript class. Only this package's lib/ imports this file;
// the functions here trust their arguments: lib/*.ts validates them first.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { KatanaError } from '@katana/errors';
import { PtraceError } from './errors.js';

/** The addon's exports, as addon.cc registers them. */
export interface NativeBinding {
  init(ptraceError: typeof PtraceError): void;
  seize(tid: number, options: number): void;
  interrupt(tid: number, unused: number): void;
  detach(tid: number, signal: number): void;
  cont(tid: number, signal: number): void;
  singleStep(tid: number, signal: number): void;
  getEventMsg(tid: number): number;
  getSigInfo(tid: number): { signo: number; code: number; errno: number; address: bigint };
  tgkill(tgid: number, tid: number, signal: number): void;
  waitpid(tid: number, flags: number): { pid: number; status: number } | null;
  setFifoPriority(priority: number): void;
  getRegs(tid: number, words: BigUint64Array): void;
  setRegs(tid: number, words: BigUint64Array): void;
  getRegSet(tid: number, type: number, bytes: Uint8Array): number;
  setRegSet(tid: number, type: number, bytes: Uint8Array): void;
  memOpen(pid: number): number;
  memRead(fd: number, pid: number, address: bigint, bytes: Uint8Array): void;
  memWrite(fd: number, pid: number, address: bigint, bytes: Uint8Array): void;
  memClose(fd: number, pid: number): void;
}

// dist/lib/binding.js → <package>/build/Release/katana_ptrace.node
const addonPath = fileURLToPath(new URL('../../build/Release/katana_ptrace.node', import.meta.url));

function load(): NativeBinding {
  try {
    return createRequire(import.meta.url)(addonPath) as NativeBinding;
  } catch (cause) {
    const message = `cannot load the ptrace addon ${addonPath}; build it with "npx node-gyp rebuild" in native/`;
    throw new KatanaError('E_PTRACE_ADDON', message, { cause });
  }
}

/** The loaded addon, initialised with PtraceError. */
export const native: NativeBinding = load();
native.init(PtraceError);
