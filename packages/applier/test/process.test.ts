// readProcess(): the process model of a running PIE under ASLR. The executable's bias must make its
// link-time `main` address the run-time one (the bytes there equal the file's), and libc's bias must
// do the same for its exported `puts`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ElfFile, readBuildId } from '@katana/elf';
import { ProcessMemory } from '@katana/ptrace';
import { NoSuchProcessError, readProcess } from '../src/index.js';
import { Target, fixture, gcc, tempDir } from './helpers.js';

const model = suite('readProcess');
const tmp = tempDir();
const exe = join(tmp.dir, 'value');
let target: Target | undefined;

model.before(() => {
  gcc(['-g', '-O2', '-pie', '-fPIE', '-o', exe, fixture('value.c')]);
});

model.after(() => {
  target?.kill();
  tmp.remove();
});

model('the executable bias of a PIE maps main to its bytes in memory', async () => {
  target = new Target(exe);
  await target.waitFor(/value 1/);
  const p = readProcess(target.pid);
  assert.is(p.exePath, exe);
  assert.is(p.buildId, readBuildId(exe));
  assert.ok(p.exe.bias > 0n && p.exe.bias % 0x1000n === 0n, 'ASLR gives a PIE a page-aligned, non-zero bias');
  const elf = ElfFile.open(exe);
  const main = elf.symbols().find((s) => s.name === 'main')!;
  const memory = new ProcessMemory(target.pid);
  try {
    assert.equal([...memory.read(main.value + p.exe.bias, main.size)], [...elf.readAt(main.value, main.size)]);
    const libc = p.modules.find((m) => /\/libc\.so/.test(m.path));
    assert.ok(libc !== undefined, 'libc is a module');
    const puts = libc!.elf.dynamicSymbols().find((s) => s.name === 'puts' && s.size > 0)!;
    assert.equal([...memory.read(puts.value + libc!.bias, 16)], [...libc!.elf.readAt(puts.value, 16)]);
  } finally {
    memory.close();
  }
  assert.is(p.modules[0], p.exe, 'the executable is the first module');
  assert.ok(p.vdso !== undefined, 'the vdso is found');
});

model('a pid that does not exist is NoSuchProcessError', () => {
  assert.throws(() => readProcess(0x3ffffff), (e: unknown) => e instanceof NoSuchProcessError && (e as NoSuchProcessError).code === 'E_NO_PROCESS');
});

model.run();
