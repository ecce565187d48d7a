// chooseRange(): where the patch area goes, on hand-written /proc/PID/maps snapshots of a non-PIE
// and a PIE process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseRange, parseMaps, REL32_REACH } from '../src/index.js';

const nonPie = parseMaps(`00400000-00401000 r--p 00000000 08:01 42 /tmp/prog
00401000-00402000 r-xp 00001000 08:01 42 /tmp/prog
00403000-00405000 rw-p 00002000 08:01 42 /tmp/prog
01e5d000-01e7e000 rw-p 00000000 00:00 0 [heap]
7f1c2a000000-7f1c2a1d0000 r-xp 00000000 08:01 7 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd4c3a0000-7ffd4c3c1000 rw-p 00000000 00:00 0 [stack]
`);

const pie = parseMaps(`55d0b8e00000-55d0b8e01000 r--p 00000000 08:01 42 /tmp/prog
55d0b8e01000-55d0b8e02000 r-xp 00001000 08:01 42 /tmp/prog
55d0b9a00000-55d0b9a21000 rw-p 00000000 00:00 0 [heap]
7f1c2a000000-7f1c2a1d0000 r-xp 00000000 08:01 7 /usr/lib/x86_64-linux-gnu/libc.so.6
`);

const choose = suite('chooseRange');

choose('a non-PIE exe gets the gap just below 0x400000', () => {
  const site = { start: 0x401126n, end: 0x40112bn, what: 'the trampoline in value' };
  const [best] = chooseRange(nonPie, { size: 0x2000n, reach: [site] }, { moduleStart: 0x400000n, heapStart: 0x1e5d000n });
  assert.is(best, 0x3fe000n);
});

choose('a PIE gets the gap just below its first mapping', () => {
  const site = { start: 0x55d0b8e01100n, end: 0x55d0b8e01105n, what: 'the trampoline in value' };
  const [best] = chooseRange(pie, { size: 0x1000n, reach: [site] }, { moduleStart: 0x55d0b8e00000n, heapStart: 0x55d0b9a00000n });
  assert.is(best, 0x55d0b8dff000n);
});

choose('every candidate keeps within rel32 reach and out of the heap room', () => {
  const site = { start: 0x401126n, end: 0x40112bn, what: 't' };
  const list = chooseRange(nonPie, { size: 0x400000n, reach: [site] }, { moduleStart: 0x400000n, heapStart: 0x1e5d000n });
  assert.ok(list.length > 0);
  for (const start of list) {
    assert.ok(start + 0x400000n - site.start <= REL32_REACH && site.end - start <= REL32_REACH);
    assert.ok(start + 0x400000n <= 0x1e5d000n || start >= 0x1e5d000n + (1n << 30n));
  }
});

choose('a 32-bit limit keeps the area below it', () => {
  const site = { start: 0x55d0b8e01100n, end: 0x55d0b8e01105n, what: 't' };
  const list = chooseRange(pie, { size: 0x1000n, reach: [site], limit: 1n << 32n }, { moduleStart: 0x55d0b8e00000n, heapStart: 0x55d0b9a00000n });
  assert.equal(list, []);
});

choose('no candidate when two sites are more than 2 GiB apart', () => {
  const a = { start: 0x401000n, end: 0x401005n, what: 'a' };
  const b = { start: 0x7f1c2a000000n, end: 0x7f1c2a000005n, what: 'b' };
  assert.equal(chooseRange(nonPie, { size: 0x1000n, reach: [a, b] }, { moduleStart: 0x400000n, heapStart: 0x1e5d000n }), []);
});

choose.run();
