// Heap data patching as a user runs it, beyond what each case checks: the heap_list case (a
// 10,000-node list from a global whose node gains a member) applied with --free-old (the old blocks
// go back to the target's allocator, and the program keeps pushing and freeing nodes on the new
// ones), and `katana inspect` describing the followed pointer and the type's layout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCase, type CaseBuild } from '../lib/case-build.js';
import { loadCases } from '../lib/cases.js';
import { katana } from '../lib/katana.js';
import { RunningTarget } from '../lib/target.js';

const heap = suite<{ build: CaseBuild; target?: RunningTarget }>('heap data patching');

heap.before(async (ctx) => {
  try {
    const spec = loadCases().find((c) => c.name === 'heap_list');
    if (!spec) throw new Error('integration/cases/heap_list is missing');
    ctx.build = await buildCase(spec);
    if (ctx.build.diff.exitCode !== 0) throw new Error(`katana diff failed: ${ctx.build.diff.stderr}`);
  } catch (error) {
    console.error('heap data patching: before failed:', error);
    throw error;
  }
});

heap.after((ctx) => {
  ctx.target?.kill();
  ctx.build?.project.remove();
});

heap('katana inspect shows the followed pointer and where each member of the node comes from', async ({ build }) => {
  const inspect = await katana(['inspect', build.po], build.project.dir);
  assert.is(inspect.exitCode, 0, inspect.stderr);
  assert.match(inspect.stdout, /followed {2}head \(main\.c\): 8 bytes at 0x[0-9a-f]+, pointers to struct node followed and updated in place/);
  assert.match(inspect.stdout, /type {6}struct node \(main\.c\): 16 -> 24 bytes/);
  assert.match(inspect.stdout, /weight at 8, 8 bytes: initializer/);
  assert.match(inspect.stdout, /next at 16, 8 bytes: old \+8, pointer followed/);
  assert.match(inspect.stdout, /needs {5}malloc: /, 'the PO names the allocator');
});

heap('apply --free-old frees the 10,000 old blocks and the program keeps allocating and freeing nodes', async (ctx) => {
  const { build } = ctx;
  const target = new RunningTarget(build.deployed);
  ctx.target = target;
  await target.waitForLine(/^list 10000 nodes ok \d+$/);
  const apply = await katana(['apply', '--pid', String(target.pid), '--free-old', build.po], build.project.dir);
  assert.is(apply.exitCode, 0, apply.stderr);
  assert.match(apply.stdout, /10000 heap block\(s\) moved to new blocks \(struct node: 10000\); old blocks freed/);
  const first = await target.waitForLine(/^v2 list 10000 nodes ok \d+ weight \d+$/);
  // 50 more ticks: each pushes a node (malloc) and frees the last (free of a moved block, then of new ones).
  await target.waitForLine(/^v2 list 10000 nodes ok \d+ weight \d+$/, first + 50);
  assert.equal(target.lines.slice(first).filter((l) => !/^v2 list 10000 nodes ok \d+ weight \d+$/.test(l)), [], 'every line after the patch is a healthy v2 line');
  assert.ok(target.alive, 'the target survived');
});

heap.run();
