// Writes into the target. writeBody copies the relocated patch area into its fresh pages (nothing
// executes them yet, so this runs with the target going). writeTrampoline redirects an old function:
// a 5-byte `jmp rel32` (e9 + target − (site + 5)) at its entry, which is why the area must lie within
// ±2 GiB of every site. saveUndo records the old bytes first, so the undo log can put them back. All
// writes go through /proc/PID/mem, which writes through the read-only protection of text pages.
import type { PatchObject } from '@katana/po';
import type { ProcessMemory } from '@katana/ptrace';
import { ApplierError } from './errors.js';
import type { UndoLog } from './undo.js';

/** Bytes of `jmp rel32`. */
export const JMP_REL32_SIZE = 5;

/** An old function entry to redirect to a PO symbol. */
export interface TrampolineSite {
  name: string;
  /** Run-time address of the old function's entry. */
  site: bigint;
  /** Index into po.symbols of the function to jump to. */
  symbol: number;
}

/** The entries the patch redirects (replaced functions, unsafe entries with redirectTo), at run-time addresses. */
export function trampolineSites(po: PatchObject, bias: bigint): TrampolineSite[] {
  const sites: TrampolineSite[] = [];
  const add = (name: string, address: bigint, size: number, symbol: number): void => {
    if (sites.some((s) => s.site === address + bias)) return;
    if (size < JMP_REL32_SIZE) {
      throw new ApplierError(`function ${name} is ${size} bytes long, too short for a ${JMP_REL32_SIZE}-byte trampoline`);
    }
    sites.push({ name, site: address + bias, symbol });
  };
  for (const f of po.functions) if (f.replaces !== undefined) add(f.name, f.replaces.address, f.replaces.size, f.symbol);
  for (const u of po.unsafe) if (u.redirectTo !== undefined) add(u.name, u.address, u.size, u.redirectTo);
  return sites;
}

/** The bytes of `jmp target` placed at `site`. */
export function encodeJmpRel32(site: bigint, target: bigint): Uint8Array {
  const rel = target - (site + BigInt(JMP_REL32_SIZE));
  if (rel < -(1n << 31n) || rel >= 1n << 31n) {
    throw new ApplierError(`a jmp at 0x${site.toString(16)} cannot reach 0x${target.toString(16)} with a rel32`);
  }
  const bytes = new Uint8Array(JMP_REL32_SIZE);
  bytes[0] = 0xe9;
  new DataView(bytes.buffer).setInt32(1, Number(rel), true);
  return bytes;
}

/** Records the `length` bytes at `address` in the undo log before they are overwritten. */
export function saveUndo(memory: ProcessMemory, undo: UndoLog, address: bigint, length: number): void {
  undo.recordWrite(address, memory.read(address, length));
}

/** Copies the relocated image into the freshly mapped area at `base`. */
export function writeBody(memory: ProcessMemory, base: bigint, image: Uint8Array): void {
  memory.write(base, image);
}

/** A trampoline ready to be written: its bytes and the bytes it overwrites, both known before the stop. */
export interface PreparedTrampoline {
  site: bigint;
  bytes: Uint8Array;
  old: Uint8Array;
}

/** Encodes `jmp target` for `site` and reads the bytes it will replace, outside the stop window. */
export function prepareTrampoline(memory: ProcessMemory, site: bigint, target: bigint): PreparedTrampoline {
  const bytes = encodeJmpRel32(site, target);
  return { site, bytes, old: memory.read(site, bytes.length) };
}

/** Writes a prepared trampoline, recording the old bytes in the undo log first. */
export function writeTrampoline(memory: ProcessMemory, undo: UndoLog, trampoline: PreparedTrampoline): void {
  undo.recordWrite(trampoline.site, trampoline.old);
  memory.write(trampoline.site, trampoline.bytes);
}
