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

split('nothing allocated: every block is the process\'s own; a neighbour of an allocated block is not it', () => {
  const stage = { blocks: BigUint64Array.from([HIGH + 0x10n, HIGH + 0x11n]), usable: Uint32Array.from([8, 8]) };
  assert.equal(splitOldBlocks([stage], []), { original: stage.blocks, originalBytes: 16, intermediate: new BigUint64Array(), intermediateBytes: 0 });
  const s = splitOldBlocks([stage], [BigUint64Array.from([HIGH + 0x12n, HIGH + 0x0fn])]);
  assert.is(s.intermediate.length, 0);
});

split.run();
