// The model (readDwarf, describeType, typeName, findVariable, hasLocalOfType) on fixtures compiled
// here with gcc 12, checked against the ELF symbol table and llvm-dwarfdump, and the type
// comparison the emitter relies on: a changed struct gives a different layout string, an unchanged
// one the same string across separate compilations, DWARF versions and optimization levels.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfFile } from '@katana/elf';
import { describeType, findType, findVariable, hasLocalOfType, readDwarf, typeName } from '@katana/dwarf';
import type { CompositeType, DwarfInfo, TypedefType } from '@katana/dwarf';
import { SECTION_FLAGS, VARIANTS, dumpedNumber, fixtures, parseDwarfdump, run, tempDir } from './helpers.js';

interface Build {
  label: string;
  path: string;
  optimized: boolean;
  relocatable: boolean;
  info: DwarfInfo;
  elf: ElfFile;
}

type Ctx = { dir: string; remove: () => void; builds: Build[] };

function buildKinds(ctx: Ctx): void {
  Object.assign(ctx, tempDir());
  ctx.builds = [];
  for (const v of VARIANTS) {
    const object = join(ctx.dir, `kinds-${v.label}.o`);
    run('gcc', ['-c', ...v.flags, ...SECTION_FLAGS, join(fixtures, 'kinds.c'), '-o', object]);
    const exe = join(ctx.dir, `kinds-${v.label}`);
    run('gcc', [...v.flags, ...SECTION_FLAGS, join(fixtures, 'kinds.c'), join(fixtures, 'other.c'), '-o', exe]);
    for (const [path, relocatable] of [[object, true], [exe, false]] as const) {
      const elf = ElfFile.open(path);
      ctx.builds.push({ label: `${v.label} ${relocatable ? '.o' : 'executable'}`, path, optimized: v.label.endsWith('O2'), relocatable, elf, info: readDwarf(elf) });
    }
  }
}

const variables = suite<Ctx>('readDwarf variables');
variables.before(buildKinds);
variables.after((ctx) => ctx.remove());

variables('classifies a global, a file static, a static local and an extern declaration', (ctx) => {
  for (const b of ctx.builds) {
    const counter = findVariable(b.info, 'counter');
    assert.is(counter?.scope, 'file', b.label);
    assert.is(counter?.external, true, b.label);
    assert.is(typeName(counter?.type), 'int', b.label);
    const origin = findVariable(b.info, 'origin');
    assert.is(origin?.scope, 'file', b.label);
    assert.is(origin?.external, false, b.label);
    const count = findVariable(b.info, 'count', { function: 'tick' });
    assert.is(count?.scope, 'static-local', b.label);
    assert.is(count?.function, 'tick', b.label);
    assert.is(findVariable(b.info, 'count'), undefined, `${b.label}: a static local is not at file scope`);
    const declarations = b.info.variables.filter((v) => v.name === 'shared_total' && v.scope === 'extern-declaration');
    assert.is(declarations.length, 1, b.label);
    assert.is(declarations[0]!.location, undefined, b.label);
    // The executable also has other.c's definition, which findVariable prefers.
    assert.is(findVariable(b.info, 'shared_total')?.scope, b.relocatable ? 'extern-declaration' : 'file', b.label);
    assert.is(findVariable(b.info, 'per_thread')?.location?.kind, 'tls', b.label);
  }
});

variables('gives locations as relocation targets in objects and as symbol addresses in executables', (ctx) => {
  for (const b of ctx.builds) {
    const count = findVariable(b.info, 'count', { function: 'tick' })!;
    const counter = findVariable(b.info, 'counter')!;
    if (b.relocatable) {
      assert.equal(counter.location, { kind: 'address', address: 0n, target: { symbol: 'counter', sectionSymbol: false, section: '.data.counter', addend: 0n } }, b.label);
      assert.equal(count.location, { kind: 'address', address: 0n, target: { symbol: '.bss.count.0', sectionSymbol: true, section: '.bss.count.0', addend: 0n } }, b.label);
    } else {
      const symbols = b.elf.symbols();
      assert.is(counter.location?.address, symbols.find((s) => s.name === 'counter')?.value, b.label);
      assert.is(count.location?.address, symbols.find((s) => s.name.startsWith('count.'))?.value, b.label);
      assert.is(count.location?.target, undefined, b.label);
    }
  }
});

variables('finds subprograms with their code ranges, parameters and locals', (ctx) => {
  for (const b of ctx.builds) {
    const tick = b.info.subprograms.filter((s) => s.name === 'tick' && s.ranges.length > 0);
    assert.is(tick.length, 1, b.label);
    assert.is(tick[0]!.external, true, b.label);
    assert.ok(tick[0]!.declFile?.endsWith('kinds.c'), b.label);
    if (b.relocatable) assert.is(tick[0]!.lowPcTarget?.symbol, '.text.tick', b.label);
    else assert.is(tick[0]!.lowPc, b.elf.symbols().find((s) => s.name === 'tick')?.value, b.label);
    assert.is(tick[0]!.highPc! - tick[0]!.lowPc!, BigInt(b.elf.symbols().find((s) => s.name === 'tick')!.size), b.label);
    assert.ok(hasLocalOfType(b.info, 'walk', 'struct point'), b.label);
    assert.ok(hasLocalOfType(b.info, 'tick', 'struct point'), b.label);
    assert.not.ok(hasLocalOfType(b.info, 'on_change', 'struct point'), b.label);
    assert.equal(b.info.subprograms.find((s) => s.name === 'on_change')!.parameters.map((p) => `${typeName(p.type)} ${p.name}`), ['int n', 'const char * why'], b.label);
    // At -O2 walk and tick are inlined into main: main's frame then holds their locals.
    assert.is(hasLocalOfType(b.info, 'main', 'struct point'), b.optimized, b.label);
  }
});

variables('reads split functions and unit ranges from range lists like llvm-dwarfdump', (ctx) => {
  for (const b of ctx.builds) {
    const unit = b.info.units.find((u) => u.name?.endsWith('kinds.c'))!;
    const cuText = run('llvm-dwarfdump', ['--debug-info', b.path]).split('DW_TAG_compile_unit')[1]!.split('\n\n')[0]!;
    const dumped = [...cuText.matchAll(/\[0x([0-9a-f]+), 0x([0-9a-f]+)\)/g)].map((m) => `${BigInt('0x' + m[1])}-${BigInt('0x' + m[2])}`);
    const mine = unit.ranges.map((r) => `${r.low}-${r.high}`);
    if (dumped.length > 0) assert.equal(mine, dumped, b.label);
    else assert.equal(mine, [`${unit.lowPc}-${unit.ranges[0]?.high}`], b.label);
    const checked = b.info.subprograms.find((s) => s.name === 'checked' && s.ranges.length > 0)!;
    if (!b.optimized) continue;
    assert.is(checked.ranges.length, 2, `${b.label}: checked and checked.cold`);
    if (b.relocatable) {
      assert.equal(checked.ranges.map((r) => r.target?.symbol), ['.text.checked', '.text.unlikely.checked'], b.label);
    } else {
      const symbols = b.elf.symbols();
      const at = (name: string): bigint | undefined => symbols.find((s) => s.name === name)?.value;
      assert.equal(checked.ranges.map((r) => r.low), [at('checked'), at('checked.cold')], b.label);
    }
  }
});

const types = suite<Ctx>('readDwarf types and describeType');
types.before(buildKinds);
types.after((ctx) => ctx.remove());

types('describes layouts recursively, pointers by name, bit fields by bit', (ctx) => {
  for (const b of ctx.builds) {
    assert.is(describeType(findType(b.info, 'struct point')), 'struct point{x@0:int(4);y@4:int(4)}(8)', b.label);
    assert.is(describeType(findVariable(b.info, 'list_head')?.type), 'struct node{value@0:int(4);next@8:struct node *(8)}(16)', b.label);
    assert.is(describeType(findVariable(b.info, 'settings')?.type),
      'struct flags{a@0.0/3:unsigned int(4);b@0.3/5:unsigned int(4);c@1.0/2:signed char(1);wide@8:long unsigned int(8)}(16)', b.label);
    assert.is(describeType(findType(b.info, 'enum color')), 'enum color{RED=0;GREEN=5;BLUE=6}(4)', b.label);
    assert.is(describeType(findVariable(b.info, 'handler')?.type), 'callback_t=int (*)(int, const char *)(8)', b.label);
  }
});

types('spells types the C way', (ctx) => {
  for (const b of ctx.builds) {
    const record = findType(b.info, 'struct record') as CompositeType;
    const member = (name: string): string => typeName(record.members.find((m) => m.name === name)?.type);
    assert.is(member('name'), 'const char [16]', b.label);
    assert.is(member('hits'), 'volatile int', b.label);
    assert.is(member('corners'), 'point_t [2][3]', b.label);
    assert.is(member('head'), 'struct node *', b.label);
    assert.is(member('tail'), 'char []', b.label);
    assert.is(typeName(findVariable(b.info, 'records')?.type), 'struct record [4]', b.label);
    assert.is(typeName(findVariable(b.info, 'greeting')?.type), 'const char *const', b.label);
    const callback = findType(b.info, 'callback_t') as TypedefType;
    assert.is(typeName(callback.type), 'int (*)(int, const char *)', b.label);
  }
});

types('member offsets and sizes equal llvm-dwarfdump', (ctx) => {
  for (const b of ctx.builds) {
    const dumped = new Map(parseDwarfdump(run('llvm-dwarfdump', ['--debug-info', b.path])).map((d) => [d.offset, d]));
    let checked = 0;
    for (const unit of b.info.units) {
      for (const type of unit.types) {
        const die = dumped.get(type.offset)!;
        if ('byteSize' in type) assert.is(type.byteSize, dumpedNumber(die.attributes.get('DW_AT_byte_size')), `${b.label} 0x${type.offset.toString(16)}`);
        if (type.kind !== 'structure' && type.kind !== 'union') continue;
        const memberDies = b.info.dieAt(type.offset)!.children.filter((c) => c.tag === 0x0d).map((c) => dumped.get(c.offset)!);
        assert.is(type.members.length, memberDies.length, b.label);
        type.members.forEach((m, i) => {
          const d = memberDies[i]!;
          const location = dumpedNumber(d.attributes.get('DW_AT_data_member_location'));
          const dataBitOffset = dumpedNumber(d.attributes.get('DW_AT_data_bit_offset'));
          if (location !== undefined && m.bitSize === undefined) assert.is(m.offset, location, `${b.label} ${m.name}`);
          if (dataBitOffset !== undefined) assert.is(m.bitOffset, dataBitOffset, `${b.label} ${m.name}`);
          assert.is(m.bitSize, dumpedNumber(d.attributes.get('DW_AT_bit_size')), `${b.label} ${m.name}`);
          checked++;
        });
      }
    }
    assert.ok(checked >= 20, `${b.label}: only ${checked} members checked`);
  }
});

types('gives every variable the same layout string under DWARF 4 and 5, -O0 and -O2, .o and executable', (ctx) => {
  const layouts = (info: DwarfInfo): Record<string, string> =>
    Object.fromEntries(info.variables.filter((v) => v.scope !== 'extern-declaration' && v.unit.name?.endsWith('kinds.c')).map((v) => [`${v.function ?? ''}:${v.name}`, describeType(v.type)]));
  const reference = layouts(ctx.builds[0]!.info);
  for (const b of ctx.builds) assert.equal(layouts(b.info), reference, b.label);
});

const versions = suite<{ dir: string; remove: () => void }>('describeType across two builds');
versions.before((ctx) => {
  Object.assign(ctx, tempDir());
});
versions.after((ctx) => ctx.remove());

versions('a changed struct differs, an unchanged one is equal, across separate compilations', (ctx) => {
  const compile = (source: string, out: string): DwarfInfo => {
    mkdirSync(join(ctx.dir, out), { recursive: true });
    const object = join(ctx.dir, out, 'config.o');
    run('gcc', ['-c', '-g', ...SECTION_FLAGS, join(fixtures, source, 'config.c'), '-o', object], join(ctx.dir, out));
    return readDwarf(ElfFile.open(object));
  };
  const v1 = compile('v1', 'a');
  const v1again = compile('v1', 'b');
  const v2 = compile('v2', 'c');
  const layout = (info: DwarfInfo, name: string): string => describeType(findVariable(info, name)!.type);
  assert.is(layout(v1, 'config'), 'struct config{port@0:int(4);host@4:char(1)[32]}(36)');
  assert.is(layout(v2, 'config'), 'struct config{port@0:int(4);timeout@4:int(4);host@8:char(1)[32]}(40)');
  assert.is.not(layout(v1, 'config'), layout(v2, 'config'));
  assert.is(layout(v1, 'stats'), layout(v2, 'stats'));
  assert.is(layout(v1, 'config'), layout(v1again, 'config'));
  assert.is(layout(v1, 'stats'), layout(v1again, 'stats'));
});

variables.run();
types.run();
versions.run();
