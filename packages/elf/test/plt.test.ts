// pltEntry against objdump: sample.c linked into every kind of PLT ld writes (lazy .plt of a
// non-PIE and a PIE; .plt.sec and .plt.got with IBT; the IFUNC entries in .plt of a static
// executable, 8 bytes each without IBT and 16 with; a static PIE's), for every GOT slot of a
// JUMP_SLOT, GLOB_DAT or IRELATIVE relocation. The oracle is objdump's disassembly of the PLT
// sections: the `jmp *rel32(%rip)` whose `# address` comment names the slot, and the entry starts
// at that jmp or at the endbr64 just before it. Compile lines (beside test/fixtures.ts's):
//
//   gcc -O2 -pie -fPIE -Wl,-z,ibtplt sample.c -o sample-ibt
//   gcc -O2 -static sample.c -o sample-static-plt
//   gcc -O2 -static -Wl,-z,ibtplt sample.c -o sample-static-ibt
//   gcc -O2 -fPIE -static-pie sample.c -o sample-static-pie
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ElfFile, R_X86_64_GLOB_DAT, R_X86_64_IRELATIVE, R_X86_64_JUMP_SLOT, SHT_RELA, pltEntry } from '../src/index.js';
import { buildFixtures, fixtureSource, run } from './fixtures.js';

const fx = buildFixtures();
const link = (name: string, flags: string[]): string => {
  const out = join(fx.dir, name);
  run('gcc', ['-O2', ...flags, fixtureSource, '-o', out]);
  return out;
};
const forms: [string, string][] = [
  ['non-PIE executable (lazy .plt)', fx.nopie],
  ['PIE executable (lazy .plt, .plt.got)', fx.pie],
  ['PIE with IBT (.plt.sec, .plt.got)', link('sample-ibt', ['-pie', '-fPIE', '-Wl,-z,ibtplt'])],
  ['static executable (8-byte IFUNC entries)', link('sample-static-plt', ['-static'])],
  ['static executable with IBT (16-byte IFUNC entries)', link('sample-static-ibt', ['-static', '-Wl,-z,ibtplt'])],
  ['static PIE', link('sample-static-pie', ['-fPIE', '-static-pie'])],
];

/** objdump's PLT entries of `path`: GOT slot → the entry's address (the jmp, or the endbr64 before it). */
function objdumpEntries(path: string): Map<bigint, bigint> {
  const entries = new Map<bigint, bigint>();
  const text = run('objdump', ['-d', '-j', '.plt', '-j', '.plt.sec', '-j', '.plt.got', path]);
  let previous: { address: bigint; text: string } | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s+([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*(.*)$/.exec(line);
    if (m === null) continue;
    const address = BigInt(`0x${m[1]}`);
    const slot = /^(?:bnd )?jmp\s+\*0x[0-9a-f]+\(%rip\)\s+# ([0-9a-f]+)/.exec(m[2]!);
    if (slot !== null) entries.set(BigInt(`0x${slot[1]}`), previous?.text.startsWith('endbr64') ? previous.address : address);
    previous = { address, text: m[2]! };
  }
  return entries;
}

const entry = suite('pltEntry');

for (const [what, path] of forms) {
  entry(`finds the PLT entry of every slot of a ${what}, where objdump sees it`, () => {
    const elf = ElfFile.open(path);
    const expected = objdumpEntries(path);
    const slots = elf.sections.filter((s) => s.type === SHT_RELA).flatMap((s) => elf.relocations(s))
      .filter((r) => r.type === R_X86_64_JUMP_SLOT || r.type === R_X86_64_GLOB_DAT || r.type === R_X86_64_IRELATIVE)
      .map((r) => r.offset);
    assert.ok(slots.some((s) => expected.has(s)), `${what}: some slot has a PLT entry`);
    for (const slot of slots) {
      assert.is(pltEntry(elf, slot), expected.get(slot), `${what}: slot 0x${slot.toString(16)}`);
    }
  });
}

entry('is undefined for an address no PLT entry jumps through', () => {
  const elf = ElfFile.open(fx.nopie);
  assert.is(pltEntry(elf, 0n), undefined);
  assert.is(pltEntry(ElfFile.open(fx.object), 0x1000n), undefined, 'an object file has no PLT');
});

entry.run();
