// bench/remote-alloc: what the data-patching applier pays inside the stop window to move a
// million-node heap list, measured piece by piece in a target that built such a list (target.c):
// HeapBlocks.read of its 64 MB heap and following the list with blockAt and read (first, before
// our allocations grow the heap); one empty remote call; TargetCalls.allocateEach(malloc, 32,
// COUNT) (as bigint[] and as a BigUint64Array) and freeEach of those blocks; callEach of a
// transformer over COUNT pairs. Each figure is the median of RUNS runs (min–max) and the first
// run's (later runs pay for the garbage of earlier ones: a 64 MB snapshot, a million bigints), all in
// one stop of the target.
//   node bench/remote-alloc/run.mjs [--count 1000000] [--runs 5]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProcessMemory } from '@katana/ptrace';
import { Target, compileC, tempDir } from '@katana/ptrace/testing';
import { HeapBlocks, TargetCalls, ThreadGroup, findAllocator, readMaps, readProcess, remoteCall } from '@katana/applier';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
const count = Number(values.count);
const runs = Number(values.runs);
const here = dirname(fileURLToPath(import.meta.url));

const { dir, remove } = tempDir('bench');
const target = await Target.start(compileC(join(here, 'target.c'), dir, ['-O2']), [String(count)]);
await target.waitFor((line) => line === 'ready');
const value = (prefix) => BigInt(target.lines.find((l) => l.startsWith(prefix)).split(' ').pop());
const nothing = value('fn nothing ');
const copyValue = value('fn copy_value ');
const head = value('head ');

const group = ThreadGroup.seize(target.pid);
group.stopAll();
const { pid } = target;
const memory = new ProcessMemory(pid);
const allocator = findAllocator(readProcess(pid), memory);
const calls = TargetCalls.open(pid, pid, memory, { timeoutMs: 10_000 });
const returnSite = calls.returnSite;

const figures = new Map();
const time = (name, fn) => {
  const t0 = process.hrtime.bigint();
  const result = fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!figures.has(name)) figures.set(name, []);
  figures.get(name).push(ms);
  return result;
};

const follow = (heap) => {
  const list = [];
  for (let p = head; p !== 0n;) {
    const block = heap.blockAt(p);
    if (block.rejected !== undefined) throw new Error(`node 0x${p.toString(16)}: ${block.rejected}`);
    list.push(p);
    const bytes = heap.read(p + 8n, 8);
    p = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  }
  if (list.length !== count) throw new Error(`followed ${list.length} nodes, not ${count}`);
  return list;
};
const heapMegabytes = () => {
  const heap = readMaps(pid).find((m) => m.path === '[heap]');
  return (Number(heap.end - heap.start) / 2 ** 20).toFixed(0);
};

try {
  // First the list as the target built it, before our own allocations grow its heap.
  const megabytes = heapMegabytes();
  let nodes;
  for (let run = 0; run < runs; run++) {
    const heap = time(`HeapBlocks.read (${megabytes} MB [heap])`, () => HeapBlocks.read(pid, memory));
    nodes = time(`follow the list: blockAt + read of ${count} nodes`, () => follow(heap));
  }
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < 100; i++) time('one empty remote call', () => remoteCall(pid, pid, nothing, [], { returnSite, timeoutMs: 1000, name: 'nothing', memory }));
    const blocks = time(`allocateEach(malloc, 32, ${count}) → bigint[]`, () => calls.allocateEach(allocator.malloc, 32, count));
    time(`freeEach of ${count} (bigint[])`, () => calls.freeEach(allocator.free, blocks));
    const array = time(`allocateEachArray(malloc, 32, ${count}) → BigUint64Array`, () => calls.allocateEachArray(allocator.malloc, 32, count));
    time(`freeEach of ${count} (BigUint64Array)`, () => calls.freeEach(allocator.free, array));
    const fresh = calls.allocateEachArray(allocator.malloc, 48, count);
    const pairs = nodes.map((old, i) => [fresh[i], old]);
    time(`callEach(copy_value) over ${count} pairs`, () => calls.callEach(copyValue, pairs, 'copy_value'));
    calls.freeEach(allocator.free, fresh);
  }
} finally {
  calls.close();
  memory.close();
  group.detachAll();
  await target.kill();
  remove();
}

const format = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`);
console.log(`remote-alloc: ${count} blocks, ${runs} runs, median (min–max) [first run]`);
for (const [name, list] of figures) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(`  ${name}: ${format(sorted[Math.floor(sorted.length / 2)])} (${format(sorted[0])}–${format(sorted[sorted.length - 1])}) [${format(list[0])}]`);
}
