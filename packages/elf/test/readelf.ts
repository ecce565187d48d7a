// Test oracle: runs `readelf -W` on a file and parses its header (-h), section (-S), program header
// (-l), symbol (-s), relocation (-r) and note (-n) listings into plain records, so tests can compare
// ElfFile field by field. Parsing follows binutils 2.40 output; anything it cannot parse fails loudly.
import { run } from './fixtures.js';

export interface ReadelfSection {
  index: number; name: string; type: string; addr: bigint; offset: number; size: number;
  entsize: number; flags: string; link: number; info: number; align: number;
}
export interface ReadelfSegment {
  type: string; offset: number; vaddr: bigint; paddr: bigint; filesz: number; memsz: number; flags: string; align: number;
}
export interface ReadelfSymbol {
  index: number; value: bigint; size: number; type: string; bind: string; vis: string; ndx: string; name: string;
}
export interface ReadelfRelocation {
  offset: bigint; info: bigint; type: string; symbolName: string | undefined; addend: bigint;
}

/** `readelf -W -h` as a key → value map ("Entry point address" → "0x401020"). */
export function readelfHeader(path: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of run('readelf', ['-W', '-h', path]).split('\n')) {
    const m = /^\s+([^:]+):\s+(.*)$/.exec(line);
    if (m) out.set(m[1]!.trim(), m[2]!.trim());
  }
  return out;
}

/** `readelf -W -S`, one record per section. */
export function readelfSections(path: string): ReadelfSection[] {
  const out: ReadelfSection[] = [];
  for (const line of run('readelf', ['-W', '-S', path]).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s(.*)$/.exec(line);
    if (!m) continue;
    const tokens = m[2]!.trim().split(/\s+/);
    const [align, info, link] = [tokens.pop()!, tokens.pop()!, tokens.pop()!];
    const flags = /^[0-9a-f]{2,}$/.test(tokens[tokens.length - 1]!) ? '' : tokens.pop()!;
    const [entsize, size, offset, addr, type] = [tokens.pop()!, tokens.pop()!, tokens.pop()!, tokens.pop()!, tokens.pop()!];
    if (tokens.length > 1 || type === undefined) throw new Error(`cannot parse readelf section line: ${line}`);
    out.push({
      index: Number(m[1]), name: tokens[0] ?? '', type, addr: BigInt('0x' + addr), offset: parseInt(offset, 16),
      size: parseInt(size, 16), entsize: parseInt(entsize, 16), flags, link: Number(link), info: Number(info), align: Number(align),
    });
  }
  return out;
}

/** `readelf -W -l`, one record per program header. */
export function readelfSegments(path: string): ReadelfSegment[] {
  const out: ReadelfSegment[] = [];
  const re = /^\s+(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) 0x([0-9a-f]+)$/;
  for (const line of run('readelf', ['-W', '-l', path]).split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    out.push({
      type: m[1]!, offset: parseInt(m[2]!, 16), vaddr: BigInt('0x' + m[3]), paddr: BigInt('0x' + m[4]),
      filesz: parseInt(m[5]!, 16), memsz: parseInt(m[6]!, 16), flags: m[7]!, align: parseInt(m[8]!, 16),
    });
  }
  return out;
}

/** `readelf -W -s`, symbols per table name (".symtab", ".dynsym"). */
export function readelfSymbols(path: string): Map<string, ReadelfSymbol[]> {
  const tables = new Map<string, ReadelfSymbol[]>();
  let current: ReadelfSymbol[] | undefined;
  const re = /^\s*(\d+): ([0-9a-f]{16})\s+(0x[0-9a-f]+|\d+) (\S+)\s+(\S+)\s+(\S+)\s+(\S+) ?(.*)$/;
  for (const line of run('readelf', ['-W', '-s', path]).split('\n')) {
    const t = /^Symbol table '([^']+)' contains/.exec(line);
    if (t) {
      current = [];
      tables.set(t[1]!, current);
      continue;
    }
    const m = re.exec(line);
    if (!m || current === undefined) continue;
    current.push({
      index: Number(m[1]), value: BigInt('0x' + m[2]), size: Number(m[3]), type: m[4]!, bind: m[5]!, vis: m[6]!,
      ndx: m[7]!, name: m[8]!,
    });
  }
  return tables;
}

/** `readelf -W -r`, relocations per relocation section name. */
export function readelfRelocations(path: string): Map<string, ReadelfRelocation[]> {
  const sections = new Map<string, ReadelfRelocation[]>();
  let current: ReadelfRelocation[] | undefined;
  for (const line of run('readelf', ['-W', '-r', path]).split('\n')) {
    const t = /^Relocation section '([^']+)' at offset/.exec(line);
    if (t) {
      current = [];
      sections.set(t[1]!, current);
      continue;
    }
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16}) (\S+)\s+(.*)$/.exec(line);
    if (!m || current === undefined) continue;
    const rest = m[4]!.trim();
    const withSymbol = /^[0-9a-f]{16} (.*) ([+-]) ([0-9a-f]+)$/.exec(rest);
    const bare = /^(-?)([0-9a-f]+)$/.exec(rest);
    let symbolName: string | undefined;
    let addend: bigint;
    if (withSymbol) {
      symbolName = withSymbol[1]!;
      addend = BigInt('0x' + withSymbol[3]) * (withSymbol[2] === '-' ? -1n : 1n);
    } else if (bare) {
      addend = BigInt('0x' + bare[2]) * (bare[1] === '-' ? -1n : 1n);
    } else {
      throw new Error(`cannot parse readelf relocation line: ${line}`);
    }
    current.push({ offset: BigInt('0x' + m[1]), info: BigInt('0x' + m[2]), type: m[3]!, symbolName, addend });
  }
  return sections;
}

/** The "Build ID:" of `readelf -n`, if any. */
export function readelfBuildId(path: string): string | undefined {
  return /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-W', '-n', path]))?.[1];
}

/** readelf's letters for sh_flags bits (the key printed under `readelf -S`), sorted. */
export function flagLetters(flags: bigint): string {
  const letters: [bigint, string][] = [
    [0x1n, 'W'], [0x2n, 'A'], [0x4n, 'X'], [0x10n, 'M'], [0x20n, 'S'], [0x40n, 'I'], [0x80n, 'L'], [0x100n, 'O'],
    [0x200n, 'G'], [0x400n, 'T'], [0x800n, 'C'], [0x200000n, 'R'], [0x10000000n, 'l'], [0x80000000n, 'E'],
  ];
  return letters.filter(([bit]) => (flags & bit) !== 0n).map(([, l]) => l).sort().join('');
}
