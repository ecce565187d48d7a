// Resolving a PO's target symbols in an executable FILE, where there is no process: an ET_EXEC is
// loaded at its link-time addresses, so a symbol with a link-time value is that address. A symbol
// without one is a shared-library function; no dynamic linker will bind anything new for the patch,
// so it must be a function the executable already imports, and the patch calls it through the
// executable's own PLT stub (the stub jumps through the GOT slot ld.so fills, lazily or at startup).
// The stub is found by its code, not by assuming a layout (@katana/elf pltEntry): the entry whose
// `jmp *rel32(%rip)` reads the JUMP_SLOT/GLOB_DAT slot of the symbol. A library variable without a
// link-time value (no copy relocation in the executable) cannot be reached: refused.
import {
  PT_TLS, R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, SHN_UNDEF, SHT_RELA, pltEntry, type ElfFile,
} from '@katana/elf';
import type { PatchObject, PoSymbol } from '@katana/po';
import type { ResolvedSymbol } from '../symbols.js';
import { PersistError } from './errors.js';

/** Resolves every target symbol of `po` in the executable `elf` (named `path` in messages), indexed like po.symbols. */
export function resolveFileSymbols(elf: ElfFile, path: string, po: PatchObject): (ResolvedSymbol | undefined)[] {
  return po.symbols.map((symbol) => {
    if (symbol.defined !== undefined) return undefined;
    const value = symbol.target?.value;
    if (symbol.type === 'tls') return { kind: 'tpoff', tpoff: threadOffset(elf, path, symbol) };
    if (value !== undefined) return { kind: 'address', address: value, isFunction: symbol.type === 'func' };
    return { kind: 'address', address: pltStub(elf, path, symbol), isFunction: true };
  });
}

/** x86-64 TLS variant II, as the live applier computes it: value − round_up(PT_TLS memsz, PT_TLS align). */
function threadOffset(elf: ElfFile, path: string, symbol: PoSymbol): bigint {
  const tls = elf.segments.find((s) => s.type === PT_TLS);
  const value = symbol.target?.value;
  if (tls === undefined || value === undefined) throw new PersistError(`thread-local ${symbol.name} needed by the patch is not in the TLS block of ${path}`);
  const align = BigInt(Math.max(tls.align, 1));
  return value - ((BigInt(tls.memsz) + align - 1n) / align) * align;
}

/** The link-time address of the PLT stub through which `path` calls the library function `symbol`. */
function pltStub(elf: ElfFile, path: string, symbol: PoSymbol): bigint {
  const refuse = (why: string): never => {
    throw new PersistError(`${symbol.name} needed by the patch is a shared-library symbol ${why}; a patch written into a file can only call library functions the executable already calls (apply it to the running process with --pid instead)`);
  };
  if (symbol.type !== 'func' && symbol.type !== 'notype') refuse(`that ${path} holds no copy of`);
  const slot = gotSlot(elf, symbol.name) ?? refuse(`that ${path} does not import`);
  return pltEntry(elf, slot) ?? refuse(`whose PLT stub in ${path} was not found`);
}

/** The GOT slot ld.so fills with the address of the imported function `name`, if `elf` imports it. */
function gotSlot(elf: ElfFile, name: string): bigint | undefined {
  const dynsym = elf.section('.dynsym');
  if (dynsym === undefined) return undefined;
  const imported = elf.dynamicSymbols().find((s) => s.name === name && s.shndx === SHN_UNDEF);
  if (imported === undefined) return undefined;
  for (const rela of elf.sections) {
    if (rela.type !== SHT_RELA || rela.link !== dynsym.index) continue;
    const entry = elf.relocations(rela).find((r) => r.symbolIndex === imported.index && (r.type === R_X86_64_JUMP_SLOT || r.type === R_X86_64_GLOB_DAT));
    if (entry !== undefined) return entry.offset;
  }
  return undefined;
}
