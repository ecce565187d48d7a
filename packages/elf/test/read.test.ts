// ElfFile against the readelf oracle: every header field, section, program header, symbol and
// relocation of sample.c compiled as an object, non-PIE, PIE, static and shared executable and a
// stripped copy, plus the system libc; then the behaviours other packages rely on (versions,
// file attribution of locals, relocationsFor, readAt, notes) and the errors for foreign files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ElfFile, ElfFormatError, ElfIoError, SHN_ABS, SHN_COMMON, SHN_UNDEF, STT_SECTION, STB_LOCAL, STB_GLOBAL,
  STT_FILE, SHT_SYMTAB, relocTypeName, shtName, sttName, stbName, stvName, ptName, etName, isKatanaError,
  readBuildId, PT_LOAD, toSafeNumber, type ElfSymbol,
} from '../src/index.js';
import { buildFixtures, run, tempDir } from './fixtures.js';
import {
  flagLetters, readelfBuildId, readelfHeader, readelfRelocations, readelfSections, readelfSegments, readelfSymbols,
} from './readelf.js';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const fx = buildFixtures();
const forms: [string, string][] = [
  ['relocatable object', fx.object], ['non-PIE executable', fx.nopie], ['PIE executable', fx.pie],
  ['static executable', fx.static], ['shared library', fx.shared], ['stripped executable', fx.stripped],
  ['libc.so.6', LIBC],
];

/** readelf's spelling of a section type. */
function readelfType(type: number): string {
  const special: Record<string, string> = { SHT_GNU_versym: 'VERSYM', SHT_GNU_verdef: 'VERDEF', SHT_GNU_verneed: 'VERNEED' };
  const name = shtName(type);
  return special[name] ?? name.replace(/^SHT_/, '');
}

/** readelf's spelling of a symbol's Ndx column. */
function readelfNdx(shndx: number): string {
  if (shndx === SHN_UNDEF) return 'UND';
  if (shndx === SHN_ABS) return 'ABS';
  if (shndx === SHN_COMMON) return 'COM';
  return String(shndx);
}

/** The name readelf prints for a symbol: section name for STT_SECTION, `@VER`/`@@VER` for dynsym. */
function readelfName(elf: ElfFile, s: ElfSymbol): string {
  if (s.type === STT_SECTION && s.name === '') return elf.sections[s.shndx]!.name;
  // The symbol a version definition carries (GLIBC_2.10 in version GLIBC_2.10) prints bare.
  if (s.version === undefined || (s.version === s.name && s.shndx === SHN_ABS)) return s.name;
  return `${s.name}@${s.versionHidden || s.versionFile !== undefined ? '' : '@'}${s.version}`;
}

function compareSymbols(elf: ElfFile, mine: ElfSymbol[], theirs: { index: number; value: bigint; size: number; type: string; bind: string; vis: string; ndx: string; name: string }[], table: string): void {
  assert.is(mine.length, theirs.length, `${table} symbol count`);
  for (let i = 0; i < mine.length; i++) {
    const s = mine[i]!;
    const r = theirs[i]!;
    const what = `${table}[${i}] ${r.name}`;
    assert.is(s.index, r.index, what);
    assert.is(s.value, r.value, `${what} value`);
    assert.is(s.size, r.size, `${what} size`);
    assert.is(sttName(s.type).replace('STT_GNU_', 'STT_').replace('STT_', ''), r.type, `${what} type`);
    assert.is(stbName(s.bind).replace('STB_GNU_', 'STB_').replace('STB_', ''), r.bind, `${what} bind`);
    assert.is(stvName(s.visibility).replace('STV_', ''), r.vis, `${what} visibility`);
    assert.is(readelfNdx(s.shndx), r.ndx, `${what} ndx`);
    assert.is(readelfName(elf, s), r.name.replace(/ \(\d+\)$/, ''), `${what} name`);
  }
}

const oracle = suite('ElfFile vs readelf');

for (const [label, path] of forms) {
  oracle(`${label}: header, sections, segments, symbols and relocations match readelf -W`, () => {
    const elf = ElfFile.open(path);
    const h = readelfHeader(path);
    assert.is(etName(elf.header.type).replace('ET_', ''), h.get('Type')!.split(' ')[0]);
    assert.ok(h.get('Machine')!.includes('X86-64'));
    assert.is(elf.header.entry, BigInt(h.get('Entry point address')!));
    assert.is(elf.header.phoff, parseInt(h.get('Start of program headers')!, 10));
    assert.is(elf.header.shoff, parseInt(h.get('Start of section headers')!, 10));
    assert.is(elf.header.flags, Number(h.get('Flags')));
    assert.is(elf.header.phnum, Number(h.get('Number of program headers')));
    assert.is(elf.header.shnum, Number(h.get('Number of section headers')));
    assert.is(elf.header.shstrndx, Number(h.get('Section header string table index')));

    const sections = readelfSections(path);
    assert.is(elf.sections.length, sections.length, 'section count');
    for (const r of sections) {
      const s = elf.sections[r.index]!;
      const what = `section [${r.index}] ${r.name}`;
      assert.is(s.name, r.name, what);
      assert.is(readelfType(s.type), r.type, `${what} type`);
      assert.is(s.addr, r.addr, `${what} addr`);
      assert.is(s.offset, r.offset, `${what} offset`);
      assert.is(s.size, r.size, `${what} size`);
      assert.is(s.entsize, r.entsize, `${what} entsize`);
      assert.is(flagLetters(s.flags), r.flags.split('').sort().join(''), `${what} flags`);
      assert.is(s.link, r.link, `${what} link`);
      assert.is(s.info, r.info, `${what} info`);
      assert.is(s.addralign, r.align, `${what} align`);
    }

    const segments = readelfSegments(path);
    assert.is(elf.segments.length, segments.length, 'segment count');
    elf.segments.forEach((p, i) => {
      const r = segments[i]!;
      assert.is(ptName(p.type).replace('PT_', ''), r.type, `segment ${i} type`);
      assert.is(p.offset, r.offset, `segment ${i} offset`);
      assert.is(p.vaddr, r.vaddr, `segment ${i} vaddr`);
      assert.is(p.paddr, r.paddr, `segment ${i} paddr`);
      assert.is(p.filesz, r.filesz, `segment ${i} filesz`);
      assert.is(p.memsz, r.memsz, `segment ${i} memsz`);
      assert.is(`${p.flags & 4 ? 'R' : ' '}${p.flags & 2 ? 'W' : ' '}${p.flags & 1 ? 'E' : ' '}`, r.flags, `segment ${i} flags`);
      assert.is(p.align, r.align, `segment ${i} align`);
    });

    const tables = readelfSymbols(path);
    compareSymbols(elf, elf.symbols(), tables.get('.symtab') ?? [], '.symtab');
    compareSymbols(elf, elf.dynamicSymbols(), tables.get('.dynsym') ?? [], '.dynsym');

    const relocs = readelfRelocations(path);
    const relaSections = elf.sections.filter((s) => s.type === 4);
    const relaNames = [...relocs.keys()].filter((name) => elf.section(name)?.type === 4);
    assert.equal(relaSections.map((s) => s.name), relaNames, 'SHT_RELA sections');
    for (const rela of relaSections) {
      const theirs = relocs.get(rela.name)!;
      const mine = elf.relocations(rela);
      const table = elf.sections[rela.link];
      const symbols = table === undefined || rela.link === 0 ? [] : table.type === SHT_SYMTAB ? elf.symbols() : elf.dynamicSymbols();
      assert.is(mine.length, theirs.length, `${rela.name} count`);
      mine.forEach((m, i) => {
        const r = theirs[i]!;
        const what = `${rela.name}[${i}]`;
        assert.is(m.offset, r.offset, `${what} offset`);
        assert.is((BigInt(m.symbolIndex) << 32n) | BigInt(m.type), r.info, `${what} info`);
        assert.is(relocTypeName(m.type), r.type, `${what} type`);
        assert.is(m.addend, r.addend, `${what} addend`);
        if (m.symbolIndex !== 0) {
          assert.is(readelfName(elf, symbols[m.symbolIndex]!).replace(/@.*$/, ''), r.symbolName!.replace(/@.*$/, ''), `${what} symbol`);
        }
      });
    }
  });
}
oracle.run();

const versions = suite('dynamicSymbols');

versions('gives libc puts the default version GLIBC_2.2.5', () => {
  const puts = ElfFile.open(LIBC).dynamicSymbols().filter((s) => s.name === 'puts');
  assert.is(puts.length, 1);
  assert.is(puts[0]!.version, 'GLIBC_2.2.5');
  assert.is(puts[0]!.versionHidden, false);
});

versions('marks the old memcpy@GLIBC_2.2.5 hidden and memcpy@@GLIBC_2.14 default', () => {
  const memcpy = ElfFile.open(LIBC).dynamicSymbols().filter((s) => s.name === 'memcpy');
  assert.equal(memcpy.map((s) => `${s.version}:${s.versionHidden}`).sort(), ['GLIBC_2.14:false', 'GLIBC_2.2.5:true']);
});

versions('names the versions an executable needs', () => {
  const puts = ElfFile.open(fx.nopie).dynamicSymbols().find((s) => s.name === 'puts');
  assert.is(puts?.shndx, SHN_UNDEF);
  assert.is(puts?.version, 'GLIBC_2.2.5');
  assert.is(puts?.versionFile, 'libc.so.6');
});

versions('is cached', () => {
  const elf = ElfFile.open(LIBC);
  assert.is(elf.dynamicSymbols(), elf.dynamicSymbols());
  assert.is(elf.symbols(), elf.symbols());
});

versions.run();

const symbols = suite('symbols');

symbols('attributes each local of an object to its STT_FILE', () => {
  const syms = ElfFile.open(fx.object).symbols();
  const file = syms.find((s) => s.type === STT_FILE)!;
  assert.is(file.name, 'sample.c');
  for (const name of ['bump', 'counter', 'twice']) assert.is(syms.find((s) => s.name === name)?.file, 'sample.c', name);
  assert.ok(syms.some((s) => /^count\.\d+$/.test(s.name) && s.file === 'sample.c'), 'renamed static local count.N');
  for (const s of syms.filter((x) => x.bind !== STB_LOCAL)) assert.is(s.file, undefined, s.name);
});

symbols('attributes locals of a linked executable to their own file', () => {
  const syms = ElfFile.open(fx.nopie).symbols();
  assert.is(syms.find((s) => s.name === 'bump')?.file, 'sample.c');
  assert.is(syms.find((s) => s.name === 'deregister_tm_clones')?.file, 'crtstuff.c');
  assert.is(syms.find((s) => s.name === '_DYNAMIC')?.file, undefined, 'linker locals follow an empty STT_FILE');
});

symbols('returns [] for a stripped file', () => {
  const elf = ElfFile.open(fx.stripped);
  assert.equal(elf.symbols(), []);
  assert.ok(elf.dynamicSymbols().length > 0);
});

symbols.run();

const relocationsFor = suite('relocationsFor');

relocationsFor('gives the relocations of a function section of an object', () => {
  const elf = ElfFile.open(fx.object);
  const main = elf.section('.text.startup.main')!;
  const relocs = elf.relocationsFor(main);
  const syms = elf.symbols();
  const names = relocs.map((r) => `${relocTypeName(r.type)} ${syms[r.symbolIndex]!.name}`);
  assert.ok(names.includes('R_X86_64_PLT32 puts'), names.join(', '));
  assert.ok(names.includes('R_X86_64_PC32 ops'), names.join(', '));
});

relocationsFor('gives [] for a section nothing relocates, and for the null section', () => {
  const elf = ElfFile.open(fx.object);
  assert.equal(elf.relocationsFor(elf.section('.strtab')!), []);
  assert.equal(elf.relocationsFor(elf.sections[0]!), []);
});

relocationsFor.run();

const readAt = suite('readAt');

readAt('reads a function at its link-time address', () => {
  for (const path of [fx.nopie, fx.pie, fx.static]) {
    const elf = ElfFile.open(path);
    const main = elf.symbols().find((s) => s.name === 'main' && s.bind === STB_GLOBAL)!;
    const text = elf.sections[main.shndx]!;
    const expected = text.data().subarray(Number(main.value - text.addr), Number(main.value - text.addr) + main.size);
    assert.equal(elf.readAt(main.value, main.size), expected, path);
    assert.is(elf.segmentAt(main.value)?.type, PT_LOAD);
  }
});

readAt('reads zeros past the file bytes of a segment (.bss)', () => {
  const elf = ElfFile.open(fx.nopie);
  const zeroed = elf.symbols().find((s) => s.name === 'zeroed')!;
  assert.equal(elf.readAt(zeroed.value, 32), new Uint8Array(32));
});

readAt('throws ElfFormatError for an address no PT_LOAD holds', () => {
  const elf = ElfFile.open(fx.nopie);
  assert.throws(() => elf.readAt(0x10n, 4), (e: unknown) => e instanceof ElfFormatError && /no PT_LOAD/.test((e as Error).message));
  assert.is(elf.segmentAt(0x10n), undefined);
  const last = elf.segments.filter((p) => p.type === PT_LOAD).at(-1)!;
  assert.throws(() => elf.readAt(last.vaddr, last.memsz + 1), (e: unknown) => e instanceof ElfFormatError);
});

readAt.run();

const notes = suite('notes and build-id');

notes('buildId() and readBuildId() equal readelf -n for every linked form', () => {
  for (const path of [fx.nopie, fx.pie, fx.static, fx.shared, fx.stripped, LIBC]) {
    const expected = readelfBuildId(path);
    assert.ok(expected, `readelf finds a build-id in ${path}`);
    assert.is(ElfFile.open(path).buildId(), expected, path);
    assert.is(readBuildId(path), expected, path);
  }
});

notes('reads GNU property notes aligned to 8 and the ABI tag', () => {
  const types = ElfFile.open(fx.nopie).notes().map((n) => `${n.name}:${n.type}`);
  assert.ok(types.includes('GNU:5'), types.join(','));
  assert.ok(types.includes('GNU:1'), types.join(','));
});

notes('gives no build-id for an object', () => {
  assert.is(ElfFile.open(fx.object).buildId(), undefined);
  assert.is(readBuildId(fx.object), undefined);
});

notes.run();

const errors = suite('errors');

function patched(path: string, at: number, bytes: number[]): Uint8Array {
  const b = new Uint8Array(readFileSync(path));
  b.set(bytes, at);
  return b;
}

function throwsFormat(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => ElfFile.parse(bytes, 'x.o'), (e: unknown) =>
    e instanceof ElfFormatError && isKatanaError(e) && e.code === 'E_ELF_FORMAT' && pattern.test(e.message));
}

errors('names what a foreign file is', () => {
  throwsFormat(new TextEncoder().encode('#!/bin/sh\necho hi\n'), /^x\.o: .*not an ELF file/);
  throwsFormat(patched(fx.object, 4, [1]), /ELF32/);
  throwsFormat(patched(fx.object, 5, [2]), /big-endian/);
  throwsFormat(patched(fx.object, 18, [183, 0]), /EM_AARCH64 is not x86-64/);
  throwsFormat(readFileSync(fx.object).subarray(0, 40), /too short/);
});

errors('reports a truncated section header table with its offset, like Go', () => {
  const b = readFileSync(fx.object);
  const elf = ElfFile.parse(b);
  try {
    ElfFile.parse(b.subarray(0, elf.header.shoff + 10), 'x.o');
    assert.unreachable('truncated file parsed');
  } catch (e) {
    assert.instance(e, ElfFormatError);
    const err = e as ElfFormatError;
    assert.is(err.offset, elf.header.shoff);
    assert.match(err.message, `x.o: decoding section header table at offset 0x${elf.header.shoff.toString(16)}: `);
  }
});

errors('raises ElfIoError for a missing file', () => {
  const missing = join(tempDir(), 'missing.o');
  assert.throws(() => ElfFile.open(missing), (e: unknown) => e instanceof ElfIoError && e.code === 'E_ELF_IO');
  assert.throws(() => readBuildId(missing), (e: unknown) => e instanceof ElfIoError);
});

errors('toSafeNumber refuses values above Number.MAX_SAFE_INTEGER', () => {
  assert.is(toSafeNumber(42n, 'size'), 42);
  assert.throws(() => toSafeNumber(1n << 60n, 'sh_size', { section: '.text' }), (e: unknown) =>
    e instanceof ElfFormatError && /decoding \.text: sh_size 0x1000000000000000 is too large/.test((e as Error).message));
});

errors('sizes above Number.MAX_SAFE_INTEGER in a section header raise ElfFormatError', () => {
  const b = readFileSync(fx.object);
  const elf = ElfFile.parse(b);
  const at = elf.header.shoff + 64 + 32; // sh_size of section 1
  throwsFormat(patched(fx.object, at, [0, 0, 0, 0, 0, 0, 0, 0x40]), /sh_size 0x4000000000000000 is too large/);
});

errors.run();

const tools = suite('oracle tools');
tools('readelf and objdump are installed', () => {
  assert.match(run('readelf', ['--version']), 'GNU readelf');
  assert.match(run('objdump', ['--version']), 'GNU objdump');
});
tools.run();
