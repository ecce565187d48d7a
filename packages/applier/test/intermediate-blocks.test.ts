// splitOldBlocks: the old blocks of each stage that the window allocated itself (an earlier stage's
// new blocks) are intermediate, the others the process's own, with the usable bytes of each part;
// stage order and block order are kept, and addresses above 2^32 compare exactly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { splitOldBlocks } from '../src/intermediate-blocks.js';

const split = suite('splitOldBlocks');
const HIGH = 0x5555_0000_0000n;

split('an earlier stage\'s new blocks moved again are intermediate; the process\'s own blocks are not', () => {
  const stage0 = { blocks: BigUint64Array.from([HIGH + 0x10n, HIGH + 0x30n]), usable: Uint32Array.from([24, 24]) };
  const allocatedByStage0 = BigUint64Array.from([HIGH + 0x9000n, HIGH + 0x9020n]);
  const stage1 = { blocks: BigUint64Array.from([HIGH + 0x9020n, HIGH + 0x50n, HIGH + 0x9000n]), usable: Uint32Array.from([32, 40, 32]) };
  const s = splitOldBlocks([stage0, stage1], [allocatedByStage0, BigUint64Array.from([HIGH + 0xa000n])]);
  assert.equal([...s.original], [HIGH + 0x10n, HIGH + 0x30n, HIGH + 0x50n]);
  assert.is(s.originalBytes, 24 + 24 + 40);
  assert.equal([...s.intermediate], [HIGH + 0x9020n, HIGH + 0x9000n]);
  assert.is(s.intermediateBytes, 64);
});

split('nothing allocated: every block is the process\'s own; the blocks next to an allocated one are not it', () => {
  // malloc's blocks are 16-byte aligned: the neighbours of a block are 16 bytes either side at the least.
  const stage = { blocks: BigUint64Array.from([HIGH + 0x20n, HIGH + 0x40n]), usable: Uint32Array.from([8, 8]) };
  assert.equal(splitOldBlocks([stage], []), { original: stage.blocks, originalBytes: 16, intermediate: new BigUint64Array(), intermediateBytes: 0 });
  const s = splitOldBlocks([stage], [BigUint64Array.from([HIGH + 0x10n, HIGH + 0x30n, HIGH + 0x50n])]);
  assert.is(s.intermediate.length, 0);
});

split('blocks on both sides of a 1 MiB page boundary, and in pages far apart (a thread arena), are told apart', () => {
  const edge = HIGH + 0x10_0000n;
  const arena = 0x7f00_1234_5670n;
  const stage = { blocks: BigUint64Array.from([edge - 0x10n, edge, arena, arena + 0x10n]), usable: Uint32Array.from([1, 2, 4, 8]) };
  const s = splitOldBlocks([stage], [BigUint64Array.from([edge, arena + 0x10n])]);
  assert.equal([...s.intermediate], [edge, arena + 0x10n]);
  assert.equal([...s.original], [edge - 0x10n, arena]);
  assert.equal([s.intermediateBytes, s.originalBytes], [10, 5]);
});

split.run();
