// RelocatableWriter: hand-built objects and a gcc object rewritten symbol by symbol must read back
// identically (write → ElfFile.parse), must be read by `readelf -a -W` and `objdump -dr` without a
// single warning, and must link with gcc into programs that run and print the expected output.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ElfFile, ElfWriteError, RelocatableWriter, R_X86_64_64, R_X86_64_PLT32, SHF_ALLOC, SHF_EXECINSTR, SHF_INFO_LINK,
  SHF_MERGE, SHF_STRINGS, SHF_WRITE, SHN_UNDEF, SHT_LOUSER, SHT_NOBITS, SHT_PROGBITS, SHT_RELA, SHT_STRTAB, SHT_SYMTAB,
  STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION, STV_HIDDEN, type ElfSymbol,
  type SymbolRef,
} from '../src/index.js';
import { buildFixtures, run, tempDir } from './fixtures.js';

/** Runs a tool and requires that it succeeds and prints no warning at all. */
function runClean(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${tool} is required by this test: ${r.error.message}`);
  assert.is(r.status, 0, `${tool} ${args.join(' ')} exit status; stderr: ${r.stderr}`);
  assert.is(r.stderr, '', `${tool} ${args.join(' ')} stderr`);
  for (const line of r.stdout.split('\n')) assert.not.match(line.toLowerCase(), 'warning', `${tool}: ${line}`);
  return r.stdout;
}

/** The hand-made object: answer() returns 42, twice() calls it, answer_ptr points at it. */
function answerObject(): { bytes: Uint8Array; refs: Record<string, SymbolRef>; writer: RelocatableWriter } {
  const w = new RelocatableWriter();
  const text = w.addSection({
    name: '.text.answer', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 16,
    data: Uint8Array.of(0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3), // mov $42,%eax; ret
  });
  const twiceText = w.addSection({
    name: '.text.twice', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 16,
    // sub $8,%rsp; call answer; add %eax,%eax; add $8,%rsp; ret
    data: Uint8Array.of(0x48, 0x83, 0xec, 0x08, 0xe8, 0, 0, 0, 0, 0x01, 0xc0, 0x48, 0x83, 0xc4, 0x08, 0xc3),
  });
  const data = w.addSection({ name: '.data.answer_ptr', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addralign: 8, data: new Uint8Array(16) });
  const bss = w.addSection({ name: '.bss.scratch', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addralign: 32, size: 64 });
  w.addSection({ name: '.rodata.str1.1', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_MERGE | SHF_STRINGS, addralign: 1, entsize: 1, data: new TextEncoder().encode('answer\0') });
  w.addSection({ name: '.note.GNU-stack', type: SHT_PROGBITS, flags: 0n, addralign: 1, data: new Uint8Array(0) });
  const refs: Record<string, SymbolRef> = {};
  // .unsafe_functions names answer by its symbol index, known only inside write().
  w.addSection({
    name: '.unsafe_functions', type: SHT_LOUSER + 1, flags: 0n, addralign: 4, entsize: 4,
    data: () => new Uint8Array(Uint32Array.of(w.symbolIndex(refs['answer']!)).buffer),
  });
  refs['answer'] = w.addSymbol({ name: 'answer', value: 0n, size: 6, type: STT_FUNC, bind: STB_GLOBAL, shndx: text });
  refs['file'] = w.addFileSymbol('answer.c');
  refs['scratch'] = w.addSymbol({ name: 'scratch', value: 0n, size: 64, type: STT_OBJECT, bind: STB_LOCAL, shndx: bss });
  refs['textSection'] = w.addSectionSymbol(text);
  refs['twice'] = w.addSymbol({ name: 'twice', value: 0n, size: 16, type: STT_FUNC, bind: STB_GLOBAL, visibility: STV_HIDDEN, shndx: twiceText });
  refs['answer_ptr'] = w.addSymbol({ name: 'answer_ptr', value: 0n, size: 8, type: STT_OBJECT, bind: STB_GLOBAL, shndx: data });
  refs['optional_hook'] = w.addSymbol({ name: 'optional_hook', value: 0n, size: 0, type: STT_NOTYPE, bind: STB_WEAK, shndx: SHN_UNDEF });
  w.addRelocations(twiceText, [{ offset: 5n, type: R_X86_64_PLT32, symbol: refs['answer'], addend: -4n }]);
  w.addRelocations(data, [{ offset: 0n, type: R_X86_64_64, symbol: refs['textSection'], addend: 0n }]);
  w.addRelocations(data, [{ offset: 8n, type: R_X86_64_64, symbol: refs['optional_hook'], addend: 0n }]);
  return { bytes: w.write(), refs, writer: w };
}

const handMade = suite('RelocatableWriter: hand-made object');

handMade('reads back with its sections in order and the writer-made ones last', () => {
  const elf = ElfFile.parse(answerObject().bytes);
  assert.equal(elf.sections.map((s) => s.name), [
    '', '.text.answer', '.text.twice', '.data.answer_ptr', '.bss.scratch', '.rodata.str1.1', '.note.GNU-stack',
    '.unsafe_functions', '.rela.text.twice', '.rela.data.answer_ptr', '.symtab', '.strtab', '.shstrtab',
  ]);
  const byName = (n: string) => elf.section(n)!;
  assert.is(byName('.text.answer').addralign, 16);
  assert.is(byName('.text.answer').offset % 16, 0);
  assert.is(byName('.bss.scratch').type, SHT_NOBITS);
  assert.is(byName('.bss.scratch').size, 64);
  assert.is(byName('.rodata.str1.1').entsize, 1);
  const rela = byName('.rela.text.twice');
  assert.is(rela.type, SHT_RELA);
  assert.is(rela.flags, SHF_INFO_LINK);
  assert.is(rela.link, byName('.symtab').index);
  assert.is(rela.info, byName('.text.twice').index);
  assert.is(rela.entsize, 24);
  assert.is(byName('.symtab').type, SHT_SYMTAB);
  assert.is(byName('.symtab').link, byName('.strtab').index);
  assert.is(byName('.shstrtab').type, SHT_STRTAB);
  assert.is(elf.header.shstrndx, byName('.shstrtab').index);
});

handMade('orders symbols: null, file and its locals, section symbols, globals; sh_info = first global', () => {
  const { bytes, refs, writer } = answerObject();
  const elf = ElfFile.parse(bytes);
  const syms = elf.symbols();
  assert.equal(syms.map((s) => s.name), ['', 'answer.c', 'scratch', '', 'answer', 'twice', 'answer_ptr', 'optional_hook']);
  assert.equal(syms.map((s) => s.type), [STT_NOTYPE, STT_FILE, STT_OBJECT, STT_SECTION, STT_FUNC, STT_FUNC, STT_OBJECT, STT_NOTYPE]);
  assert.is(elf.section('.symtab')!.info, 4);
  assert.is(syms[2]!.file, 'answer.c');
  assert.is(syms[5]!.visibility, STV_HIDDEN);
  assert.is(syms[7]!.bind, STB_WEAK);
  assert.is(writer.symbolIndex(refs['answer']!), 4);
  assert.is(writer.symbolIndex(refs['textSection']!), 3);
  const unsafe = elf.section('.unsafe_functions')!.data();
  assert.is(new DataView(unsafe.buffer, unsafe.byteOffset).getUint32(0, true), 4);
});

handMade('writes relocations that read back against the right symbols', () => {
  const elf = ElfFile.parse(answerObject().bytes);
  assert.equal(elf.relocationsFor(elf.section('.text.twice')!), [{ offset: 5n, type: R_X86_64_PLT32, symbolIndex: 4, addend: -4n }]);
  assert.equal(elf.relocationsFor(elf.section('.data.answer_ptr')!), [
    { offset: 0n, type: R_X86_64_64, symbolIndex: 3, addend: 0n },
    { offset: 8n, type: R_X86_64_64, symbolIndex: 7, addend: 0n },
  ]);
});

handMade('is read by readelf -a -W and objdump -dr without a warning', () => {
  const dir = tempDir();
  const path = join(dir, 'answer.o');
  writeFileSync(path, answerObject().bytes);
  const dump = runClean('readelf', ['-a', '-W', path]);
  assert.match(dump, 'REL (Relocatable file)');
  const dis = runClean('objdump', ['-dr', path]);
  assert.match(dis, 'R_X86_64_PLT32\tanswer-0x4');
  assert.match(dis, 'mov    $0x2a,%eax');
});

handMade('links with gcc into a program that calls answer() and prints 42', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'answer.o'), answerObject().bytes);
  writeFileSync(join(dir, 'main.c'), [
    '#include <stdio.h>',
    'extern int answer(void);',
    'extern int twice(void);',
    'extern int (*answer_ptr)(void);',
    'int main(void) { printf("%d %d %d\\n", answer(), answer_ptr(), twice()); return 0; }',
    '',
  ].join('\n'));
  const link = spawnSync('gcc', ['main.c', 'answer.o', '-o', 'prog'], { cwd: dir, encoding: 'utf8' });
  assert.is(link.status, 0, link.stderr);
  assert.is(link.stderr, '', 'the linker prints no warning');
  assert.is(run(join(dir, 'prog'), []), '42 42 84\n');
});

handMade.run();

const errors = suite('RelocatableWriter: errors');

errors('refuses an alignment that is not a power of two', () => {
  const w = new RelocatableWriter();
  assert.throws(() => w.addSection({ name: '.x', type: SHT_PROGBITS, flags: 0n, addralign: 12 }), (e: unknown) =>
    e instanceof ElfWriteError && /alignment 12/.test((e as Error).message));
});

errors('refuses symbols and relocations naming sections it does not have', () => {
  const w = new RelocatableWriter();
  assert.throws(() => w.addSymbol({ name: 'f', value: 0n, size: 0, type: STT_FUNC, bind: STB_GLOBAL, shndx: 3 }), (e: unknown) => e instanceof ElfWriteError);
  assert.throws(() => w.addRelocations(1, []), (e: unknown) => e instanceof ElfWriteError);
  assert.throws(() => w.addSectionSymbol(0), (e: unknown) => e instanceof ElfWriteError);
});

errors('gives symbol indices only once write() has begun', () => {
  const w = new RelocatableWriter();
  const ref = w.addFileSymbol('a.c');
  assert.throws(() => w.symbolIndex(ref), (e: unknown) => e instanceof ElfWriteError && e.code === 'E_ELF_WRITE');
  w.write();
  assert.is(w.symbolIndex(ref), 1);
});

errors('refuses a relocation against another writer\'s symbol', () => {
  const a = new RelocatableWriter();
  const b = new RelocatableWriter();
  const s = b.addSection({ name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 1, data: new Uint8Array(8) });
  a.addSection({ name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 1, data: new Uint8Array(8) });
  const foreign = b.addSectionSymbol(s);
  assert.throws(() => a.addRelocations(1, [{ offset: 0n, type: R_X86_64_64, symbol: foreign, addend: 0n }]), (e: unknown) => e instanceof ElfWriteError);
});

errors.run();

const roundTrip = suite('RelocatableWriter: gcc object round trip');
const fx = buildFixtures();

/** Identity of a symbol independent of its index: name (or section name) and where it is. */
function identity(elf: ElfFile, s: ElfSymbol): string {
  const where = s.shndx > 0 && s.shndx < elf.sections.length ? elf.sections[s.shndx]!.name : String(s.shndx);
  const name = s.type === STT_SECTION ? `[${where}]` : s.name;
  return `${name}|${s.value}|${s.size}|${s.type}|${s.bind}|${s.visibility}|${where}|${s.file ?? ''}`;
}

/** Rewrites every section, symbol and relocation of `orig` through RelocatableWriter. */
function rewrite(orig: ElfFile): Uint8Array {
  const w = new RelocatableWriter();
  const newIndex = new Map<number, number>();
  for (const s of orig.sections) {
    if (s.index === 0 || s.type === SHT_RELA || s.type === SHT_SYMTAB || s.type === SHT_STRTAB) continue;
    newIndex.set(s.index, w.addSection({
      name: s.name, type: s.type, flags: s.flags, addralign: s.addralign, entsize: s.entsize, info: s.info,
      ...(s.type === SHT_NOBITS ? { size: s.size } : { data: s.data() }),
    }));
  }
  const refs: SymbolRef[] = [];
  for (const s of orig.symbols()) {
    const shndx = newIndex.get(s.shndx) ?? s.shndx;
    if (s.index === 0) refs.push(undefined as unknown as SymbolRef);
    else if (s.type === STT_FILE) refs.push(w.addFileSymbol(s.name));
    else if (s.type === STT_SECTION) refs.push(w.addSectionSymbol(shndx));
    else refs.push(w.addSymbol({ name: s.name, value: s.value, size: s.size, type: s.type, bind: s.bind, visibility: s.visibility, shndx }));
  }
  for (const rela of orig.sections.filter((s) => s.type === SHT_RELA)) {
    w.addRelocations(newIndex.get(rela.info)!, orig.relocations(rela).map((r) => ({
      offset: r.offset, type: r.type, symbol: refs[r.symbolIndex]!, addend: r.addend,
    })));
  }
  return w.write();
}

roundTrip('keeps every section, symbol and relocation of a gcc -g -O2 object', () => {
  const orig = ElfFile.open(fx.object);
  const copy = ElfFile.parse(rewrite(orig));
  const content = (elf: ElfFile) => elf.sections
    .filter((s) => s.type !== SHT_RELA && s.type !== SHT_SYMTAB && s.type !== SHT_STRTAB)
    .map((s) => ({ name: s.name, type: s.type, flags: s.flags, size: s.size, align: s.addralign, entsize: s.entsize, data: Buffer.from(s.data()).toString('hex') }));
  assert.equal(content(copy), content(orig));
  assert.equal(copy.symbols().map((s) => identity(copy, s)).sort(), orig.symbols().map((s) => identity(orig, s)).sort());
  for (const rela of orig.sections.filter((s) => s.type === SHT_RELA)) {
    const target = orig.sections[rela.info]!;
    const describe = (elf: ElfFile, t: string) => elf.relocationsFor(elf.section(t)!).map((r) =>
      `${r.offset} ${r.type} ${r.addend} ${identity(elf, elf.symbols()[r.symbolIndex]!)}`);
    assert.equal(describe(copy, target.name), describe(orig, target.name), rela.name);
  }
});

roundTrip('the rewritten object links and runs like the original, and readelf/objdump read it cleanly', () => {
  const copyPath = join(fx.dir, 'copy.o');
  writeFileSync(copyPath, rewrite(ElfFile.open(fx.object)));
  runClean('readelf', ['-a', '-W', copyPath]);
  runClean('objdump', ['-dr', copyPath]);
  run('gcc', [fx.object, '-o', join(fx.dir, 'orig')]);
  run('gcc', [copyPath, '-o', join(fx.dir, 'copy')]);
  const outcome = (prog: string) => {
    const r = spawnSync(join(fx.dir, prog), ['a', 'b'], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout };
  };
  const orig = outcome('orig');
  assert.match(orig.stdout, /^total \d+\ndone\n$/);
  assert.equal(outcome('copy'), orig);
});

roundTrip.run();
