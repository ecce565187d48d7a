// Mutation test (after Go's debug/elf fuzz_test.go): real files truncated at many lengths and with
// bytes overwritten at many positions (a deterministic loop, no randomness) must either parse and
// decode completely, or fail with ElfFormatError: never a RangeError, TypeError or a hang.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ElfFile, ElfFormatError, PT_LOAD, SHT_DYNSYM, SHT_GNU_verdef, SHT_GNU_verneed, SHT_GNU_versym, SHT_NOTE, SHT_RELA,
} from '../src/index.js';
import { buildFixtures } from './fixtures.js';

const fx = buildFixtures();

/** Parses `bytes` and decodes everything the API offers; returns 'ok', or 'format' for ElfFormatError. */
function exercise(bytes: Uint8Array): 'ok' | 'format' {
  try {
    const elf = ElfFile.parse(bytes, 'mutant');
    elf.symbols();
    elf.dynamicSymbols();
    for (const s of elf.sections) {
      elf.relocationsFor(s);
      s.data();
    }
    elf.notes();
    elf.buildId();
    const load = elf.segments.find((p) => p.type === PT_LOAD);
    if (load !== undefined && load.memsz > 0) elf.readAt(load.vaddr, 1);
    return 'ok';
  } catch (e) {
    if (e instanceof ElfFormatError) return 'format';
    throw new Error(`a mutant raised ${(e as Error).name}, not ElfFormatError: ${(e as Error).message}`, { cause: e });
  }
}

/** The overwrites tried at each position. */
const values = [() => 0x00, () => 0xff, () => 0x7f, (b: number) => b ^ 0x55, (b: number) => (b + 1) & 0xff];

/** Outcomes of the mutants tried so far. */
interface Tally {
  ok: number;
  format: number;
}

/** Overwrites every `step`-th byte of [start, end) with each of `values`, one at a time, counting outcomes. */
function overwriteAll(orig: Uint8Array, start: number, end: number, step: number, tally: Tally): void {
  const bytes = new Uint8Array(orig);
  for (let at = start; at < end; at += step) {
    for (const v of values) {
      bytes[at] = v(orig[at]!);
      tally[exercise(bytes)]++;
    }
    bytes[at] = orig[at]!;
  }
}

const mutate = suite('mutations');

mutate('the unmodified files decode completely', () => {
  for (const path of [fx.object, fx.nopie, fx.shared, fx.stripped]) assert.is(exercise(readFileSync(path)), 'ok', path);
});

mutate('an object truncated at every length fails only with ElfFormatError', () => {
  const orig = readFileSync(fx.object);
  const tally: Tally = { ok: 0, format: 0 };
  for (let len = 0; len < orig.length; len += 7) tally[exercise(orig.subarray(0, len))]++;
  assert.ok(tally.format > 0, JSON.stringify(tally));
});

mutate('an object with header, section headers, symbols and relocations overwritten fails only with ElfFormatError', () => {
  const orig = new Uint8Array(readFileSync(fx.object));
  const elf = ElfFile.parse(orig);
  const tally: Tally = { ok: 0, format: 0 };
  overwriteAll(orig, 0, 64, 1, tally);
  overwriteAll(orig, elf.header.shoff, orig.length, 1, tally);
  const symtab = elf.section('.symtab')!;
  overwriteAll(orig, symtab.offset, symtab.offset + symtab.size, 3, tally);
  for (const rela of elf.sections.filter((s) => s.type === SHT_RELA).slice(0, 4)) {
    overwriteAll(orig, rela.offset, rela.offset + rela.size, 1, tally);
  }
  overwriteAll(orig, 0, orig.length, 13, tally);
  assert.ok(tally.format > 100, `many mutants are rejected: ${JSON.stringify(tally)}`);
  assert.ok(tally.ok > 100, `many mutants still decode: ${JSON.stringify(tally)}`);
});

mutate('an executable with its headers, dynamic symbols and version sections overwritten fails only with ElfFormatError', () => {
  const orig = new Uint8Array(readFileSync(fx.nopie));
  const elf = ElfFile.parse(orig);
  const tally: Tally = { ok: 0, format: 0 };
  overwriteAll(orig, 0, 64 + elf.header.phnum * 56, 1, tally);
  overwriteAll(orig, elf.header.shoff, orig.length, 2, tally);
  const decoded = [SHT_DYNSYM, SHT_GNU_versym, SHT_GNU_verneed, SHT_GNU_verdef, SHT_NOTE];
  for (const s of elf.sections.filter((x) => decoded.includes(x.type))) overwriteAll(orig, s.offset, s.offset + s.size, 1, tally);
  assert.ok(tally.format > 100, `many mutants are rejected: ${JSON.stringify(tally)}`);
});

mutate('a shared library truncated at many lengths fails only with ElfFormatError', () => {
  const orig = readFileSync(fx.shared);
  const tally: Tally = { ok: 0, format: 0 };
  for (let len = 0; len < orig.length; len += 11) tally[exercise(orig.subarray(0, len))]++;
  assert.ok(tally.format > 0, JSON.stringify(tally));
});

mutate.run();
