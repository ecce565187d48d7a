// Cross-checks the DIE layer (read/info.ts, read/form.ts, sections.ts) against llvm-dwarfdump and
// readelf on fixtures compiled here with gcc 12: DWARF 5 and 4, -O0 and -O2, as relocatable objects
// (whose .rela.debug_* must be applied) and as linked executables.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfFile } from '@katana/elf';
import {
  atName, attr, loadDebugSections, readUnits, tagName, DW_AT_name, DW_AT_byte_size,
  DW_AT_data_member_location, DW_AT_data_bit_offset, DW_AT_bit_size, DW_AT_decl_line,
  DW_AT_upper_bound, DW_AT_count,
} from '@katana/dwarf';
import type { Die, Unit } from '@katana/dwarf';
import {
  SECTION_FLAGS, VARIANTS, dumpedNumber, dumpedString, fixtures, parseDwarfdump, parseReadelf, run, tempDir,
} from './helpers.js';

/** Every DIE of the units in DIE order, with its nesting level. */
function allDies(units: Unit[]): { die: Die; level: number }[] {
  const out: { die: Die; level: number }[] = [];
  const visit = (die: Die, level: number): void => {
    out.push({ die, level });
    for (const child of die.children) visit(child, level + 1);
  };
  for (const unit of units) visit(unit.root, 0);
  return out;
}

const NUMERIC = [DW_AT_byte_size, DW_AT_data_member_location, DW_AT_data_bit_offset, DW_AT_bit_size, DW_AT_decl_line, DW_AT_upper_bound, DW_AT_count];

const files = suite<{ dir: string; remove: () => void; built: { label: string; path: string }[] }>('readUnits vs llvm-dwarfdump and readelf');

files.before((ctx) => {
  Object.assign(ctx, tempDir());
  ctx.built = [];
  for (const v of VARIANTS) {
    const object = join(ctx.dir, `kinds-${v.label}.o`);
    run('gcc', ['-c', ...v.flags, ...SECTION_FLAGS, join(fixtures, 'kinds.c'), '-o', object]);
    const exe = join(ctx.dir, `kinds-${v.label}`);
    run('gcc', [...v.flags, ...SECTION_FLAGS, join(fixtures, 'kinds.c'), join(fixtures, 'other.c'), '-o', exe]);
    ctx.built.push({ label: `${v.label} .o`, path: object }, { label: `${v.label} executable`, path: exe });
  }
});

files.after((ctx) => ctx.remove());

files('reads the same DIEs (offset, tag, name) as llvm-dwarfdump', (ctx) => {
  for (const { label, path } of ctx.built) {
    const mine = allDies(readUnits(loadDebugSections(ElfFile.open(path))))
      .map(({ die }) => `${die.offset.toString(16)} ${tagName(die.tag)} ${attr(die, DW_AT_name)?.value.value ?? ''}`);
    const theirs = parseDwarfdump(run('llvm-dwarfdump', ['--debug-info', path]))
      .map((d) => `${d.offset.toString(16)} ${d.tag} ${dumpedString(d.attributes.get('DW_AT_name')) ?? ''}`);
    assert.ok(mine.length > 50, `${label}: only ${mine.length} DIEs`);
    assert.equal(mine, theirs, label);
  }
});

files('reads the same attributes, and the same constants, as llvm-dwarfdump', (ctx) => {
  for (const { label, path } of ctx.built) {
    const theirs = new Map(parseDwarfdump(run('llvm-dwarfdump', ['--debug-info', path])).map((d) => [d.offset, d]));
    for (const { die } of allDies(readUnits(loadDebugSections(ElfFile.open(path))))) {
      const dumped = theirs.get(die.offset)!;
      assert.equal(die.attributes.map((a) => atName(a.name)), [...dumped.attributes.keys()], `${label} DIE 0x${die.offset.toString(16)}`);
      for (const name of NUMERIC) {
        const a = attr(die, name);
        if (a?.value.class !== 'constant') continue;
        assert.is(Number(a.value.value), dumpedNumber(dumped.attributes.get(atName(name))), `${label} DIE 0x${die.offset.toString(16)} ${atName(name)}`);
      }
    }
  }
});

files('places DIEs and attributes at the offsets and levels readelf prints', (ctx) => {
  for (const { label, path } of ctx.built) {
    const mine = allDies(readUnits(loadDebugSections(ElfFile.open(path)))).map(({ die, level }) => ({
      offset: die.offset as number, level, tag: tagName(die.tag),
      attributes: die.attributes.map((a) => ({ offset: a.offset, name: atName(a.name) })),
    }));
    assert.equal(mine, parseReadelf(run('readelf', ['--debug-dump=info', '-W', path])), label);
  }
});

files('applies .rela.debug_info in objects: low_pc of each function targets its .text.<function> section', (ctx) => {
  for (const { label, path } of ctx.built.filter((b) => b.label.endsWith('.o'))) {
    const elf = ElfFile.open(path);
    const lows = allDies(readUnits(loadDebugSections(elf))).map(({ die }) => die)
      .filter((d) => tagName(d.tag) === 'DW_TAG_subprogram')
      .flatMap((d) => d.attributes.filter((a) => atName(a.name) === 'DW_AT_low_pc').map((a) => a.value));
    const targets = lows.map((v) => (v.class === 'address' ? v.target?.symbol : undefined)).sort();
    // At -O2 checked is split into .text.checked and .text.unlikely.checked: it has DW_AT_ranges instead.
    const expected = label.includes('O2')
      ? ['.text.on_change', '.text.tick', '.text.walk', '.text.startup.main'].sort()
      : ['.text.checked', '.text.on_change', '.text.tick', '.text.walk', '.text.main'].sort();
    assert.equal(targets, expected, label);
    for (const v of lows) {
      const target = v.class === 'address' ? v.target : undefined;
      assert.ok(v.class === 'address' && v.value === 0n, `${label}: low_pc of a .o function is section-relative 0`);
      assert.ok(target?.sectionSymbol && target.section === target.symbol && target.addend === 0n, label);
      assert.ok(elf.section(target!.symbol), `${label}: ${target!.symbol} is a section of the object`);
    }
  }
});

files.run();
