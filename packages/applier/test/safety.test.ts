// followsCall() and unsafeRanges(): the pieces of the conservative stack scan that need no process
// (the refusal of a real sleeping thread is in apply.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PatchObject } from '@katana/po';
import { followsCall, unsafeRanges } from '../src/index.js';

const calls = suite('followsCall');

calls('a return address after e8 rel32 follows a call', () => {
  assert.ok(followsCall(Uint8Array.from([0x90, 0xe8, 1, 2, 3, 4, 0x89]), 6));
});

calls('indirect calls ff /2 of 2, 3, 6 and 7 bytes, with or without REX, follow a call', () => {
  assert.ok(followsCall(Uint8Array.from([0xff, 0xd0, 0x90]), 2), 'call *%rax');
  assert.ok(followsCall(Uint8Array.from([0x41, 0xff, 0xd3, 0x90]), 3), 'call *%r11');
  assert.ok(followsCall(Uint8Array.from([0xff, 0x55, 0x08, 0x90]), 3), 'call *8(%rbp)');
  assert.ok(followsCall(Uint8Array.from([0xff, 0x15, 0, 0, 0, 0, 0x90]), 6), 'call *0(%rip)');
  assert.ok(followsCall(Uint8Array.from([0xff, 0x94, 0xc3, 0, 1, 0, 0, 0x90]), 7), 'call *0x100(%rbx,%rax,8)');
});

calls('other instructions, jumps included, do not', () => {
  assert.not.ok(followsCall(Uint8Array.from([0xe9, 1, 2, 3, 4, 0x90]), 5), 'jmp rel32');
  assert.not.ok(followsCall(Uint8Array.from([0xff, 0xe0, 0x90]), 2), 'jmp *%rax (ff /4)');
  assert.not.ok(followsCall(Uint8Array.from([0x48, 0x89, 0xc7, 0x90]), 3), 'mov %rax,%rdi');
  assert.not.ok(followsCall(Uint8Array.from([0x90]), 0), 'nothing before the start');
});

calls.run();

const ranges = suite('unsafeRanges');

ranges('replaced and unsafe functions become run-time ranges, once each', () => {
  const po: PatchObject = {
    targetBuildId: 'ab', targetName: 'p', text: new Uint8Array(8), rodata: new Uint8Array(0), data: new Uint8Array(0), bssSize: 0,
    symbols: [{ name: 'f', type: 'func', bind: 'global', size: 8, defined: { section: 'text', offset: 0 } }],
    relocations: [],
    functions: [{ symbol: 0, name: 'f', file: 'a.c', size: 8, replaces: { address: 0x1100n, size: 0x20 } }],
    unsafe: [
      { name: 'f', address: 0x1100n, size: 0x20, redirectTo: 0 },
      { name: 'g.cold', address: 0x1000n, size: 0x10 },
    ],
  };
  assert.equal(unsafeRanges(po, 0x5000n), [
    { name: 'f', start: 0x6100n, end: 0x6120n, why: 'replaces' },
    { name: 'g.cold', start: 0x6000n, end: 0x6010n, why: 'marks unsafe' },
  ]);
});

ranges.run();
