// Round trips of Patch Objects built from a real gcc object: write → read gives the same model
// (.eh_frame and the base note included), readelf and objdump read the file without a warning,
// readelf decodes its .eh_frame to one FDE per function at that function's offset, and the reader
// refuses broken files with PoFormatError only.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElfFile, STT_FUNC, STT_SECTION } from '@katana/elf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PoFormatError, readPatchObject, writePatchObject, describePatchObject, patchObjectId, shortPatchId, type PatchObject, type PoSymbol,
} from '../src/index.js';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const BASE_ID = createHash('sha256').update('an earlier patch').digest('hex');

/** Builds a PatchObject the way the emitter does, from .text.report and .text.helper of patch.o. */
function patchFromObject(dir: string): PatchObject {
  const object = join(dir, 'patch.o');
  execFileSync('gcc', ['-g', '-O0', '-ffunction-sections', '-fdata-sections', '-c', join(packageDir, 'test/fixtures/patch.c'), '-o', object]);
  const elf = ElfFile.open(object);
  const symbols: PoSymbol[] = [];
  const byElfIndex = new Map<number, number>();
  const text: number[] = [];
  const rodata = elf.section('.rodata')!.data();
  const relocations: PatchObject['relocations'] = [];
  const sectionOffset = new Map<number, number>();
  for (const name of ['.text.helper', '.text.report']) {
    const section = elf.section(name)!;
    while (text.length % 16) text.push(0x90);
    sectionOffset.set(section.index, text.length);
    text.push(...section.data());
  }
  symbols.push({ name: '.rodata.new', type: 'section', bind: 'local', size: 0, defined: { section: 'rodata', offset: 0 } });
  const symbolFor = (index: number): number => {
    const cached = byElfIndex.get(index);
    if (cached !== undefined) return cached;
    const s = elf.symbols()[index]!;
    let model: PoSymbol;
    const sectionName = elf.sections[s.shndx]?.name ?? '';
    if (s.type === STT_SECTION && sectionName === '.rodata') return 0;
    if (s.type === STT_SECTION && sectionOffset.has(s.shndx)) {
      // A call to a static function goes through its section symbol (.text.helper).
      return symbolFor(elf.symbols().find((f) => f.type === STT_FUNC && f.shndx === s.shndx)!.index);
    }
    if (s.type === STT_SECTION) {
      // gcc refers to a static variable through its section symbol (.bss.calls).
      assert.is(sectionName, '.bss.calls');
      model = { name: 'calls', type: 'object', bind: 'local', file: 'patch.c', size: 4, target: { value: 0x404040n } };
    } else if (s.type === STT_FUNC && sectionOffset.has(s.shndx)) {
      model = { name: s.name, type: 'func', bind: s.bind === 0 ? 'local' : 'global', ...(s.bind === 0 ? { file: 'patch.c' } : {}), size: s.size, defined: { section: 'text', offset: sectionOffset.get(s.shndx)! } };
    } else {
      model = { name: s.name, type: s.name === 'printf' ? 'func' : 'object', bind: s.bind === 0 ? 'local' : 'global', ...(s.bind === 0 ? { file: 'patch.c' } : {}), size: s.size, target: s.name === 'printf' ? {} : { value: s.name === 'calls' ? 0x404040n : 0x404044n } };
    }
    symbols.push(model);
    byElfIndex.set(index, symbols.length - 1);
    return symbols.length - 1;
  };
  for (const [sectionIndex, offset] of sectionOffset) {
    for (const r of elf.relocationsFor(elf.sections[sectionIndex]!)) {
      relocations.push({ section: 'text', offset: offset + Number(r.offset), type: r.type, symbol: symbolFor(r.symbolIndex), addend: r.addend });
    }
  }
  for (const s of elf.symbols()) if (s.type === STT_FUNC) symbolFor(s.index);
  // patch.o's .eh_frame holds a CIE and the FDEs of helper and report, pointed at their sections:
  // the PO keeps the bytes and points each FDE at its function's symbol instead.
  const ehFrameSection = elf.section('.eh_frame')!;
  for (const r of elf.relocationsFor(ehFrameSection)) {
    const fn = elf.symbols().find((f) => f.type === STT_FUNC && f.shndx === elf.symbols()[r.symbolIndex]!.shndx)!;
    relocations.push({ section: 'ehFrame', offset: Number(r.offset), type: r.type, symbol: symbolFor(fn.index), addend: r.addend });
  }
  const report = symbols.findIndex((s) => s.name === 'report');
  const helper = symbols.findIndex((s) => s.name === 'helper');
  return {
    targetBuildId: '0123456789abcdef0123456789abcdef01234567',
    targetName: 'server',
    text: Uint8Array.from(text),
    rodata,
    data: new Uint8Array(),
    bssSize: 0,
    symbols,
    relocations,
    functions: [
      { symbol: helper, name: 'helper', file: 'patch.c', size: symbols[helper]!.size },
      { symbol: report, name: 'report', file: 'patch.c', size: symbols[report]!.size, replaces: { address: 0x401136n, size: 60 } },
    ],
    unsafe: [{ name: 'report', address: 0x401136n, size: 60, redirectTo: report }],
    ehFrame: Uint8Array.from([...ehFrameSection.data(), 0, 0, 0, 0]),
    basePatches: [BASE_ID],
  };
}

interface Context {
  dir: string;
  po: PatchObject;
  bytes: Uint8Array;
}

const roundTrip = suite<Context>('writePatchObject / readPatchObject');

roundTrip.before((context) => {
  context.dir = mkdtempSync(join(tmpdir(), 'katana-po-'));
  try {
    context.po = patchFromObject(context.dir);
    context.bytes = writePatchObject(context.po);
  } catch (error) {
    // uvu swallows errors thrown by hooks; print it so the failure says why.
    console.error('setting up the fixture failed:', error);
    throw error;
  }
});

roundTrip.after((context) => {
  if (process.env.KATANA_KEEP_TMP !== '1') rmSync(context.dir, { recursive: true, force: true });
});

/** A symbol's identity independent of its index. */
const key = (po: PatchObject, index: number) => {
  const s = po.symbols[index]!;
  return `${s.name}|${s.type}|${s.file ?? ''}|${s.defined?.section ?? ''}+${s.defined?.offset ?? ''}|${s.target?.value ?? (s.target ? 'dyn' : '')}`;
};

roundTrip('reading what was written gives the same patch', (context) => {
  const back = readPatchObject(context.bytes, 'fix.po');
  const { po } = context;
  assert.is(back.targetBuildId, po.targetBuildId);
  assert.is(back.targetName, po.targetName);
  assert.equal(Array.from(back.text), Array.from(po.text));
  assert.equal(Array.from(back.rodata), Array.from(po.rodata));
  const rel = (p: PatchObject) => p.relocations.map((r) => `${r.section}+${r.offset} ${r.type} ${key(p, r.symbol)} ${r.addend}`).sort();
  assert.equal(rel(back), rel(po));
  assert.equal(back.unsafe.map((u) => [u.name, u.address, u.size, key(back, u.redirectTo!)]), po.unsafe.map((u) => [u.name, u.address, u.size, key(po, u.redirectTo!)]));
  const fn = (p: PatchObject) => p.functions.map((f) => `${f.name} ${f.size} ${f.replaces?.address ?? '-'}`).sort();
  assert.equal(fn(back), fn(po));
  assert.is(back.functions.find((f) => f.name === 'helper')!.file, 'patch.c');
  // A global's file comes back through .debug_info (ELF ties files to locals only).
  assert.is(back.functions.find((f) => f.name === 'report')!.file, 'patch.c');
  assert.equal(Array.from(back.ehFrame!), Array.from(po.ehFrame!));
  assert.equal(back.basePatches, [BASE_ID]);
});

roundTrip('a PO without base patches reads back an empty base; a malformed base id is refused', (context) => {
  const po = readPatchObject(writePatchObject({ ...context.po, basePatches: [] }), 'plain.po');
  assert.equal(po.basePatches, []);
  assert.throws(() => writePatchObject({ ...context.po, basePatches: ['abc'] }), /not 64 lowercase hex digits/);
});

roundTrip('patchObjectId is the sha256 of the file, shown as 12 hex digits', (context) => {
  const id = patchObjectId(context.bytes);
  assert.is(id, createHash('sha256').update(context.bytes).digest('hex'));
  assert.is(shortPatchId(id), id.slice(0, 12));
  assert.is(patchObjectId(writePatchObject(context.po)), id, 'the writer is deterministic');
});

roundTrip('readelf --debug-dump=frames decodes .eh_frame: one FDE per function, at its offset', (context) => {
  const file = join(context.dir, 'fix.po');
  writeFileSync(file, context.bytes);
  const r = spawnSync('readelf', ['-W', '--debug-dump=frames', file], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.is(r.stderr, '');
  assert.not.match(r.stdout, /warning/i);
  const ranges = [...r.stdout.matchAll(/FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/g)].map((m) => [parseInt(m[1]!, 16), parseInt(m[2]!, 16)]);
  const expected = context.po.functions.map((f) => {
    const offset = context.po.symbols[f.symbol]!.defined!.offset;
    return [offset, offset + f.size];
  });
  assert.equal(ranges, expected);
  assert.match(spawnSync('readelf', ['-S', '-W', file], { encoding: 'utf8' }).stdout, /\.eh_frame\s+X86_64_UNWIND/);
});

roundTrip('readelf -a and objdump -dr read it without a warning', (context) => {
  const file = join(context.dir, 'fix.po');
  writeFileSync(file, context.bytes);
  for (const [tool, args] of [['readelf', ['-a', '-W', file]], ['objdump', ['-dr', file]]] as const) {
    const r = spawnSync(tool, args, { encoding: 'utf8' });
    assert.is(r.status, 0, `${tool} exit status`);
    assert.is(r.stderr, '', `${tool} stderr`);
    assert.not.match(r.stdout, /warning/i);
  }
  const sections = spawnSync('readelf', ['-S', '-W', file], { encoding: 'utf8' }).stdout;
  for (const name of ['.text.new', '.rodata.new', '.rela.text.new', '.unsafe_functions', '.note.katana', '.symtab', '.strtab']) {
    assert.ok(sections.includes(name), `${name} in readelf -S`);
  }
  assert.match(sections, /\.unsafe_functions\s+LOUSER\+0x1/);
  const disassembly = spawnSync('objdump', ['-dr', file], { encoding: 'utf8' }).stdout;
  assert.match(disassembly, /R_X86_64_PLT32\s+printf-0x4/);
  assert.match(disassembly, /<report>:/);
});

roundTrip('readelf --debug-dump=info and llvm-dwarfdump read its DWARF without a warning', (context) => {
  const file = join(context.dir, 'fix.po');
  writeFileSync(file, context.bytes);
  const readelf = spawnSync('readelf', ['--debug-dump=info', '-W', file], { encoding: 'utf8' });
  assert.is(readelf.status, 0);
  assert.is(readelf.stderr, '');
  assert.not.match(readelf.stdout, /warning/i);
  assert.match(readelf.stdout, /DW_AT_name\s*:\s*\(string\) patch\.c/);
  const dump = spawnSync('llvm-dwarfdump', ['--debug-info', '--verify', file], { encoding: 'utf8' });
  assert.is(dump.status, 0, dump.stdout + dump.stderr);
  assert.not.match(dump.stderr, /warning|error/i);
  const info = spawnSync('llvm-dwarfdump', ['--debug-info', file], { encoding: 'utf8' }).stdout;
  assert.match(info, /DW_TAG_subprogram[\s\S]*DW_AT_name\s*\("report"\)/);
});

roundTrip('describePatchObject lists changed, new and external symbols', (context) => {
  const d = describePatchObject(readPatchObject(context.bytes, 'fix.po'));
  assert.equal(d.changed.map((f) => f.name), ['report']);
  assert.equal(d.added.map((f) => f.name), ['helper']);
  assert.equal(d.externals.map((e) => e.name).sort(), ['calls', 'counter', 'printf']);
  // The fixture PO has a base: a symbol without a value may also be an earlier patch's definition.
  assert.is(d.externals.find((e) => e.name === 'printf')!.resolution, 'an applied patch or a shared library');
  const original = describePatchObject({ ...readPatchObject(context.bytes, 'fix.po'), basePatches: [] });
  assert.is(original.externals.find((e) => e.name === 'printf')!.resolution, 'shared library');
});

roundTrip('broken files raise PoFormatError and nothing else', (context) => {
  assert.throws(() => readPatchObject(new TextEncoder().encode('hello'), 'x.po'), (e: unknown) => e instanceof PoFormatError && /^x\.po is not a valid Patch Object/.test((e as Error).message));
  const object = ElfFile.open(join(context.dir, 'patch.o')).bytes;
  assert.throws(() => readPatchObject(object, 'patch.o'), (e: unknown) => e instanceof PoFormatError && /no \.note\.katana/.test((e as Error).message));
  let refused = 0;
  for (let at = 0; at < context.bytes.length; at += 7) {
    const broken = context.bytes.slice();
    broken[at] = broken[at]! ^ 0xa5;
    try {
      readPatchObject(broken, 'broken.po');
    } catch (error) {
      if (!(error instanceof PoFormatError)) throw new Error(`flipping byte ${at} raised ${String(error)}`);
      refused++;
    }
    try {
      readPatchObject(context.bytes.subarray(0, at), 'short.po');
    } catch (error) {
      if (!(error instanceof PoFormatError)) throw new Error(`truncating at ${at} raised ${String(error)}`);
    }
  }
  assert.ok(refused > 0);
});

roundTrip.run();
