// HeapBlocks on a real program (fixtures/blocks.c, dynamic and -static) that mallocs blocks of 24,
// 40, 1000 and 200000 bytes (mmapped) in its main thread and 24, 1000, 5000 in a second thread's
// own arena, frees some, and prints each block's address, malloc_usable_size and fate. Live blocks
// must be found with glibc's usable size and their bytes readable from the snapshot; interior,
// stack and global pointers, unmapped blocks, blocks in a tcache and blocks in the unsorted bin are
// rejected. Blocks in a fastbin are a known limit: they keep their in-use bit and are accepted.
// Addresses are numbers in HeapBlocks' API (user space is below 2^47).
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessMemory } from '@katana/ptrace';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { HeapBlocks } from '../src/heap-blocks.js';
import { ThreadGroup } from '../src/threads.js';

const source = fileURLToPath(new URL('../../test/fixtures/blocks.c', import.meta.url));

interface Block {
  index: number;
  name: string;
  address: bigint;
  usable: number;
  state: 'live' | 'tcache' | 'fastbin' | 'freed' | 'unmapped';
}

interface Context {
  remove: () => void;
  target: Target;
  group: ThreadGroup;
  memory: ProcessMemory;
  heap: HeapBlocks;
  blocks: Block[];
  stack: bigint;
  global: bigint;
}

/** blockAt's verdict without the region and granule numbering (which the object graph uses). */
function found(heap: HeapBlocks, address: bigint): { start: number; usable: number } | { rejected: string } {
  const verdict = heap.blockAt(Number(address));
  return 'rejected' in verdict ? verdict : { start: verdict.start, usable: verdict.usable };
}

for (const build of ['dynamic', 'static'] as const) {
  const test = suite<Context>(`HeapBlocks in a ${build} executable`);

  test.before(async (ctx) => {
    const { dir, remove } = tempDir('applier');
    ctx.remove = remove;
    ctx.target = await Target.start(compileC(source, dir, ['-pthread', ...(build === 'static' ? ['-static'] : [])]));
    await ctx.target.waitFor((line) => line === 'ready');
    ctx.blocks = ctx.target.lines.filter((l) => l.startsWith('block ')).map((l, index) => {
      const [, name, address, usable, state] = l.split(' ');
      return { index, name: name!, address: BigInt(address!), usable: Number(usable), state: state as Block['state'] };
    });
    const value = (prefix: string) => BigInt(ctx.target.lines.find((l) => l.startsWith(prefix))!.split(' ')[1]!);
    ctx.stack = value('stack ');
    ctx.global = value('global ');
    ctx.group = ThreadGroup.seize(ctx.target.pid);
    ctx.group.stopAll();
    // HeapBlocks reads each heap when a pointer first lands in it: the memory stays open until after.
    ctx.memory = new ProcessMemory(ctx.target.pid);
    ctx.heap = HeapBlocks.read(ctx.target.pid, ctx.memory);
  });

  test.after(async (ctx) => {
    ctx.memory.close();
    ctx.group.detachAll();
    await ctx.target.kill();
    ctx.remove();
  });

  test('the main arena and the thread\'s arena are walked chunk by chunk', ({ heap }) => {
    const kinds = heap.heaps.filter((h) => h.chunks > 0).map((h) => h.kind);
    assert.ok(kinds.includes('main arena'), JSON.stringify(heap.heaps, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
    assert.ok(kinds.includes('thread arena'));
    assert.ok(heap.heaps.every((h) => h.chunks > 0), 'no heap left to header checks');
    assert.ok(heap.knowsTcache, 'the tcache key was found');
  });

  test('every live block is found with malloc_usable_size, and its bytes read from the snapshot', ({ heap, blocks }) => {
    const live = blocks.filter((b) => b.state === 'live');
    assert.ok(live.length > 40);
    for (const b of live) {
      assert.equal(found(heap, b.address), { start: Number(b.address), usable: b.usable }, `${b.name} at 0x${b.address.toString(16)}`);
      const bytes = heap.read(Number(b.address), b.usable);
      assert.ok(bytes !== undefined && bytes.length === b.usable && bytes.every((x) => x === (b.index & 0xff)), `contents of ${b.name} #${b.index}`);
    }
  });

  test('interior pointers are not the start of a block', ({ heap, blocks }) => {
    for (const b of blocks.filter((x) => x.state === 'live')) {
      // the second 16 bytes, misaligned ones, and the last 16-aligned address inside the block
      for (const offset of [16n, 8n, 1n, BigInt((b.usable - 1) & ~15)]) {
        assert.equal(found(heap, b.address + offset), { rejected: 'not the start of a block' }, `${b.name} + ${offset}`);
      }
    }
  });

  test('stack, global and null pointers are not in the heap', ({ heap, stack, global }) => {
    assert.equal(found(heap, stack), { rejected: 'not in the heap' });
    assert.equal(found(heap, global & ~15n), { rejected: 'not in the heap' });
    assert.equal(found(heap, 0n), { rejected: 'not in the heap' });
    assert.is(heap.read(Number(stack), 8), undefined, '[stack] is not a heap');
  });

  test('freed blocks: tcache, unsorted bin and unmapped ones are rejected; fastbin ones are not detected', ({ heap, blocks }) => {
    const verdicts = (state: Block['state']) => blocks.filter((b) => b.state === state).map((b) => found(heap, b.address));
    assert.is(verdicts('tcache').length, 15);
    for (const v of verdicts('tcache')) assert.equal(v, { rejected: 'in a freed block (in a tcache)' });
    assert.is(verdicts('freed').length, 2);
    for (const v of verdicts('freed')) assert.equal(v, { rejected: 'in a freed block' });
    assert.is(verdicts('unmapped').length, 2);
    for (const v of verdicts('unmapped')) assert.equal(v, { rejected: 'not in the heap' });
    // The known limit (see heap-blocks.ts): a fastbin chunk keeps its in-use bit.
    for (const b of blocks.filter((x) => x.state === 'fastbin')) assert.equal(found(heap, b.address), { start: Number(b.address), usable: 24 });
  });

  test.run();
}
