// Test support (not a test file): temp folders, compiling fixtures with gcc, running the oracle
// tools (llvm-dwarfdump, readelf) and parsing their output. A missing tool fails the test with a
// message naming it; nothing is skipped.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (dist/test/x.test.js → packages/dwarf/). */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Folder of the C fixtures. */
export const fixtures = join(packageRoot, 'test', 'fixtures');

/** Runs a tool and returns its stdout; throws naming the tool when it is missing or fails. */
export function run(tool: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(tool, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${tool} is required by this test but is not installed`);
    throw new Error(`${tool} ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** A fresh temp folder, and a function removing it (kept with KATANA_KEEP_TMP=1). */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'katana-dwarf-'));
  return { dir, remove: () => { if (process.env.KATANA_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true }); } };
}

/** Flags katana-cc adds, used for every fixture build. */
export const SECTION_FLAGS = ['-ffunction-sections', '-fdata-sections'];

/** One build configuration of the fixtures. */
export interface Variant {
  label: string;
  flags: string[];
}

/** DWARF 5 (gcc 12 default) and DWARF 4, each at -O0 and -O2. */
export const VARIANTS: Variant[] = [
  { label: 'dwarf5-O0', flags: ['-g', '-O0'] },
  { label: 'dwarf5-O2', flags: ['-g', '-O2'] },
  { label: 'dwarf4-O0', flags: ['-g', '-gdwarf-4', '-O0'] },
  { label: 'dwarf4-O2', flags: ['-g', '-gdwarf-4', '-O2'] },
];

/** A DIE as llvm-dwarfdump prints it: offset, tag, attributes (name → printed value). */
export interface DumpedDie {
  offset: number;
  tag: string;
  attributes: Map<string, string>;
}

/** Parses `llvm-dwarfdump --debug-info` output into its DIEs (NULL entries left out). */
export function parseDwarfdump(text: string): DumpedDie[] {
  const dies: DumpedDie[] = [];
  let current: DumpedDie | undefined;
  for (const line of text.split('\n')) {
    const head = /^0x([0-9a-f]{8}):\s+(DW_TAG_\w+|NULL)/.exec(line);
    if (head) {
      current = head[2] === 'NULL' ? undefined : { offset: parseInt(head[1]!, 16), tag: head[2]!, attributes: new Map() };
      if (current) dies.push(current);
      continue;
    }
    const at = /^\s+(DW_AT_\w+)\t\((.*)$/.exec(line);
    if (at && current) current.attributes.set(at[1]!, at[2]!);
  }
  return dies;
}

/** A DIE as `readelf --debug-dump=info` prints it: offset, nesting level, tag, attribute offsets and names. */
export interface ReadelfDie {
  offset: number;
  level: number;
  tag: string;
  attributes: { offset: number; name: string }[];
}

/** Parses `readelf --debug-dump=info` output (abbrev number 0 entries left out). */
export function parseReadelf(text: string): ReadelfDie[] {
  const dies: ReadelfDie[] = [];
  let current: ReadelfDie | undefined;
  for (const line of text.split('\n')) {
    const head = /^\s*<(\d+)><([0-9a-f]+)>: Abbrev Number: (\d+)(?: \((\w+)\))?/.exec(line);
    if (head) {
      current = head[3] === '0' ? undefined : { level: Number(head[1]), offset: parseInt(head[2]!, 16), tag: head[4] ?? '', attributes: [] };
      if (current) dies.push(current);
      continue;
    }
    const at = /^\s+<([0-9a-f]+)>\s+(DW_AT_\w+)/.exec(line);
    if (at && current) current.attributes.push({ offset: parseInt(at[1]!, 16), name: at[2]! });
  }
  return dies;
}

/** The number llvm-dwarfdump prints for a constant attribute: `(0x08)` or `(8)`. */
export function dumpedNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(0x[0-9a-f]+|\d+)\)/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** The string llvm-dwarfdump prints for a string attribute: `("point")`. */
export function dumpedString(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^"(.*)"\)$/.exec(value);
  return m ? m[1] : undefined;
}
