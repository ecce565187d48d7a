// The bytes of the in-target patch registry (docs/registry-format.md is the prose version): a
// 64-byte header, then one variable-size entry per applied patch, oldest first. Little-endian.
// Only the first `count` entries, ending at byte `used`, are valid: an applier writes a new entry
// past `used` while the target runs, then commits it with ONE 8-byte write of (count, used) at
// REGISTRY_COMMIT_OFFSET inside the stop window. Sizes are explicit everywhere (entry size, function
// and symbol record sizes), so a later version can append fields that this reader skips. Version 2
// added each patch's symbol table (what it defines, at run-time addresses): later patches resolve
// their references to the newest definition through it (Katana §5). Version 3 adds, after the
// symbol records of a patch that moved data, a data block: each transformed type with its reverse
// program (FDE instructions, for rollback) and the members a rollback drops, and each transformed
// variable with its run-time storage. A version 2 entry is a valid version 3 entry without a data
// block, so this reader reads both, and a writer appending to a version 2 region bumps its version.
// Version 4 gives each transformed variable the stage it belongs to (a composed patch transforms in
// stages: a rollback reverses them last first); a version 3 reader would reverse them all at once,
// so a region holding them says 4, and version 3 regions are read as stage 0 throughout.
import { concatBytes } from '@katana/elf';
import { RegistryFormatError } from './errors.js';

/** The name given to memfd_create: /proc/PID/maps shows `/memfd:katana-registry (deleted)`. */
export const REGISTRY_NAME = 'katana-registry';
/** First 8 bytes of a registry. */
export const REGISTRY_MAGIC = 'KATANARG';
/** The registry format this code writes. */
export const REGISTRY_VERSION = 4;
/** The formats this code reads: version 2 (no data blocks, written by older katana), 3 (no stages) and 4. */
export const REGISTRY_READABLE_VERSIONS: readonly number[] = [2, 3, 4];
/** Offset of the header's u16 format version. */
export const REGISTRY_VERSION_OFFSET = 8;
export const REGISTRY_HEADER_SIZE = 64;
/** Offset of the commit word: u32 count, then u32 used. */
export const REGISTRY_COMMIT_OFFSET = 24;
const ENTRY_FIXED_SIZE = 104;
const FUNCTION_FIXED_SIZE = 24;
const SYMBOL_FIXED_SIZE = 24;
const DATA_FIXED_SIZE = 32;
const TYPE_FIXED_SIZE = 24;
const VARIABLE_FIXED_SIZE = 40;
const ID_SIZE = 32;
/** Type record flag: the type has a reverse program. */
const TYPE_REVERSIBLE = 1;
/** Variable record flags. */
const VARIABLE_IN_PLACE = 1;
const VARIABLE_POINTER = 2;

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
   * How many variables the patch transformed (data patching). A rollback transforms them back
   * through `data`, and refuses an entry that has none (written by a katana before version 3).
   */
  movedVariables: number;
  /** What the patch did to data, for a rollback (version 3); absent when it transformed none. */
  data?: RegisteredData;
}

/** The data block of an entry: what a rollback needs to transform the patch's data back. */
export interface RegisteredData {
  /** The target's malloc and free the apply called (run-time address, code size); absent when it called neither. */
  allocator?: { malloc: RegisteredFunctionRange; free: RegisteredFunctionRange };
  /** The transformed types, in the PO's order (variables and reverse programs index them). */
  types: RegisteredType[];
  variables: RegisteredVariable[];
}

/** A function of the target: where its code starts at run time, and its size in bytes (0: unknown). */
export interface RegisteredFunctionRange {
  address: bigint;
  size: number;
}

/** A transformed type: its sizes, its reverse program and what a rollback drops. */
export interface RegisteredType {
  /** 'struct node'. */
  name: string;
  oldSize: number;
  newSize: number;
  /**
   * The reverse program (NEW → OLD) as FDE instructions, decodable with decodeTransformProgram of
   * @katana/po over oldSize bytes; a follow register K names types[K − 1] of this entry. Absent:
   * the type cannot be transformed back, and the patch cannot be rolled back.
   */
  rollback?: Uint8Array;
  /** Member paths of the new layout that the old one lacks ('weight', 'meta.extra'). */
  dropped: string[];
}

/** A transformed variable, where its storage is in the process. */
export interface RegisteredVariable {
  name: string;
  /** Source file relative to the project root. */
  file: string;
  /** Index into RegisteredData.types of its (element or pointee) type. */
  type: number;
  /** Run-time address of the storage the apply read (the target's, or an earlier patch's). */
  oldAddress: bigint;
  /** Run-time address of the storage it wrote (in the patch area; the same as oldAddress when in place). */
  newAddress: bigint;
  /** Objects transformed (array elements one by one). */
  count: number;
  /** Bytes of one old and one new element (the type's sizes, or 8 for a pointer). */
  oldStride: number;
  newStride: number;
  inPlace: boolean;
  pointer: boolean;
  /** Its stage in a composed patch (version 4; 0 otherwise). */
  stage: number;
}

const SYMBOL_KINDS = ['func', 'object'] as const;
const SYMBOL_BINDS = ['local', 'global', 'weak'] as const;

const pad8 = (n: number): number => (n + 7) & ~7;

/** Encodes a header. */
export function encodeRegistryHeader(h: Omit<RegistryHeader, 'version'>): Uint8Array {
  const out = new Uint8Array(REGISTRY_HEADER_SIZE);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(REGISTRY_MAGIC), 0);
  view.setUint16(REGISTRY_VERSION_OFFSET, REGISTRY_VERSION, true);
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
  const data = e.data === undefined ? new Uint8Array() : encodeDataBlock(e.data, e.name);
  const size = pad8(ENTRY_FIXED_SIZE + name.length) + sum(recordSizes) + sum(symbolSizes) + data.length;
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
  out.set(data, at);
  return out;
}

/** The data block of an entry (a multiple of 8 bytes): its header, the type records, the variable records. */
function encodeDataBlock(d: RegisteredData, entry: string): Uint8Array {
  const utf8 = new TextEncoder();
  if (d.types.length > 0xffff || d.variables.length > 0xffff) throw new RangeError(`the data block of registry entry ${entry} is too large`);
  const types = d.types.map((t) => {
    const name = utf8.encode(t.name);
    const dropped = t.dropped.map((path) => utf8.encode(path));
    const program = t.rollback ?? new Uint8Array();
    if (name.length > 0xffff || dropped.length > 0xffff || dropped.some((p) => p.length > 0xffff)) throw new RangeError(`type ${t.name} does not fit a registry record`);
    const size = pad8(TYPE_FIXED_SIZE + name.length + program.length + dropped.reduce((n, p) => n + 2 + p.length, 0));
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, size, true);
    view.setUint32(4, t.oldSize, true);
    view.setUint32(8, t.newSize, true);
    view.setUint16(12, name.length, true);
    view.setUint16(14, dropped.length, true);
    view.setUint32(16, program.length, true);
    view.setUint8(20, t.rollback === undefined ? 0 : TYPE_REVERSIBLE);
    out.set(name, TYPE_FIXED_SIZE);
    out.set(program, TYPE_FIXED_SIZE + name.length);
    let at = TYPE_FIXED_SIZE + name.length + program.length;
    for (const p of dropped) {
      view.setUint16(at, p.length, true);
      out.set(p, at + 2);
      at += 2 + p.length;
    }
    return out;
  });
  const variables = d.variables.map((v) => {
    const name = utf8.encode(v.name);
    const file = utf8.encode(v.file);
    if (name.length > 0xffff || file.length > 0xffff || v.type > 0xffff || v.stage > 0xff) throw new RangeError(`variable ${v.name} does not fit a registry record`);
    const size = pad8(VARIABLE_FIXED_SIZE + name.length + file.length);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setBigUint64(0, v.oldAddress, true);
    view.setBigUint64(8, v.newAddress, true);
    view.setUint32(16, size, true);
    view.setUint32(20, v.count, true);
    view.setUint32(24, v.oldStride, true);
    view.setUint32(28, v.newStride, true);
    view.setUint16(32, v.type, true);
    view.setUint8(34, (v.inPlace ? VARIABLE_IN_PLACE : 0) | (v.pointer ? VARIABLE_POINTER : 0));
    view.setUint8(35, v.stage);
    view.setUint16(36, name.length, true);
    view.setUint16(38, file.length, true);
    out.set(name, VARIABLE_FIXED_SIZE);
    out.set(file, VARIABLE_FIXED_SIZE + name.length);
    return out;
  });
  const header = new Uint8Array(DATA_FIXED_SIZE);
  const view = new DataView(header.buffer);
  const size = DATA_FIXED_SIZE + [...types, ...variables].reduce((n, r) => n + r.length, 0);
  view.setUint32(0, size, true);
  view.setUint16(4, types.length, true);
  view.setUint16(6, variables.length, true);
  view.setBigUint64(8, d.allocator?.malloc.address ?? 0n, true);
  view.setBigUint64(16, d.allocator?.free.address ?? 0n, true);
  view.setUint32(24, d.allocator?.malloc.size ?? 0, true);
  view.setUint32(28, d.allocator?.free.size ?? 0, true);
  return concatBytes([header, ...types, ...variables]);
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
  const version = view.getUint16(REGISTRY_VERSION_OFFSET, true);
  if (!REGISTRY_READABLE_VERSIONS.includes(version)) fail(`format version ${version} is not supported (this katana reads ${REGISTRY_READABLE_VERSIONS.slice(0, -1).join(', ')} and ${REGISTRY_READABLE_VERSIONS.at(-1)})`);
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
    // Version 3: a data block may follow (a version 2 entry ends here; a version 2 region has none).
    if (header.version >= 3 && record < end) {
      const data = decodeDataBlock(bytes.subarray(0, end), record, header.version, (detail) => fail(at, detail), text);
      if (data.types.length > 0 || data.variables.length > 0) entry.data = data;
    }
    entries.push(entry);
    at = end;
  }
  if (at !== header.used) throw new RegistryFormatError(where, `its ${header.count} entries end at ${at}, but its used size is ${header.used}`);
  return { header, entries };
}

/** Decodes the data block at `at` of `bytes` (which end with its entry); `fail` names the entry. */
function decodeDataBlock(bytes: Uint8Array, at: number, version: number, fail: (detail: string) => never, text: (at: number, length: number) => string): RegisteredData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (at + DATA_FIXED_SIZE > bytes.length) fail('its data block is truncated');
  const size = view.getUint32(at, true);
  const end = at + size;
  if (size % 8 !== 0 || size < DATA_FIXED_SIZE || end > bytes.length) fail(`its data block has an invalid size ${size}`);
  const typeCount = view.getUint16(at + 4, true);
  const variableCount = view.getUint16(at + 6, true);
  const malloc = view.getBigUint64(at + 8, true);
  const free = view.getBigUint64(at + 16, true);
  const allocator = { malloc: { address: malloc, size: view.getUint32(at + 24, true) }, free: { address: free, size: view.getUint32(at + 28, true) } };
  const data: RegisteredData = { ...(malloc === 0n && free === 0n ? {} : { allocator }), types: [], variables: [] };
  let record = at + DATA_FIXED_SIZE;
  for (let i = 0; i < typeCount; i++) {
    if (record + TYPE_FIXED_SIZE > end) fail(`type record ${i + 1} of ${typeCount} runs past the data block`);
    const recordSize = view.getUint32(record, true);
    const nameLength = view.getUint16(record + 12, true);
    const droppedCount = view.getUint16(record + 14, true);
    const programLength = view.getUint32(record + 16, true);
    const recordEnd = record + recordSize;
    if (recordSize % 8 !== 0 || recordSize < TYPE_FIXED_SIZE + nameLength + programLength + 2 * droppedCount || recordEnd > end) {
      fail(`type record ${i + 1} has an invalid size ${recordSize}`);
    }
    const program = record + TYPE_FIXED_SIZE + nameLength;
    const type: RegisteredType = {
      name: text(record + TYPE_FIXED_SIZE, nameLength),
      oldSize: view.getUint32(record + 4, true),
      newSize: view.getUint32(record + 8, true),
      ...((view.getUint8(record + 20) & TYPE_REVERSIBLE) === 0 ? {} : { rollback: bytes.slice(program, program + programLength) }),
      dropped: [],
    };
    let path = program + programLength;
    for (let k = 0; k < droppedCount; k++) {
      if (path + 2 > recordEnd) fail(`type record ${i + 1} has a dropped member past its end`);
      const length = view.getUint16(path, true);
      if (path + 2 + length > recordEnd) fail(`type record ${i + 1} has a dropped member past its end`);
      type.dropped.push(text(path + 2, length));
      path += 2 + length;
    }
    data.types.push(type);
    record = recordEnd;
  }
  for (let i = 0; i < variableCount; i++) {
    if (record + VARIABLE_FIXED_SIZE > end) fail(`variable record ${i + 1} of ${variableCount} runs past the data block`);
    const recordSize = view.getUint32(record + 16, true);
    const nameLength = view.getUint16(record + 36, true);
    const fileLength = view.getUint16(record + 38, true);
    if (recordSize % 8 !== 0 || recordSize < VARIABLE_FIXED_SIZE + nameLength + fileLength || record + recordSize > end) {
      fail(`variable record ${i + 1} has an invalid size ${recordSize}`);
    }
    const type = view.getUint16(record + 32, true);
    if (type >= typeCount) fail(`variable record ${i + 1} names type ${type}, but the data block has ${typeCount}`);
    const flags = view.getUint8(record + 34);
    data.variables.push({
      name: text(record + VARIABLE_FIXED_SIZE, nameLength),
      file: text(record + VARIABLE_FIXED_SIZE + nameLength, fileLength),
      type,
      oldAddress: view.getBigUint64(record, true),
      newAddress: view.getBigUint64(record + 8, true),
      count: view.getUint32(record + 20, true),
      oldStride: view.getUint32(record + 24, true),
      newStride: view.getUint32(record + 28, true),
      inPlace: (flags & VARIABLE_IN_PLACE) !== 0,
      pointer: (flags & VARIABLE_POINTER) !== 0,
      stage: version >= 4 ? view.getUint8(record + 35) : 0,
    });
    record += recordSize;
  }
  return data;
}
