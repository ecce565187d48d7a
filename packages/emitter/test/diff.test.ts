// diffBuilds on real gcc builds of the fixture pairs in test/fixtures/<case>/{v1,v2}.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DW_OP_plus_uconst } from '@katana/dwarf';
import { ElfFile, R_X86_64_IRELATIVE, SHT_RELA, STB_LOCAL, STT_GNU_IFUNC, pltEntry } from '@katana/elf';
import type { PatchObject, PoSymbol } from '@katana/po';
import { diffBuilds, EmitterError, NothingToPatchError, UnsupportedChangeError } from '../src/index.js';
import { build, symbolOf, workspace, type BuildFlags, type Workspace } from './build.js';

const diff = suite<{ ws: Workspace }>('diffBuilds');
diff.before.each((ctx) => {
  ctx.ws = workspace();
});
diff.after.each((ctx) => ctx.ws.dispose());

function patch(ws: Workspace, fixture: string, flags: BuildFlags = {}) {
  const v1 = build(ws, fixture, 'v1', flags);
  const v2 = build(ws, fixture, 'v2', flags);
  return { ...diffBuilds({ old: v1.exe, new: v2.exe, store: ws.store }), v1, v2 };
}

function symbolNamed(po: PatchObject, name: string): PoSymbol {
  const found = po.symbols.find((s) => s.name === name);
  assert.ok(found, `the PO has no symbol ${name}: ${po.symbols.map((s) => s.name).join(', ')}`);
  return found;
}

function patchedNames(po: PatchObject): string[] {
  return po.functions.map((f) => f.name).sort();
}

diff('puts only the changed function in the patch, not its caller', ({ ws }) => {
  const { po, report, v1 } = patch(ws, 'changed_function');
  assert.equal(patchedNames(po), ['compute']);
  assert.equal(report.changed.map((c) => [c.name, c.file]), [['compute', 'util.c']]);
  const old = symbolOf(v1.exe, 'compute');
  const fn = po.functions[0]!;
  assert.equal(fn.replaces, { address: old.value, size: old.size });
  assert.equal(po.unsafe, [{ name: 'compute', address: old.value, size: old.size, redirectTo: fn.symbol }]);
  assert.equal(po.symbols[fn.symbol]!.defined, { section: 'text', offset: 0 });
  assert.equal(po.targetBuildId, ElfFile.open(v1.exe).buildId());
  assert.equal(po.targetName, 'prog');
});

for (const opt of ['-O0', '-O2']) {
  diff(`patches only the function whose string literal changed (${opt})`, ({ ws }) => {
    const { po } = patch(ws, 'string_literal', { opt });
    assert.equal(patchedNames(po), ['hello']);
    const text = new TextDecoder().decode(po.rodata);
    assert.ok(text.includes('hello from v2'), `.rodata.new holds the new string: ${JSON.stringify(text)}`);
    const rel = po.relocations.find((r) => po.symbols[r.symbol]!.defined?.section === 'rodata');
    assert.ok(rel, 'the string is reached through a symbol defined in .rodata.new');
  });
}

diff('refuses an unchanged build with NothingToPatchError', ({ ws }) => {
  const v1 = build(ws, 'changed_function', 'v1');
  assert.throws(() => diffBuilds({ old: v1.exe, new: v1.exe, store: ws.store }), (e: unknown) => e instanceof NothingToPatchError && e.code === 'E_NOTHING_CHANGED' && e.message === 'no function changed between OLD and NEW');
});

diff('binds a renumbered static local to the target storage of the old one', ({ ws }) => {
  const { po, report, v1, v2 } = patch(ws, 'static_local');
  assert.equal(patchedNames(po), ['fresh', 'main', 'tick']);
  // The fixture is only meaningful if gcc did renumber tick's count between v1 and v2.
  const v2Counts = ElfFile.open(`${v2.dir}/main.o`).symbols().filter((s) => s.name.startsWith('count.')).map((s) => s.name);
  assert.equal(v2Counts.sort(), ['count.0', 'count.1']);
  const count = po.symbols.find((s) => s.name === 'count.0' && s.target);
  assert.ok(count, 'the PO refers to the target storage of count.0');
  assert.equal(count.target, { value: symbolOf(v1.exe, 'count.0').value });
  assert.equal(count.file, 'main.c');
  const tick = po.functions.find((f) => f.name === 'tick')!;
  const tickStart = po.symbols[tick.symbol]!.defined!.offset;
  const uses = po.relocations.filter((r) => r.section === 'text' && r.offset >= tickStart && r.offset < tickStart + tick.size);
  assert.ok(uses.length > 0 && uses.every((r) => po.symbols[r.symbol]!.name === 'count.0'), 'tick uses only the old count.0');
  assert.equal(report.newVariables.map((v) => [v.name, v.section]), [['count.0', 'bss']]);
});

diff('gives a new global variable fresh storage initialised in .data.new', ({ ws }) => {
  const { po, report } = patch(ws, 'new_global');
  assert.equal(patchedNames(po), ['step']);
  const total = symbolNamed(po, 'total');
  assert.equal(total.defined?.section, 'data');
  const at = total.defined!.offset;
  assert.equal([...po.data.subarray(at, at + 4)], [42, 0, 0, 0]);
  assert.equal(report.newVariables, [{ name: 'total', file: 'main.c', size: 4, section: 'data' }]);
});

diff('leaves a libc function the old dynamic executable never called to the applier', ({ ws }) => {
  const { po, report } = patch(ws, 'libc_call');
  assert.equal(patchedNames(po), ['report']);
  assert.equal(symbolNamed(po, 'puts').target, {});
  assert.ok(report.externals.includes('puts'));
});

diff('takes libc functions of a static executable from its symbol table', ({ ws }) => {
  const { po, v1 } = patch(ws, 'static_libc', { link: 'static' });
  assert.equal(patchedNames(po), ['report']);
  assert.equal(symbolNamed(po, 'puts').target, { value: symbolOf(v1.exe, 'puts').value });
  assert.equal(symbolNamed(po, 'printf').target, { value: symbolOf(v1.exe, 'printf').value });
});

diff('refuses a library function a static executable does not contain', ({ ws }) => {
  assert.throws(() => patch(ws, 'static_missing', { link: 'static' }), (e: unknown) => e instanceof UnsupportedChangeError && e.message.includes("'fnmatch'"));
});

diff('refuses a library function a static PIE does not contain (it has a .dynsym, but imports nothing)', ({ ws }) => {
  assert.throws(() => patch(ws, 'static_missing', { link: 'static-pie' }), (e: unknown) => e instanceof UnsupportedChangeError && e.message.includes("'fnmatch'"));
});

diff('takes a libc function the static-PIE link made local (hidden in libc.a) as the global it was', ({ ws }) => {
  const { po, v1 } = patch(ws, 'static_pie_libc', { link: 'static-pie' });
  const local = ElfFile.open(v1.exe).symbols().find((s) => s.name === 'fflush');
  assert.is(local?.bind, STB_LOCAL, 'ld turned the hidden fflush into a local');
  assert.equal(symbolNamed(po, 'fflush').target, { value: local!.value });
  assert.is(symbolNamed(po, 'fflush').bind, 'global');
});

for (const link of ['static', 'static-pie'] as const) {
  diff(`calls an IFUNC of a ${link} executable at its PLT entry, not at its resolver`, ({ ws }) => {
    const { po, v1 } = patch(ws, 'static_pie_libc', { link });
    const elf = ElfFile.open(v1.exe);
    const resolver = elf.symbols().find((s) => s.name === 'strlen' && s.type === STT_GNU_IFUNC);
    assert.ok(resolver, 'strlen is an IFUNC of the static libc');
    const slot = elf.sections.filter((s) => s.type === SHT_RELA).flatMap((s) => elf.relocations(s))
      .find((r) => r.type === R_X86_64_IRELATIVE && r.addend === resolver!.value)?.offset;
    assert.ok(slot !== undefined, 'an IRELATIVE fills a GOT slot with strlen\'s implementation');
    const value = symbolNamed(po, 'strlen').target?.value;
    assert.is(value, pltEntry(elf, slot!));
    const plt = elf.section('.plt')!;
    assert.ok(value! >= plt.addr && value! < plt.addr + BigInt(plt.size), `0x${value!.toString(16)} is in .plt`);
  });
}

diff('patches a changed gcc clone (.constprop) against its old address', ({ ws }) => {
  const { po, v1, v2 } = patch(ws, 'clone', { opt: '-O2' });
  const clone = ElfFile.open(`${v2.dir}/main.o`).symbols().find((s) => /^work\.(constprop|isra|part)\.\d+$/.test(s.name));
  assert.ok(clone, 'gcc made a clone of work()');
  assert.equal(patchedNames(po), [clone.name]);
  const old = symbolOf(v1.exe, clone.name);
  assert.equal(po.functions[0]!.replaces, { address: old.value, size: old.size });
});

diff('patches a function and its .cold part as one unit, trampolining the parent only', ({ ws }) => {
  const { po, v1 } = patch(ws, 'cold', { opt: '-O2' });
  assert.equal(patchedNames(po), ['check', 'check.cold']);
  const parent = po.functions.find((f) => f.name === 'check')!;
  const cold = po.functions.find((f) => f.name === 'check.cold')!;
  assert.ok(parent.replaces && !cold.replaces);
  const oldCold = symbolOf(v1.exe, 'check.cold');
  assert.equal(po.unsafe.find((u) => u.name === 'check.cold'), { name: 'check.cold', file: 'main.c', address: oldCold.value, size: oldCold.size });
  assert.equal(po.unsafe.find((u) => u.name === 'check')?.redirectTo, parent.symbol);
  // The parent's jump into the cold part goes to the new cold part.
  const start = po.symbols[parent.symbol]!.defined!.offset;
  assert.ok(po.relocations.some((r) => r.offset >= start && r.offset < start + parent.size && r.symbol === cold.symbol));
});

diff('moves a variable whose struct type changed to new storage, with every function that uses it', ({ ws }) => {
  const { po, v1 } = patch(ws, 'struct_layout');
  assert.equal(patchedNames(po), ['level']);
  assert.is(po.types?.length, 1);
  const type = po.types![0]!;
  assert.equal([type.name, type.file, type.oldSize, type.newSize], ['struct config', 'main.c', 8, 12]);
  assert.equal(type.members.map((m) => [m.name, m.offset, m.size]), [['verbose', 0, 4], ['level', 4, 4], ['limit', 8, 4]]);
  // verbose and level are copied from the old object, limit keeps the new initializer.
  assert.equal(type.rows.map((r) => [r.offset, r.size, r.rule.kind]), [[0, 4, 'expression'], [4, 4, 'expression'], [8, 4, 'keep']]);
  const [moved] = po.dataTransforms!;
  assert.equal([moved!.variable, moved!.file, moved!.type, moved!.count], ['config', 'main.c', 0, 1]);
  assert.equal(po.symbols[moved!.oldSymbol]!.target, { value: symbolOf(v1.exe, 'config').value });
  assert.equal(po.symbols[moved!.newSymbol]!.defined?.section, 'data');
  // The new storage holds the new initializer { 1, 2, 3 }, and level() refers to it.
  const at = po.symbols[moved!.newSymbol]!.defined!.offset;
  assert.equal([...po.data.subarray(at, at + 12)], [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
  assert.ok(po.relocations.some((r) => r.section === 'text' && r.symbol === moved!.newSymbol));
  assert.not.ok(po.relocations.some((r) => r.symbol === moved!.oldSymbol));
});

diff('gives a const table of pointers (.data.rel.ro) whose contents changed a new copy, and patches its reader', ({ ws }) => {
  const { po, report } = patch(ws, 'const_table');
  assert.equal(patchedNames(po), ['show']);
  const levels = symbolNamed(po, 'levels');
  // In .data.new rather than .rodata.new, as .data.rel.ro is writable until relocated.
  assert.equal(levels.defined?.section, 'data', 'the new table, not the target\'s');
  assert.not.ok(po.symbols.some((s) => s.name === 'levels' && s.target), 'the target\'s table is not referenced');
  const at = levels.defined!.offset;
  // { "low", 1 }, { "high", 10 }: threshold of the second element at 16 + 8.
  assert.equal([...po.data.subarray(at + 24, at + 28)], [10, 0, 0, 0]);
  const pointers = po.relocations.filter((r) => r.section === 'data' && r.offset >= at && r.offset < at + levels.size);
  assert.equal(pointers.map((r) => r.offset - at), [0, 16], 'both name pointers are relocated in the copy');
  assert.equal(report.newVariables, [], 'a changed constant is not a new variable');
  assert.equal(report.warnings, []);
});

diff('follows a pointer to a struct whose layout changed: the pointer is updated in place, the global it points at moves', ({ ws }) => {
  const { po } = patch(ws, 'struct_pointer');
  const types = po.types ?? [];
  assert.equal(types.map((t) => [t.name, t.oldSize, t.newSize]), [['struct config', 8, 12]]);
  const moved = (po.dataTransforms ?? []).map((d) => ({ variable: d.variable, type: types[d.type]!.name, inPlace: d.inPlace === true, pointer: d.pointer === true, same: d.oldSymbol === d.newSymbol }));
  assert.equal(moved.sort((a, b) => a.variable.localeCompare(b.variable)), [
    { variable: 'config', type: 'struct config', inPlace: false, pointer: false, same: false },
    { variable: 'current', type: 'struct config', inPlace: true, pointer: true, same: true },
  ]);
  // The applier allocates new blocks with the target's own allocator.
  for (const name of ['malloc', 'free']) assert.ok(symbolNamed(po, name).target, `${name} is a target symbol`);
});

diff('compiles the reverse program of a moved global: the members the old layout has, back from the new one; the new one is dropped', ({ ws }) => {
  const { po } = patch(ws, 'struct_layout');
  const [type] = po.types!;
  assert.equal(type!.rollbackRows!.map((r) => [r.offset, r.size, r.rule.kind, 'expression' in r.rule ? [...r.rule.expression] : []]), [
    [0, 4, 'expression', [DW_OP_plus_uconst, 0]], [4, 4, 'expression', [DW_OP_plus_uconst, 4]],
  ]);
  assert.equal(type!.droppedOnRollback, ['limit']);
});

diff('compiles reverse programs through followed pointers: integers narrow back, nested members are dropped by path', ({ ws }) => {
  const { po, report } = patch(ws, 'struct_list');
  assert.equal(po.types!.map((t) => [t.name, t.oldSize, t.newSize]), [['struct node', 24, 40]]);
  const [node] = po.types!;
  // Old node: value at 0, count at 8 (int), meta.tag at 12, next at 16; new node: value 0, weight 8, count 16, meta 24, next 32.
  assert.equal(node!.rollbackRows!.map((r) => [r.offset, r.size, r.rule.kind, 'type' in r.rule ? r.rule.type : undefined]), [
    [0, 8, 'expression', undefined], [8, 4, 'val-expression', undefined], [12, 4, 'expression', undefined], [16, 8, 'follow', 0],
  ]);
  assert.equal(node!.droppedOnRollback, ['meta.extra', 'weight']);
  assert.ok(report.warnings.includes("on rollback, member 'count' of struct node narrows from 8 to 4 bytes: values keep their low 4 bytes"), report.warnings.join('\n'));
});

diff('refuses a changed struct holding a void * without a transformer, and takes the KATANA_TRANSFORM one the new source gives', ({ ws }) => {
  assert.throws(
    () => patch(ws, 'void_pointer'),
    (e: unknown) => e instanceof UnsupportedChangeError && /^variable 'current' in main\.c cannot be transformed: member 'data' of struct job is or holds a void \*, which may point at a changed struct; the new source can give struct job a KATANA_TRANSFORM transformer \(docs\/data-patching\.md\)$/.test(e.message),
  );
  const { po, report } = patch(ws, 'void_pointer_transformer');
  const [type] = po.types ?? [];
  assert.is(type?.name, 'struct job');
  assert.is(po.symbols[type!.transformer!]?.name, 'job_from_v1', 'the transformer is named by the type');
  assert.ok(patchedNames(po).includes('job_from_v1'), 'the transformer is code of the patch');
  assert.equal(type!.rows, [{ offset: 0, size: 16, rule: { kind: 'keep' } }], 'the transformer alone fills the new object');
  assert.ok(report.warnings.some((w) => /struct job is converted by its transformer job_from_v1 alone/.test(w)), report.warnings.join('\n'));
});

diff('refuses a pointer to a pointer leading to a changed struct, naming the variable', ({ ws }) => {
  assert.throws(
    () => patch(ws, 'pointer_to_pointer'),
    (e: unknown) => e instanceof UnsupportedChangeError && e.code === 'E_UNSUPPORTED_CHANGE' && /^variable 'handle' in main\.c is a pointer to a pointer leading to a changed struct, which katana does not follow$/.test(e.message),
  );
});

diff('refuses an OLD that katana-cc did not link', ({ ws }) => {
  const v1 = build(ws, 'changed_function', 'v1');
  const other = workspace();
  try {
    assert.throws(() => diffBuilds({ old: v1.exe, new: v1.exe, store: other.store }), (e: unknown) => e instanceof EmitterError && /OLD was not linked by katana-cc \(build-id [0-9a-f]+ not in the store at /.test(e.message));
  } finally {
    other.dispose();
  }
});

diff.run();
