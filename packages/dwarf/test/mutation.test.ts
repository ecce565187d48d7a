// Mutation test (after Go's debug/dwarf fuzz tests): corrupted and truncated DWARF sections of
// real gcc output must give a DwarfFormatError or a model, never a RangeError, TypeError or stack
// overflow. Mutations come from a fixed-seed generator so a failure reproduces.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfFile } from '@katana/elf';
import { DwarfFormatError, describeType, readDwarf, typeName } from '@katana/dwarf';
import { SECTION_FLAGS, fixtures, run, tempDir } from './helpers.js';

/** xorshift32: a small deterministic generator. */
function generator(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** Reads and describes everything; returns 'ok' or 'error', throwing anything that is not a DwarfFormatError. */
function readAll(bytes: Uint8Array, what: string): 'ok' | 'error' {
  try {
    const info = readDwarf(ElfFile.parse(bytes));
    for (const unit of info.units) for (const t of unit.types) describeType(t), typeName(t);
    for (const v of info.variables) describeType(v.type), typeName(v.type);
    return 'ok';
  } catch (error) {
    if (error instanceof DwarfFormatError) return 'error';
    throw new Error(`${what}: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
  }
}

const SECTIONS = ['.debug_info', '.debug_abbrev', '.debug_line', '.debug_rnglists', '.debug_str_offsets'];

const mutation = suite<{ dir: string; remove: () => void; files: { label: string; bytes: Uint8Array }[] }>('readDwarf on corrupted input');

mutation.before((ctx) => {
  Object.assign(ctx, tempDir());
  ctx.files = [];
  for (const [label, flags] of [['dwarf5-O2', ['-g', '-O2']], ['dwarf4-O0', ['-g', '-gdwarf-4', '-O0']]] as const) {
    const object = join(ctx.dir, `kinds-${label}.o`);
    run('gcc', ['-c', ...flags, ...SECTION_FLAGS, join(fixtures, 'kinds.c'), '-o', object]);
    const exe = join(ctx.dir, `kinds-${label}`);
    run('gcc', [...flags, ...SECTION_FLAGS, join(fixtures, 'kinds.c'), join(fixtures, 'other.c'), '-o', exe]);
    ctx.files.push({ label: `${label}.o`, bytes: readFileSync(object) }, { label, bytes: readFileSync(exe) });
  }
});

mutation.after((ctx) => ctx.remove());

mutation('flipped bytes in debug sections give DwarfFormatError or a model', (ctx) => {
  const next = generator(0x6b61746e);
  let errors = 0;
  for (const { label, bytes } of ctx.files) {
    assert.is(readAll(bytes, label), 'ok', `${label} reads cleanly before mutation`);
    const elf = ElfFile.parse(bytes);
    for (const name of SECTIONS) {
      const section = elf.section(name);
      if (!section || section.size === 0) continue;
      for (let round = 0; round < 200; round++) {
        const mutated = bytes.slice();
        for (let k = 1 + next(4); k > 0; k--) {
          const at = section.offset + next(section.size);
          mutated[at] = next(3) === 0 ? 0xff : next(256);
        }
        if (readAll(mutated, `${label} ${name} round ${round}`) === 'error') errors++;
      }
    }
  }
  assert.ok(errors > 50, `only ${errors} mutations were detected as errors`);
});

mutation('truncated debug sections give DwarfFormatError or a model', (ctx) => {
  const next = generator(0x64776172);
  for (const { label, bytes } of ctx.files) {
    const elf = ElfFile.parse(bytes);
    for (const name of SECTIONS) {
      const section = elf.section(name);
      if (!section || section.size === 0) continue;
      // sh_size is at byte 32 of an Elf64_Shdr (gABI "Section Header").
      const sizeAt = elf.header.shoff + section.index * 64 + 32;
      for (let round = 0; round < 60; round++) {
        const mutated = bytes.slice();
        const size = round === 0 ? 0 : next(section.size);
        new DataView(mutated.buffer, mutated.byteOffset).setBigUint64(sizeAt, BigInt(size), true);
        readAll(mutated, `${label} ${name} truncated to ${size}`);
      }
    }
  }
});

mutation.run();
