// Name lookups of the constant families: spec spelling for known values, `PREFIX? (0x..)` otherwise.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  R_X86_64_PC32, R_X86_64_REX_GOTPCRELX, SHT_GNU_versym, SHT_PROGBITS, emName, etName, ptName, relocTypeName, shtName,
  stbName, sttName, stvName, PT_GNU_STACK, ET_DYN, EM_X86_64, STT_GNU_IFUNC, STB_WEAK, STV_HIDDEN,
} from '../src/index.js';

const names = suite('name lookups');

names('print spec spelling for known values', () => {
  assert.is(shtName(SHT_PROGBITS), 'SHT_PROGBITS');
  assert.is(shtName(SHT_GNU_versym), 'SHT_GNU_versym');
  assert.is(relocTypeName(R_X86_64_PC32), 'R_X86_64_PC32');
  assert.is(relocTypeName(R_X86_64_REX_GOTPCRELX), 'R_X86_64_REX_GOTPCRELX');
  assert.is(ptName(PT_GNU_STACK), 'PT_GNU_STACK');
  assert.is(etName(ET_DYN), 'ET_DYN');
  assert.is(emName(EM_X86_64), 'EM_X86_64');
  assert.is(sttName(STT_GNU_IFUNC), 'STT_GNU_IFUNC');
  assert.is(stbName(STB_WEAK), 'STB_WEAK');
  assert.is(stvName(STV_HIDDEN), 'STV_HIDDEN');
});

names('print the prefix and the hex value for unknown values', () => {
  assert.is(shtName(0x6ffffff1), 'SHT_? (0x6ffffff1)');
  assert.is(relocTypeName(0x2b), 'R_X86_64_? (0x2b)');
  assert.is(ptName(0x6474e554), 'PT_? (0x6474e554)');
});

names.run();
