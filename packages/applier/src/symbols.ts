// Resolves the symbols a Patch Object references in the target to run-time values. First, a symbol
// that a patch already applied defines resolves to the newest such definition (Katana §5; the
// registry keeps each patch's symbol table, stack.ts): a function patched before is called at its
// newest code, a variable a patch added keeps its storage. Otherwise, a symbol with a
// link-time value lives in the executable: value + the exe's load bias. A symbol without one is a
// dynamic symbol, looked up by name like ld.so would: in the .dynsym of each mapped module in order of
// first appearance in /proc/PID/maps (defined, the default `@@` version preferred), plus that module's
// bias; a static executable has no libraries, so its own .symtab comes last. An STT_GNU_IFUNC symbol
// (libc's strlen, memcpy) is a resolver, not the function: we take the address the process already
// resolved, from the executable's GOT entry for it, and refuse when the executable never imported it.
// A TLS symbol becomes its offset from the thread pointer (x86-64 variant II: the exe's TLS block
// sits just below %fs:0, so tpoff = value − round_up(PT_TLS memsz, PT_TLS align)).
import {
  PT_TLS, SHN_UNDEF, SHT_RELA, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_GNU_IFUNC, STT_OBJECT, STT_NOTYPE,
  R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, type ElfSymbol,
} from '@katana/elf';
import type { PatchObject, PoSymbol } from '@katana/po';
import type { ProcessMemory } from '@katana/ptrace';
import { UnresolvedSymbolError } from './errors.js';
import type { Module, ProcessModel } from './process.js';
import type { RegistryEntry } from './registry-format.js';
import { definedByPatches } from './stack.js';

/** The run-time value of a PO symbol that lives in the target. */
export type ResolvedSymbol =
  /** An address in the process; isFunction when calls to it may go through a jump-table entry. */
  | { kind: 'address'; address: bigint; isFunction: boolean }
  /** A thread-local variable of the executable: its offset from %fs:0. */
  | { kind: 'tpoff'; tpoff: bigint };

/**
 * Resolves every target symbol of `po` in the process, which has the patches `applied` (oldest
 * first); the result is indexed like po.symbols and is undefined for symbols the patch defines
 * itself. `target` is the module the PO changes (the executable, or a shared library: see
 * target-module.ts); its bias turns link-time values into addresses.
 */
export function resolveSymbols(
  model: ProcessModel,
  po: PatchObject,
  memory: ProcessMemory,
  applied: readonly RegistryEntry[] = [],
  target: Module = model.exe,
): (ResolvedSymbol | undefined)[] {
  const isLibrary = target !== model.exe;
  // Below, `model.exe` stands for the module the patch changes: its .symtab, its GOT, its bias.
  if (isLibrary) model = { ...model, exe: target, exePath: target.path };
  return po.symbols.map((symbol) => {
    if (symbol.defined !== undefined) return undefined;
    if (symbol.target === undefined) throw new UnresolvedSymbolError(symbol.name, model.pid, 'the patch neither defines it nor says where it lives');
    if (symbol.type === 'tls') {
      if (isLibrary) throw new UnresolvedSymbolError(symbol.name, model.pid, `thread-local variables of libraries (${target.path}) are not supported`);
      return resolveTls(model, symbol);
    }
    const newest = definedByPatches(symbol, applied);
    if (newest !== undefined) return { kind: 'address', address: newest.address, isFunction: newest.kind === 'func' };
    if (symbol.target.value !== undefined) {
      return { kind: 'address', address: symbol.target.value + model.exe.bias, isFunction: symbol.type === 'func' };
    }
    // A static symbol without a value is one an earlier patch added; libraries never define it.
    if (symbol.bind === 'local') throw new UnresolvedSymbolError(symbol.name, model.pid, `a static of ${symbol.file ?? 'the program'} that no applied patch defines`);
    return resolveDynamic(model, symbol, memory);
  });
}

function resolveTls(model: ProcessModel, symbol: PoSymbol): ResolvedSymbol {
  const value = symbol.target?.value;
  if (value === undefined) throw new UnresolvedSymbolError(symbol.name, model.pid, 'thread-local variables of libraries are not supported');
  const tls = model.exe.elf.segments.find((s) => s.type === PT_TLS);
  if (tls === undefined) throw new UnresolvedSymbolError(symbol.name, model.pid, `${model.exePath} has no PT_TLS segment`);
  const align = BigInt(Math.max(tls.align, 1));
  const blockSize = ((BigInt(tls.memsz) + align - 1n) / align) * align;
  return { kind: 'tpoff', tpoff: value - blockSize };
}

const LOOKUP_TYPES = new Set([STT_FUNC, STT_OBJECT, STT_GNU_IFUNC, STT_NOTYPE]);

function isDefinition(s: ElfSymbol, name: string): boolean {
  return s.name === name && s.shndx !== SHN_UNDEF && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && LOOKUP_TYPES.has(s.type);
}

/** The module's definition of name, the default version first; undefined when it has none. */
function lookupIn(module: Module, name: string): ElfSymbol | undefined {
  let symbols: ElfSymbol[];
  try {
    symbols = module.elf.dynamicSymbols();
  } catch {
    return undefined; // a mapped file we cannot parse defines nothing we can use
  }
  const found = symbols.filter((s) => isDefinition(s, name));
  return found.find((s) => s.versionHidden !== true) ?? found[0];
}

function resolveDynamic(model: ProcessModel, symbol: PoSymbol, memory: ProcessMemory): ResolvedSymbol {
  for (const module of model.modules) {
    const found = lookupIn(module, symbol.name);
    if (found === undefined) continue;
    if (found.type === STT_GNU_IFUNC) return resolveIfunc(model, symbol, memory);
    return { kind: 'address', address: found.value + module.bias, isFunction: found.type === STT_FUNC || symbol.type === 'func' };
  }
  // A static executable has no .dynsym worth the name: its own symbol table is the last resort.
  const local = model.exe.elf.symbols().find((s) => isDefinition(s, symbol.name));
  if (local !== undefined) {
    if (local.type === STT_GNU_IFUNC) throw new UnresolvedSymbolError(symbol.name, model.pid, 'an IFUNC the executable never resolved');
    return { kind: 'address', address: local.value + model.exe.bias, isFunction: local.type === STT_FUNC };
  }
  throw new UnresolvedSymbolError(symbol.name, model.pid);
}

/** The address the process's dynamic linker chose for an IFUNC, read from the executable's GOT. */
function resolveIfunc(model: ProcessModel, symbol: PoSymbol, memory: ProcessMemory): ResolvedSymbol {
  const elf = model.exe.elf;
  const dynsym = elf.section('.dynsym');
  const imported = elf.dynamicSymbols().find((s) => s.name === symbol.name && s.shndx === SHN_UNDEF);
  if (dynsym !== undefined && imported !== undefined) {
    for (const rela of elf.sections) {
      if (rela.type !== SHT_RELA || rela.link !== dynsym.index) continue;
      const entry = elf.relocations(rela).find(
        (r) => r.symbolIndex === imported.index && (r.type === R_X86_64_JUMP_SLOT || r.type === R_X86_64_GLOB_DAT),
      );
      if (entry === undefined) continue;
      // With lazy binding an unresolved JUMP_SLOT points back into the exe's PLT, which resolves on
      // first call: calling that address is just as right.
      const got = memory.read(entry.offset + model.exe.bias, 8);
      const address = new DataView(got.buffer, got.byteOffset, 8).getBigUint64(0, true);
      return { kind: 'address', address, isFunction: true };
    }
  }
  throw new UnresolvedSymbolError(symbol.name, model.pid, `an IFUNC that ${model.exePath} does not import, so its implementation is unknown`);
}
