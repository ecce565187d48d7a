// Names the function holding a pc, for messages such as "thread 4242 is in serve_forever (called
// from main)". A file's function symbols come from its .symtab, from the .symtab of its separate
// debug file when one is installed (/usr/lib/debug/.build-id/ab/cdef….debug, where Debian's libc6-dbg
// keeps the names of static functions such as start_thread), and from its .dynsym; they are sorted
// once by address and looked up by binary search. A pc outside every function's [value, value+size)
// has no name (gdb prints `??` there too). Among aliases at one address (nanosleep, __nanosleep,
// __GI___nanosleep) a global name with the fewest leading underscores wins.
import { existsSync } from 'node:fs';
import { ElfFile, SHN_UNDEF, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_GNU_IFUNC, type ElfSymbol } from '@katana/elf';

/** A function symbol at link-time addresses. */
export interface FunctionSymbol {
  name: string;
  start: bigint;
  end: bigint;
}

/** Where Debian (and gdb) look for a separate debug file by build-id. */
const DEBUG_ROOT = '/usr/lib/debug/.build-id';

/** The function symbols of one ELF file, sorted by address. */
export class FunctionSymbols {
  readonly #symbols: FunctionSymbol[];
  /** Zero-size function symbols (hand-written assembly such as __restore_rt), by address. */
  readonly #labels: Map<bigint, FunctionSymbol>;

  constructor(symbols: FunctionSymbol[], labels: Map<bigint, FunctionSymbol>) {
    this.#symbols = symbols;
    this.#labels = labels;
  }

  /** The functions of `elf` (and of its separate debug file, if installed). */
  static of(elf: ElfFile): FunctionSymbols {
    const best = new Map<bigint, { symbol: ElfSymbol; rank: number }>();
    const labels = new Map<bigint, FunctionSymbol>();
    const consider = (symbol: ElfSymbol): void => {
      if (symbol.type !== STT_FUNC && symbol.type !== STT_GNU_IFUNC) return;
      if (symbol.shndx === SHN_UNDEF || symbol.name === '') return;
      if (symbol.size === 0) {
        labels.set(symbol.value, { name: symbol.name, start: symbol.value, end: symbol.value });
        return;
      }
      const rank = (symbol.bind === STB_GLOBAL ? 0 : symbol.bind === STB_WEAK ? 100 : 200) + (/^_*/.exec(symbol.name)![0].length);
      const seen = best.get(symbol.value);
      if (seen === undefined || rank < seen.rank || (rank === seen.rank && symbol.size > seen.symbol.size)) best.set(symbol.value, { symbol, rank });
    };
    for (const s of elf.dynamicSymbols()) consider(s);
    for (const s of elf.symbols()) consider(s);
    const debug = debugFileOf(elf);
    if (debug !== undefined) for (const s of debug.symbols()) consider(s);
    const symbols = [...best.values()]
      .map(({ symbol }) => ({ name: symbol.name, start: symbol.value, end: symbol.value + BigInt(symbol.size) }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return new FunctionSymbols(symbols, labels);
  }

  /** The function starting exactly at `address`, zero-size labels included. */
  at(address: bigint): FunctionSymbol | undefined {
    const found = this.find(address);
    return found?.start === address ? found : this.#labels.get(address);
  }

  /** The function whose [start, end) holds link-time address `address`. */
  find(address: bigint): FunctionSymbol | undefined {
    let low = 0;
    let high = this.#symbols.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.#symbols[mid]!.start <= address) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    // A nested symbol (a local label with a size inside a larger function) may hide the outer one.
    for (let i = found; i >= 0 && i >= found - 4; i--) {
      const s = this.#symbols[i]!;
      if (address >= s.start && address < s.end) return s;
    }
    return undefined;
  }
}

/** The installed separate debug file of `elf` found by its build-id, if any and readable. */
function debugFileOf(elf: ElfFile): ElfFile | undefined {
  const id = elf.buildId();
  if (id === undefined || id.length < 3) return undefined;
  const path = `${DEBUG_ROOT}/${id.slice(0, 2)}/${id.slice(2)}.debug`;
  if (!existsSync(path)) return undefined;
  try {
    return ElfFile.open(path);
  } catch {
    return undefined; // a damaged debug file only costs names
  }
}
