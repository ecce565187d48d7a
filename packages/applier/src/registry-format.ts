// The bytes of the in-target patch registry (docs/registry-format.md is the prose version): a
// 64-byte header, then one variable-size entry per applied patch, oldest first. Little-endian.
// Only the first `count` entries, ending at byte `used`, are valid: an applier writes a new entry
// past `used` while the target runs, then commits it with ONE 8-byte write of (count, used) at
// REGISTRY_COMMIT_OFFSET inside the stop window. Sizes are explicit everywhere (entry size, function
// and symbol record sizes), so a later version can append fields that this reader skips. Version 2
// added each patch's symbol table (what it defines, at run-time addresses): later patches resolve
// their references to the newest definition through it (Katana §5).
import { RegistryFormatError } from './errors.js';

/** The name given to memfd_create: /proc/PID/maps shows `/memfd:katana-registry (deleted)`. */
export const REGISTRY_NAME = 'katana-registry';
/** First 8 bytes of a registry. */
export const REGISTRY_MAGIC = 'KATANARG';
/** The registry format this code writes and reads. */
export const REGISTRY_VERSION = 2;
export const REGISTRY_HEADER_SIZE = 64;
/** Offset of the commit word: u32 count, then u32 used. */
export const REGISTRY_COMMIT_OFFSET = 24;
const ENTRY_FIXED_SIZE = 104;
const FUNCTION_FIXED_SIZE = 24;
const SYMBOL_FIXED_SIZE = 24;
const ID_SIZE = 32;

/** The header of a registry region. */
export interface RegistryHeader {
  version: number;
  /** Bumped each time the registry moves to a bigger region; the highest valid one is current. */
  generation: number;
  /** Bytes of the region (its mapping). */
  regionSize: number;
  /** Committed entries. */
  count: number;
  /** End of the last committed entry, from the start of the region. */
  used: number;
  /** The pid that created the region (a fork()ed child inherits its parent's). */
  creatorPid: number;
}

/** A function a patch redirected, and what its entry held before. */
export interface RegisteredFunction {
  name: string;
  /** Run-time address of the old entry, where the trampoline is. */
  address: bigint;
  /** Where the trampoline jumps: the new code. */
  to: bigint;
  /** The bytes the trampoline overwrote (what a rollback writes back). */
  original: Uint8Array;
}

/** A function or variable a patch defines, where it is in the process. */
export interface RegisteredSymbol {
  name: string;
  /** Source file (relative to the project root) of a local symbol; absent for globals. */
  file?: string;
  kind: 'func' | 'object';
  bind: 'local' | 'global' | 'weak';
  /** Run-time address of its definition in the patch area. */
  address: bigint;
  size: number;
}

/** Where a patch's CFI lives in the target and the code it describes. */
export interface RegisteredCfi {
  /** The code range the FDEs cover: the patch's .text.new at run time. */
  start: bigint;
  end: bigint;
  /** Run-time address and size of the relocated .eh_frame copy. */
  ehFrameAddress: bigint;
  ehFrameSize: number;
}

/** One applied patch. */
export interface RegistryEntry {
  /** patchObjectId of the PO file: 64 hex digits. */
  id: string;
  /** The PO's file name when it was applied. */
  name: string;
  /** When the patch switched, in ms since the epoch. */
  appliedAt: number;
  /** The patch area, which the patch owns. */
  area: { start: bigint; size: number };
  /** Absent when the patch brought no CFI. */
  cfi?: RegisteredCfi;
  functions: RegisteredFunction[];
  /** The functions and variables the patch defines (its .text.new, .data.new, .bss.new, .rodata.new). */
  symbols: RegisteredSymbol[];
  /**
   * How many variables the patch moved to a new layout (data patching). Rollback refuses such a
   * patch: the old code would run on the old storage, which stopped receiving updates at the switch.
   */
  movedVariables: number;
}

const SYMBOL_KINDS = ['func', 'object'] as const;
const SYMBOL_BINDS = ['local', 'global', 'weak'] as const;

const pad8 = (n: number): number => (n + 7) & ~7;

/** Encodes a header. */
export function encodeRegistryHeader(h: Omit<RegistryHeader, 'version'>): Uint8Array {
  const out = new Uint8Array(REGISTRY_HEADER_SIZE);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(REGISTRY_MAGIC), 0);
  view.setUint16(8, REGISTRY_VERSION, true);
  view.setUint16(10, REGISTRY_HEADER_SIZE, true);
  view.setUint32(12, h.generation, true);
  view.setBigUint64(16, BigInt(h.regionSize), true);
  out.set(encodeRegistryCommit(h.count, h.used), REGISTRY_COMMIT_OFFSET);
  view.setUint32(32, h.creatorPid, true);
  return out;
}

/** The commit word: what the stop window writes at REGISTRY_COMMIT_OFFSET. */
export function encodeRegistryCommit(count: number, used: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  view.setUint32(4, used, true);
  return out;
}

/** Encodes one entry (a multiple of 8 bytes). */
export function encodeRegistryEntry(e: RegistryEntry): Uint8Array {
  const utf8 = new TextEncoder();
  const name = utf8.encode(e.name);
  const functions = e.functions.map((f) => ({ f, name: utf8.encode(f.name) }));
  if (name.length > 0xffff || functions.length > 0xffff) throw new RangeError(`registry entry ${e.name} is too large`);
  if (!/^[0-9a-f]{64}$/.test(e.id)) throw new RangeError(`patch id '${e.id}' is not 64 lowercase hex digits`);
  const recordSizes = functions.map(({ f, name: n }) => {
    if (f.original.length > 0xff || n.length > 0xffff) throw new RangeError(`function ${f.name} does not fit a registry record`);
    return pad8(FUNCTION_FIXED_SIZE + f.original.length + n.length);
  });
  const symbols = e.symbols.map((sym) => ({ sym, name: utf8.encode(sym.name), file: utf8.encode(sym.file ?? '') }));
  if (symbols.length > 0xffffffff) throw new RangeError(`registry entry ${e.name} has too many symbols`);
  const symbolSizes = symbols.map(({ sym, name: n, file }) => {
    if (n.length > 0xffff || file.length > 0xffff) throw new RangeError(`symbol ${sym.name} does not fit a registry record`);
    return pad8(SYMBOL_FIXED_SIZE + n.length + file.length);
  });
  const sum = (sizes: number[]): number => sizes.reduce((a, b) => a + b, 0);
  const size = pad8(ENTRY_FIXED_SIZE + name.length) + sum(recordSizes) + sum(symbolSizes);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, size, true);
  view.setUint16(4, name.length, true);
  view.setUint16(6, functions.length, true);
  out.set(Buffer.from(e.id, 'hex'), 8);
  view.setBigUint64(40, BigInt(e.appliedAt), true);
  view.setBigUint64(48, e.area.start, true);
  view.setBigUint64(56, BigInt(e.area.size), true);
  view.setBigUint64(64, e.cfi?.start ?? 0n, true);
  view.setBigUint64(72, e.cfi?.end ?? 0n, true);
  view.setBigUint64(80, e.cfi?.ehFrameAddress ?? 0n, true);
  view.setBigUint64(88, BigInt(e.cfi?.ehFrameSize ?? 0), true);
  view.setUint32(96, symbols.length, true);
  view.setUint32(100, e.movedVariables, true);
  out.set(name, ENTRY_FIXED_SIZE);
  let at = pad8(ENTRY_FIXED_SIZE + name.length);
  functions.forEach(({ f, name: n }, i) => {
    view.setBigUint64(at, f.address, true);
    view.setBigUint64(at + 8, f.to, true);
    view.setUint32(at + 16, recordSizes[i]!, true);
    view.setUint16(at + 20, n.length, true);
    view.setUint8(at + 22, f.original.length);
    out.set(f.original, at + FUNCTION_FIXED_SIZE);
    out.set(n, at + FUNCTION_FIXED_SIZE + f.original.length);
    at += recordSizes[i]!;
  });
  symbols.forEach(({ sym, name: n, file }, i) => {
    view.setBigUint64(at, sym.address, true);
    view.setUint32(at + 8, sym.size, true);
    view.setUint32(at + 12, symbolSizes[i]!, true);
    view.setUint16(at + 16, n.length, true);
    view.setUint16(at + 18, file.length, true);
    view.setUint8(at + 20, SYMBOL_KINDS.indexOf(sym.kind));
    view.setUint8(at + 21, SYMBOL_BINDS.indexOf(sym.bind));
    out.set(n, at + SYMBOL_FIXED_SIZE);
    out.set(file, at + SYMBOL_FIXED_SIZE + n.length);
    at += symbolSizes[i]!;
  });
  return out;
}

/** True when `bytes` start with the registry magic (a region that is a registry at all). */
export function hasRegistryMagic(bytes: Uint8Array): boolean {
  return bytes.length >= REGISTRY_MAGIC.length && new TextDecoder().decode(bytes.subarray(0, REGISTRY_MAGIC.length)) === REGISTRY_MAGIC;
}

/** Decodes and checks a header; `where` names the registry in errors ("pid 4242"). */
export function decodeRegistryHeader(bytes: Uint8Array, where: string): RegistryHeader {
  const fail = (detail: string): never => {
    throw new RegistryFormatError(where, detail);
  };
  if (bytes.length < REGISTRY_HEADER_SIZE) fail(`its header is ${bytes.length} bytes long, not ${REGISTRY_HEADER_SIZE}`);
  if (!hasRegistryMagic(bytes)) fail(`it does not start with ${REGISTRY_MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint16(8, true);
  if (version !== REGISTRY_VERSION) fail(`format version ${version} is not supported (this katana reads ${REGISTRY_VERSION})`);
  const headerSize = view.getUint16(10, true);
  if (headerSize < REGISTRY_HEADER_SIZE) fail(`its header size ${headerSize} is below ${REGISTRY_HEADER_SIZE}`);
  const header = {
    version,
    generation: view.getUint32(12, true),
    regionSize: Number(view.getBigUint64(16, true)),
    count: view.getUint32(REGISTRY_COMMIT_OFFSET, true),
    used: view.getUint32(REGISTRY_COMMIT_OFFSET + 4, true),
    creatorPid: view.getUint32(32, true),
  };
  if (header.used < headerSize || header.used > header.regionSize) fail(`its used size ${header.used} lies outside the region (${header.regionSize} bytes)`);
  return header;
}

/** Decodes a whole registry: `bytes` holds at least its first `used` bytes. */
export function decodeRegistry(bytes: Uint8Array, where: string): { header: RegistryHeader; entries: RegistryEntry[] } {
  const header = decodeRegistryHeader(bytes, where);
  const fail = (at: number, detail: string): never => {
    throw new RegistryFormatError(where, `entry at offset 0x${at.toString(16)}: ${detail}`);
  };
  if (bytes.length < header.used) throw new RegistryFormatError(where, `only ${bytes.length} of its ${header.used} bytes are readable`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, header.used);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const text = (at: number, length: number): string => {
    try {
      return utf8.decode(bytes.subarray(at, at + length));
    } catch {
      return fail(at, 'a name is not UTF-8');
    }
  };
  const entries: RegistryEntry[] = [];
  let at = new DataView(bytes.buffer, bytes.byteOffset).getUint16(10, true);
  for (let n = 0; n < header.count; n++) {
    if (at + ENTRY_FIXED_SIZE > header.used) fail(at, `entry ${n + 1} of ${header.count} starts past the used size ${header.used}`);
    const size = view.getUint32(at, true);
    const end = at + size;
    if (size % 8 !== 0 || size < ENTRY_FIXED_SIZE || end > header.used) fail(at, `its size ${size} is invalid`);
    const nameLength = view.getUint16(at + 4, true);
    const functionCount = view.getUint16(at + 6, true);
    const symbolCount = view.getUint32(at + 96, true);
    if (at + ENTRY_FIXED_SIZE + nameLength > end) fail(at, 'its name runs past its end');
    const cfiStart = view.getBigUint64(at + 64, true);
    const entry: RegistryEntry = {
      id: Buffer.from(bytes.subarray(at + 8, at + 8 + ID_SIZE)).toString('hex'),
      name: text(at + ENTRY_FIXED_SIZE, nameLength),
      appliedAt: Number(view.getBigUint64(at + 40, true)),
      area: { start: view.getBigUint64(at + 48, true), size: Number(view.getBigUint64(at + 56, true)) },
      ...(cfiStart === 0n
        ? {}
        : {
            cfi: {
              start: cfiStart,
              end: view.getBigUint64(at + 72, true),
              ehFrameAddress: view.getBigUint64(at + 80, true),
              ehFrameSize: Number(view.getBigUint64(at + 88, true)),
            },
          }),
      functions: [],
      symbols: [],
      movedVariables: view.getUint32(at + 100, true),
    };
    let record = at + pad8(ENTRY_FIXED_SIZE + nameLength);
    for (let i = 0; i < functionCount; i++) {
      if (record + FUNCTION_FIXED_SIZE > end) fail(at, `function record ${i + 1} of ${functionCount} runs past the entry`);
      const recordSize = view.getUint32(record + 16, true);
      const fnNameLength = view.getUint16(record + 20, true);
      const originalLength = view.getUint8(record + 22);
      if (recordSize % 8 !== 0 || recordSize < FUNCTION_FIXED_SIZE + originalLength + fnNameLength || record + recordSize > end) {
        fail(at, `function record ${i + 1} has an invalid size ${recordSize}`);
      }
      entry.functions.push({
        name: text(record + FUNCTION_FIXED_SIZE + originalLength, fnNameLength),
        address: view.getBigUint64(record, true),
        to: view.getBigUint64(record + 8, true),
        original: bytes.slice(record + FUNCTION_FIXED_SIZE, record + FUNCTION_FIXED_SIZE + originalLength),
      });
      record += recordSize;
    }
    for (let i = 0; i < symbolCount; i++) {
      if (record + SYMBOL_FIXED_SIZE > end) fail(at, `symbol record ${i + 1} of ${symbolCount} runs past the entry`);
      const recordSize = view.getUint32(record + 12, true);
      const nameLength = view.getUint16(record + 16, true);
      const fileLength = view.getUint16(record + 18, true);
      const kind = SYMBOL_KINDS[view.getUint8(record + 20)];
      const bind = SYMBOL_BINDS[view.getUint8(record + 21)];
      if (recordSize % 8 !== 0 || recordSize < SYMBOL_FIXED_SIZE + nameLength + fileLength || record + recordSize > end) {
        fail(at, `symbol record ${i + 1} has an invalid size ${recordSize}`);
      }
      if (kind === undefined || bind === undefined) fail(at, `symbol record ${i + 1} has an unknown kind or binding`);
      const file = text(record + SYMBOL_FIXED_SIZE + nameLength, fileLength);
      entry.symbols.push({
        name: text(record + SYMBOL_FIXED_SIZE, nameLength),
        ...(fileLength === 0 ? {} : { file }),
        kind: kind!,
        bind: bind!,
        address: view.getBigUint64(record, true),
        size: view.getUint32(record + 8, true),
      });
      record += recordSize;
    }
    entries.push(entry);
    at = end;
  }
  if (at !== header.used) throw new RegistryFormatError(where, `its ${header.count} entries end at ${at}, but its used size is ${header.used}`);
  return { header, entries };
}
