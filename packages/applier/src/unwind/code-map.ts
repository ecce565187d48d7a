// Which code a run-time pc belongs to, with that code's call frame information and function names:
// a mapped ELF file (the executable or a library: CFI from its .eh_frame and .debug_frame on disk,
// looked up at pc − load bias), the vdso (an ELF image that exists only in memory: read and parsed
// from the process), or an extra CFI source for code that is in no module, such as the code of
// patches already applied (its .eh_frame copy sits in the target at a known address). Tables are
// cached per file (path and inode) for the life of the applier, and `prepare()` loads all of them,
// so that unwinding inside the stop window only reads registers and stack memory.
import { CallFrameTable, type CfiRow } from '@katana/dwarf';
import { ElfFile, PT_LOAD } from '@katana/elf';
import type { ProcessMemory } from '@katana/ptrace';
import type { MapEntry, Module, ProcessModel } from '../process.js';
import { FunctionSymbols } from './symbolize.js';

/** Call frame information for code that is in no mapped file, e.g. an applied patch's code. */
export interface ExtraCfi {
  /** Run-time range of the code the FDEs describe. */
  start: bigint;
  end: bigint;
  /** Run-time address of the .eh_frame copy (pcrel pointers are relative to it). */
  ehFrameAddress: bigint;
  /** The .eh_frame bytes as they sit at ehFrameAddress. */
  ehFrame: Uint8Array;
  /** How frames in this code are named when no symbol is known (e.g. 'patch fix.po'). */
  name?: string;
}

/** One piece of code: its CFI and symbols, and the offset from its run-time to its table addresses. */
export interface Code {
  /** The file path, '[vdso]', or the extra source's name. */
  name: string;
  start: bigint;
  end: bigint;
  /** Run-time address − the address the CFI and symbols use. */
  bias: bigint;
  /** Undefined when the code's CFI could not be read (the reason is in cfiError). */
  cfi: CallFrameTable | undefined;
  cfiError: string | undefined;
  symbols: FunctionSymbols | undefined;
}

interface FileTables {
  cfi: CallFrameTable | undefined;
  cfiError: string | undefined;
  symbols: FunctionSymbols | undefined;
}

// Per file (path#inode): parsing libc's CFI and symbols takes milliseconds; do it once per applier.
const fileCache = new Map<string, FileTables>();

/** Maps run-time pcs to their code; built from the process model before the stop. */
export class CodeMap {
  readonly #codes: Code[] = [];
  readonly #modules: { module: Module; code: Code | undefined }[];
  readonly #executable: MapEntry[];
  readonly #rows = new Map<Code, Map<bigint, CfiRow | undefined>>();

  constructor(private readonly model: ProcessModel, private readonly memory: ProcessMemory, extra: readonly ExtraCfi[] = []) {
    this.#executable = model.maps.filter((m) => m.perms.includes('x'));
    this.#modules = model.modules.map((module) => ({ module, code: undefined }));
    for (const e of extra) {
      let cfi: CallFrameTable | undefined;
      let cfiError: string | undefined;
      try {
        cfi = CallFrameTable.fromEhFrame(e.ehFrame, e.ehFrameAddress);
      } catch (error) {
        cfiError = describe(error);
      }
      this.#codes.push({ name: e.name ?? 'patch code', start: e.start, end: e.end, bias: 0n, cfi, cfiError, symbols: undefined });
    }
  }

  /** Loads the CFI and symbols of every module and of the vdso now (call it before stopping the target). */
  prepare(): void {
    for (const entry of this.#modules) this.#moduleCode(entry);
    if (this.model.vdso !== undefined) this.#vdsoCode(this.model.vdso);
  }

  /**
   * The CFI row of `code` at table address `address`, memoized: code does not change while we look,
   * and a retried check (or the warm-up on one thread before the stop) then skips running FDE programs.
   */
  rowFor(code: Code, address: bigint): CfiRow | undefined {
    if (code.cfi === undefined) return undefined;
    let rows = this.#rows.get(code);
    if (rows === undefined) {
      rows = new Map();
      this.#rows.set(code, rows);
    }
    if (rows.has(address)) return rows.get(address);
    const row = code.cfi.rowFor(address);
    rows.set(address, row);
    return row;
  }

  /** True when `pc` lies in an executable mapping of the process (as read before the stop). */
  isExecutable(pc: bigint): boolean {
    return this.#executable.some((m) => pc >= m.start && pc < m.end);
  }

  /** The mapping holding `address`, if any. */
  mappingOf(address: bigint): MapEntry | undefined {
    return this.model.maps.find((m) => address >= m.start && address < m.end);
  }

  /** The code holding run-time address `pc`, or undefined when it is in no module and no extra source. */
  codeAt(pc: bigint): Code | undefined {
    for (const code of this.#codes) if (pc >= code.start && pc < code.end) return code;
    for (const entry of this.#modules) {
      if (entry.module.mappings.some((m) => pc >= m.start && pc < m.end)) return this.#moduleCode(entry);
    }
    const vdso = this.model.vdso;
    if (vdso !== undefined && pc >= vdso.start && pc < vdso.end) return this.#vdsoCode(vdso);
    return undefined;
  }

  #moduleCode(entry: { module: Module; code: Code | undefined }): Code {
    if (entry.code !== undefined) return entry.code;
    const { module } = entry;
    const key = `${module.path}#${module.mappings[0]!.inode}`;
    let tables = fileCache.get(key);
    if (tables === undefined) {
      tables = loadTables(() => module.elf);
      fileCache.set(key, tables);
    }
    let bias = 0n;
    try {
      bias = module.bias;
    } catch {
      // No readable ELF: the tables are empty and the bias unused.
    }
    entry.code = { name: module.path, start: module.start, end: module.end, bias, ...tables };
    this.#codes.push(entry.code);
    return entry.code;
  }

  #vdsoCode(vdso: MapEntry): Code {
    const existing = this.#codes.find((c) => c.name === '[vdso]');
    if (existing !== undefined) return existing;
    let bias = vdso.start;
    const tables = loadTables(() => {
      const elf = ElfFile.parse(this.memory.read(vdso.start, Number(vdso.end - vdso.start)), '[vdso]');
      const loads = elf.segments.filter((s) => s.type === PT_LOAD);
      if (loads.length > 0) bias = vdso.start - (loads[0]!.vaddr & ~0xfffn);
      return elf;
    });
    const code: Code = { name: '[vdso]', start: vdso.start, end: vdso.end, bias, ...tables };
    this.#codes.push(code);
    return code;
  }
}

// Reads a file's CFI and symbols; a file we cannot read or parse gets none, with the reason kept
// for the "unreliable stack" verdict of a thread that runs in it.
function loadTables(open: () => ElfFile): FileTables {
  let elf: ElfFile;
  try {
    elf = open();
  } catch (error) {
    return { cfi: undefined, cfiError: describe(error), symbols: undefined };
  }
  let cfi: CallFrameTable | undefined;
  let cfiError: string | undefined;
  try {
    cfi = CallFrameTable.fromElf(elf);
  } catch (error) {
    cfiError = describe(error);
  }
  let symbols: FunctionSymbols | undefined;
  try {
    symbols = FunctionSymbols.of(elf);
  } catch {
    symbols = undefined; // names are a courtesy; unwinding does not need them
  }
  return { cfi, cfiError, symbols };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
