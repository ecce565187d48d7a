// Test support (not a test file): parses `readelf --debug-dump=frames-interp` into CIEs and FDEs
// with their rows as readelf prints them ("rsp+16", "c-8", "u", "exp"), and prints our rows the
// same way, so a test compares the two tables cell by cell.
import { X86_64_REGISTER_NAMES, type CfaRule, type RegisterRule, type UnwindRow } from '../src/index.js';

/** One table row: LOC, CFA text, and the rule text of each named column. */
export interface DumpedRow {
  loc: bigint;
  cfa: string;
  columns: Map<string, string>;
}

/** One CIE or FDE of the dump. */
export interface DumpedEntry {
  section: string;
  offset: number;
  kind: 'CIE' | 'FDE';
  /** FDE: the offset of its CIE. */
  cie?: number;
  /** CIE: the augmentation string. */
  augmentation?: string;
  start?: bigint;
  end?: bigint;
  rows: DumpedRow[];
}

/** Parses the whole dump (every frame section it shows). */
export function parseFramesInterp(text: string): DumpedEntry[] {
  const entries: DumpedEntry[] = [];
  let section = '';
  let current: DumpedEntry | undefined;
  let columns: string[] = [];
  for (const line of text.split('\n')) {
    const contents = /^Contents of the (\S+) section/.exec(line);
    if (contents) {
      section = contents[1]!;
      current = undefined;
      continue;
    }
    const cie = /^([0-9a-f]{8,16}) [0-9a-f]+ [0-9a-f]+ CIE "([^"]*)"/.exec(line);
    if (cie) {
      current = { section, offset: parseInt(cie[1]!, 16), kind: 'CIE', augmentation: cie[2]!, rows: [] };
      entries.push(current);
      continue;
    }
    const fde = /^([0-9a-f]{8,16}) [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
    if (fde) {
      current = {
        section, offset: parseInt(fde[1]!, 16), kind: 'FDE', cie: parseInt(fde[2]!, 16),
        start: BigInt(`0x${fde[3]}`), end: BigInt(`0x${fde[4]}`), rows: [],
      };
      entries.push(current);
      continue;
    }
    const header = /^\s+LOC\s+CFA\s*(.*)$/.exec(line);
    if (header && current) {
      columns = header[1]!.trim().split(/\s+/).filter((c) => c !== '');
      continue;
    }
    const row = /^([0-9a-f]{16}) (\S+)\s*(.*)$/.exec(line);
    if (row && current) {
      // A DW_CFA_register rule prints as two words, "r9 (r9)".
      const cells = row[3]!.match(/r\d+ \(\w+\)|\S+/g) ?? [];
      current.rows.push({ loc: BigInt(`0x${row[1]}`), cfa: row[2]!, columns: new Map(columns.map((c, i) => [c, cells[i] ?? '?'])) });
    }
  }
  return entries;
}

const signed = (n: number): string => (n >= 0 ? `+${n}` : `${n}`);

/** The DWARF register number of a readelf column name ('ra' is the return address column). */
export function columnRegister(name: string, returnAddressColumn: number): number {
  if (name === 'ra') return returnAddressColumn;
  const index = (X86_64_REGISTER_NAMES as readonly string[]).indexOf(name);
  if (index < 0) throw new Error(`readelf column ${name} is not an x86-64 general register this test knows`);
  return index;
}

/** Our CFA rule as readelf prints it. */
export function cfaText(rule: CfaRule): string {
  return rule.kind === 'expression' ? 'exp' : `${X86_64_REGISTER_NAMES[rule.register] ?? `r${rule.register}`}${signed(rule.offset)}`;
}

/** Our register rule as readelf prints it (a register without a rule prints as 'u'). */
export function ruleText(rule: RegisterRule | undefined): string {
  if (rule === undefined) return 'u';
  switch (rule.kind) {
    case 'undefined': return 'u';
    case 'same-value': return 's';
    case 'offset': return `c${signed(rule.offset)}`;
    case 'val-offset': return `v${signed(rule.offset)}`;
    case 'register': return `r${rule.register} (${X86_64_REGISTER_NAMES[rule.register] ?? '?'})`;
    case 'expression': return 'exp';
    case 'val-expression': return 'vexp';
  }
}

/** Compares our row with readelf's; returns a description of the first difference, or undefined. */
export function rowDifference(ours: UnwindRow, theirs: DumpedRow, returnAddressColumn: number): string | undefined {
  if (cfaText(ours.cfa) !== theirs.cfa) return `CFA ${cfaText(ours.cfa)} vs readelf ${theirs.cfa}`;
  for (const [name, text] of theirs.columns) {
    const mine = ruleText(ours.registers.get(columnRegister(name, returnAddressColumn)));
    if (mine !== text) return `${name} ${mine} vs readelf ${text}`;
  }
  const named = new Set([...theirs.columns.keys()].map((name) => columnRegister(name, returnAddressColumn)));
  for (const [register, rule] of ours.registers) {
    if (!named.has(register)) return `a rule ${ruleText(rule)} for register ${register}, which readelf does not list`;
  }
  return undefined;
}
