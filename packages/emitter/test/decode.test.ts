// InstructionMap: instruction ends, which correct PC-relative addends.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InstructionMap } from '../src/decode.js';

const map = suite('InstructionMap');

map('finds the end of an instruction whose displacement is followed by an immediate', () => {
  // cmpb $0x0, 0x0(%rip) ; ret   (80 3d <disp32> 00, c3): the disp32 at 2 belongs to an instruction ending at 7.
  const code = Uint8Array.of(0x80, 0x3d, 0, 0, 0, 0, 0x00, 0xc3);
  const instructions = new InstructionMap(code);
  assert.is(instructions.endOf(2), 7);
  assert.is(instructions.endOf(7), 8);
  assert.is(instructions.endOf(8), undefined);
});

map('finds the end of a call rel32', () => {
  // call rel32 ; ret
  const instructions = new InstructionMap(Uint8Array.of(0xe8, 0, 0, 0, 0, 0xc3));
  assert.is(instructions.endOf(1), 5);
});

map.run();
