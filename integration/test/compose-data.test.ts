// Composing two patches that transform data (docs/lifecycle.md, "Composition"), on
// integration/fixtures/compose_data: a queue of 2,000 heap nodes from `head`, its counters in
// `stats`, a setting in `config`. v1 → v2 (A) gives the node a `weight` and the counters `pushes`;
// v2 → v3 (B, made --after A) gives the node a `color` in front, the counters `drops`, and `config`
// a `limit` with an initializer. AB = compose(A, B) transforms in two stages in one stop: B's stage
// reads the storage and the heap blocks A's stage wrote. One process gets A then B, another AB;
// both must print the same v3 lines (the same invariants: counters carried, no node lost), list
// the same functions, variables and types (one entry against two), and roll back to v1 alike.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertToolsReadCleanly } from '../lib/checks.js';
import { katana } from '../lib/katana.js';
import { repoRoot } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

interface Context {
  project: TempProject;
  v1: string;
  a: string;
  b: string;
  ab: string;
  /** Patched with A then B. */
  stacked: RunningTarget;
  /** Patched with AB. */
  composed: RunningTarget;
}

const V1 = /^v1 list 2000 nodes ok (\d+)$/;
const V3 = /^v3 list 2000 nodes ok (\d+) weight (\d+) pushes (\d+) drops (\d+) color (\d+) limit (\d+)$/;
const fixtures = join(repoRoot, 'integration', 'fixtures', 'compose_data');

const compose = suite<Context>('composing data patches');

compose.before(async (context) => {
  try {
    const project = (context.project = new TempProject('compose-data'));
    const build = async (version: number): Promise<string> => {
      project.write('main.c', readFileSync(join(fixtures, `v${version}.c`), 'utf8'));
      return project.build(['main.c'], `prog-v${version}`, ['-O0'], []);
    };
    context.v1 = await build(1);
    const v2 = await build(2);
    const v3 = await build(3);
    const diff = async (old: string, to: string, out: string, extra: string[] = []): Promise<string> => {
      const po = join(project.dir, out);
      const r = await katana(['diff', '--old', old, '--new', to, '-o', po, ...extra], project.dir, project.env);
      assert.is(r.exitCode, 0, `katana diff ${out}: ${r.stderr}`);
      return po;
    };
    context.a = await diff(context.v1, v2, 'a.po');
    context.b = await diff(v2, v3, 'b.po', ['--after', context.a]);
    context.ab = join(project.dir, 'ab.po');
    const r = await katana(['compose', context.a, context.b, '-o', context.ab], project.dir);
    assert.is(r.exitCode, 0, `katana compose: ${r.stderr}`);
    await assertToolsReadCleanly(context.ab);
    context.stacked = new RunningTarget(context.v1);
    context.composed = new RunningTarget(context.v1);
    await context.stacked.waitForLine(V1);
    await context.composed.waitForLine(V1);
  } catch (error) {
    // uvu swallows errors thrown by hooks; print it so the failure says why.
    console.error('setting up the compose-data test failed:', error);
    throw error;
  }
});

compose.after((context) => {
  context.stacked?.kill();
  context.composed?.kill();
  context.project?.remove();
});

interface ListedPatch {
  name: string;
  functions: { name: string }[];
  data?: {
    types: { name: string; oldSize: number; newSize: number; reversible: boolean; dropped: string[] }[];
    variables: { name: string; file: string; type: number; oldAddress: string; newAddress: string; inPlace: boolean; pointer: boolean; stage: number }[];
  };
}

async function list(context: Context, target: RunningTarget): Promise<ListedPatch[]> {
  const r = await katana(['list', '--pid', String(target.pid), '--json'], context.project.dir);
  assert.is(r.exitCode, 0, `katana list: ${r.stderr}`);
  return JSON.parse(r.stdout).patches;
}

async function run(context: Context, args: string[]): Promise<string> {
  const r = await katana(args, context.project.dir);
  assert.is(r.exitCode, 0, `katana ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Waits for 5 v3 lines after `from`; checks every line from the switch on is one (no "corrupt"),
 * that the queue's counter carries on from the line before the switch, and the v3 invariants:
 * every node pushed since the v2 layout weighs 1 (weight = pushes), every node pushed since v3 has
 * colour 3 (color = 3 × drops), the limit is v3's initializer. Returns the first v3 line's numbers.
 */
async function assertV3(target: RunningTarget, from: number): Promise<{ pushes: number; drops: number }> {
  const first = await target.waitForLine(V3, from);
  await target.waitForLine(V3, first + 5);
  const lines = target.lines.slice(first);
  assert.equal(lines.filter((l) => !V3.test(l)), [], 'only v3 lines after the switch');
  const before = /ok (\d+)/.exec(target.lines[first - 1]!);
  assert.ok(before, `a line before the switch: ${target.lines[first - 1]}`);
  let counter = Number(before[1]);
  for (const line of lines) {
    const [, ok, weight, pushes, drops, color, limit] = V3.exec(line)!.map(Number);
    assert.is(ok, ++counter, `the counter carries on: ${line}`);
    assert.is(weight, pushes, `weight = pushes: ${line}`);
    assert.is(color, 3 * drops!, `color = 3 x drops: ${line}`);
    assert.is(limit, 2000, `limit from v3's initializer: ${line}`);
  }
  assert.ok(target.alive, 'target alive');
  const [, , , pushes, drops] = V3.exec(lines[0]!)!.map(Number);
  return { pushes: pushes!, drops: drops! };
}

compose('AB transforms in two stages: B\'s variables read the storage A\'s wrote', async (context) => {
  const inspect = JSON.parse(await run(context, ['inspect', '--json', context.ab]));
  assert.equal(inspect.base, []);
  assert.equal(inspect.transformed.map((v: { name: string; stage: number }) => `${v.name}@${v.stage}`), ['stats@0', 'head@0', 'stats@1', 'config@1', 'head@1']);
  assert.equal(inspect.types.map((t: { name: string; stage: number; oldSize: number; newSize: number }) => `${t.name}@${t.stage} ${t.oldSize}->${t.newSize}`), [
    'struct stats@0 24->32', 'struct node@0 16->24', 'struct stats@1 32->40', 'struct config@1 4->8', 'struct node@1 24->32',
  ]);
  // Stage 1 reads stats where stage 0 put it, in the patch; config, which A left alone, where the program has it.
  const stats1 = inspect.transformed[2];
  assert.match(stats1.oldAddress, /^\.bss\.new\+0x[0-9a-f]+$/);
  assert.is(stats1.oldSize, 32);
  assert.match(inspect.transformed[3].oldAddress, /^0x[0-9a-f]+$/);
  const text = await run(context, ['inspect', context.ab]);
  assert.match(text, /moved {5}stats \(main\.c\) \[stage 1\]: struct stats, 32 -> 40 bytes, from \.bss\.new\+0x[0-9a-f]+ to \.bss\.new/);
});

compose('applying AB behaves as applying A then B: the same v3 invariants, the same functions, variables and types listed', async (context) => {
  const { stacked, composed } = context;
  // A then B, the second after the program ran a while in v2.
  await run(context, ['apply', '--pid', String(stacked.pid), context.a]);
  const v2From = await stacked.waitForLine(/^v2 list 2000 nodes ok \d+ weight \d+ pushes \d+$/);
  await stacked.waitForLine(/^v2 /, v2From + 3);
  const fromStacked = stacked.lines.length;
  await run(context, ['apply', '--pid', String(stacked.pid), context.b]);
  const afterB = await assertV3(stacked, fromStacked);
  assert.ok(afterB.pushes > 1, 'pushes counted in v2 carry into v3');
  assert.is(afterB.drops, 1, 'drops start with v3');

  // AB, with --free-old: the v1 blocks are freed after the switch, the v2 blocks between the stages in any case.
  const fromComposed = composed.lines.length;
  const report = JSON.parse(await run(context, ['apply', '--pid', String(composed.pid), '--free-old', '--json', context.ab]));
  assert.equal(report.moved.map((m: { variable: string; stage: number }) => `${m.variable}@${m.stage}`), ['stats@0', 'head@0', 'stats@1', 'config@1', 'head@1']);
  assert.is(report.data.stages, 2);
  assert.equal(report.data.moved.map((m: { type: string; stage: number; blocks: number }) => `${m.type}@${m.stage}: ${m.blocks}`), ['struct node@0: 2000', 'struct node@1: 2000']);
  assert.equal(report.data.intermediate, { blocks: 2000, bytes: 2000 * 24, freed: true });
  assert.is(report.data.freedOld, true);
  assert.equal(report.warnings, []);
  const afterAB = await assertV3(composed, fromComposed);
  assert.equal(afterAB, { pushes: 1, drops: 1 }, 'pushes and drops start with the switch');

  const [entryA, entryB] = await list(context, stacked);
  const [entryAB, ...more] = await list(context, composed);
  assert.equal(more, []);
  assert.is(entryAB!.name, 'ab.po');
  // The program's own functions (B also redirected A's copies, which AB never had).
  const own = (p: ListedPatch) => p.functions.map((f) => f.name).filter((n) => !n.includes('(patch '));
  assert.equal(own(entryAB!).sort(), [...new Set([...own(entryA!), ...own(entryB!)])].sort());
  const variables = (p: ListedPatch, stage?: number) => p.data!.variables.map((v) => ({ name: v.name, file: v.file, inPlace: v.inPlace, pointer: v.pointer, stage: stage ?? v.stage }));
  assert.equal(variables(entryAB!), [...variables(entryA!, 0), ...variables(entryB!, 1)]);
  assert.equal(entryAB!.data!.types, [...entryA!.data!.types, ...entryB!.data!.types]);
  // Stage 1 reads stats where stage 0 wrote it, as B read it from A's storage.
  const stats = entryAB!.data!.variables.filter((v) => v.name === 'stats');
  assert.is(stats[1]!.oldAddress, stats[0]!.newAddress);
  assert.is(entryB!.data!.variables.find((v) => v.name === 'stats')!.oldAddress, entryA!.data!.variables.find((v) => v.name === 'stats')!.newAddress);
});

compose('a rollback of AB transforms both stages back, last first, as a rollback of B and A does', async (context) => {
  const { stacked, composed } = context;
  const fromComposed = composed.lines.length;
  const out = await run(context, ['rollback', '--pid', String(composed.pid)]);
  assert.match(out, /data of ab\.po \([0-9a-f]{12}\) transformed back: 5 global object\(s\) in 2 stages; 4000 heap block\(s\) moved back to blocks of the old layout \(struct node \[stage 1\]: 2000, struct node \[stage 0\]: 2000\); 2000 intermediate block\(s\) \(\d+ bytes, allocated in this stop and moved again\) freed; /);
  for (const dropped of ["member 'pushes' of struct stats", "member 'weight' of struct node", "member 'drops' of struct stats", "member 'limit' of struct config", "member 'color' of struct node"]) {
    assert.ok(out.includes(`${dropped} is dropped`), `says ${dropped} is dropped: ${out}`);
  }
  const fromStacked = stacked.lines.length;
  const stackedOut = await run(context, ['rollback', '--pid', String(stacked.pid), '--all']);
  // B's reverse gave the nodes v2 blocks, A's moved them again: intermediate, freed like AB's.
  assert.match(stackedOut, /data of a\.po \([0-9a-f]{12}\) transformed back: 2 global object\(s\); 2000 heap block\(s\) moved back to blocks of the old layout \(struct node: 2000\); 2000 intermediate block\(s\) \(\d+ bytes, allocated in this stop and moved again\) freed; /);
  for (const [target, from] of [[composed, fromComposed], [stacked, fromStacked]] as const) {
    const first = await target.waitForLine(V1, from);
    await target.waitForLine(V1, first + 5);
    const lines = target.lines.slice(first);
    assert.equal(lines.filter((l) => !V1.test(l)), [], 'only v1 lines after the rollback, no node lost');
    let counter = Number(/ok (\d+)/.exec(target.lines[first - 1]!)![1]);
    for (const line of lines) assert.is(Number(V1.exec(line)![1]), ++counter, `the counter carries on: ${line}`);
    assert.equal(await list(context, target), []);
  }
});

compose.run();
