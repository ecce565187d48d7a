// The process model: what the applier knows about a running process before touching it. It parses
// /proc/PID/maps, names the executable (/proc/PID/exe) and reads its build-id, and computes load
// biases: the executable's from the aux vector (AT_PHDR − the PT_PHDR vaddr, or AT_ENTRY − e_entry,
// which also works for a static exe without PT_PHDR), every other mapped ELF file's as "start of its
// first mapping at file offset 0 − its lowest PT_LOAD vaddr rounded down to a page". A link-time
// address + bias = the run-time address. Reading only /proc files, nothing here stops the target.
import { openSync, readFileSync, readSync, closeSync, readlinkSync } from 'node:fs';
import { ElfFile, PT_LOAD, PT_PHDR } from '@katana/elf';
import { ApplierError } from './errors.js';
import { explainOsError } from './os-errors.js';

const PAGE = 0x1000n;
const AT_PHDR = 3n;
const AT_ENTRY = 9n;

/** One line of /proc/PID/maps. */
export interface MapEntry {
  start: bigint;
  end: bigint;
  /** 'r-xp' and the like. */
  perms: string;
  offset: bigint;
  inode: number;
  /** File path, '[heap]', '[stack]', '[vdso]', or '' for anonymous memory. */
  path: string;
}

/** A mapped ELF file (the executable or a shared library) and its load bias. */
export class Module {
  #elf: ElfFile | undefined;
  #bias: bigint | undefined;

  /** `file` is the path to open (it may differ from `path`, e.g. /proc/PID/exe). */
  constructor(readonly path: string, readonly mappings: MapEntry[], readonly file: string, bias?: bigint, elf?: ElfFile) {
    this.#bias = bias;
    this.#elf = elf;
  }

  /** The module's ELF file, read on first use. */
  get elf(): ElfFile {
    this.#elf ??= ElfFile.open(this.file);
    return this.#elf;
  }

  /** Run-time address minus link-time address. */
  get bias(): bigint {
    if (this.#bias === undefined) {
      const first = this.mappings.find((m) => m.offset === 0n) ?? this.mappings[0]!;
      const loads = this.elf.segments.filter((s) => s.type === PT_LOAD).map((s) => s.vaddr);
      const lowest = loads.reduce((a, b) => (b < a ? b : a), loads[0] ?? 0n);
      this.#bias = first.start - (lowest & ~(PAGE - 1n));
    }
    return this.#bias;
  }

  /** Lowest mapped address. */
  get start(): bigint {
    return this.mappings[0]!.start;
  }

  /** End of the highest mapping. */
  get end(): bigint {
    return this.mappings[this.mappings.length - 1]!.end;
  }
}

/** What the applier reads of a process before it stops anything. */
export interface ProcessModel {
  pid: number;
  /** Path of the executable as /proc/PID/exe names it (may end in " (deleted)"). */
  exePath: string;
  /** Its NT_GNU_BUILD_ID in lowercase hex, if it has one. */
  buildId: string | undefined;
  maps: MapEntry[];
  exe: Module;
  /** Every mapped ELF file in order of first appearance in the maps, the executable included. */
  modules: Module[];
  vdso: MapEntry | undefined;
}

/** Parses the text of /proc/PID/maps. */
export function parseMaps(text: string): MapEntry[] {
  const out: MapEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+(\d+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    out.push({
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      perms: m[3]!,
      offset: BigInt(`0x${m[4]}`),
      inode: Number(m[5]),
      path: m[6]!,
    });
  }
  return out;
}

/** Reads /proc/PID/maps now. */
export function readMaps(pid: number): MapEntry[] {
  try {
    return parseMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch (error) {
    throw explainOsError(pid, error);
  }
}

/** The aux vector of pid (/proc/PID/auxv) as a map from AT_* to value. */
export function readAuxv(pid: number): Map<bigint, bigint> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(`/proc/${pid}/auxv`);
  } catch (error) {
    throw explainOsError(pid, error);
  }
  const out = new Map<bigint, bigint>();
  for (let i = 0; i + 16 <= bytes.length; i += 16) {
    const type = bytes.readBigUInt64LE(i);
    if (type === 0n) break;
    out.set(type, bytes.readBigUInt64LE(i + 8));
  }
  return out;
}

/** Load bias of the executable `elf` of pid from its aux vector. */
export function exeBias(pid: number, elf: ElfFile): bigint {
  const auxv = readAuxv(pid);
  const phdr = elf.segments.find((s) => s.type === PT_PHDR);
  const atPhdr = auxv.get(AT_PHDR);
  if (phdr !== undefined && atPhdr !== undefined) return atPhdr - phdr.vaddr;
  const atEntry = auxv.get(AT_ENTRY);
  if (atEntry === undefined) throw new ApplierError(`pid ${pid} has neither AT_PHDR nor AT_ENTRY in its aux vector`);
  return atEntry - elf.header.entry;
}

function isElfFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === '\x7fELF';
  } catch {
    return false; // a file mapped and since removed, or unreadable: not a module we can use
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads the process model of pid: maps, executable, build-id, modules with biases, vdso. */
export function readProcess(pid: number): ProcessModel {
  let exePath: string;
  try {
    exePath = readlinkSync(`/proc/${pid}/exe`);
  } catch (error) {
    throw explainOsError(pid, error);
  }
  const maps = readMaps(pid);
  const exeFile = `/proc/${pid}/exe`;
  const byPath = new Map<string, MapEntry[]>();
  for (const m of maps) {
    if (!m.path.startsWith('/') || m.inode === 0) continue;
    const list = byPath.get(m.path);
    if (list === undefined) byPath.set(m.path, [m]);
    else list.push(m);
  }
  const exeMappings = byPath.get(exePath);
  if (exeMappings === undefined) throw new ApplierError(`pid ${pid} has no mapping of its executable ${exePath}`);
  const exeElf = ElfFile.open(exeFile);
  const buildId = exeElf.buildId();
  const exe = new Module(exePath, exeMappings, exeFile, exeBias(pid, exeElf), exeElf);
  const modules: Module[] = [];
  for (const [path, mappings] of byPath) {
    if (path === exePath) modules.push(exe);
    else if (mappings.some((m) => m.offset === 0n) && isElfFile(path)) modules.push(new Module(path, mappings, path));
  }
  return { pid, exePath, buildId, maps, exe, modules, vdso: maps.find((m) => m.path === '[vdso]') };
}
