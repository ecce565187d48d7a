// A patch's whole life on running programs (integration/fixtures/lifecycle/v{1,2,3}.c, PIE, -O0):
// v1 → v2 → v3 on one process, where v2 changes report() and adds bump() and the global counter,
// and v3 (made with `diff --old v2 --new v3 --after v1v2.po`) changes report() again and uses both;
// then rollback to v2 and to v1, then v2 again; `katana list` at every step. Each katana command is
// a separate process, so what one applied another lists and rolls back. The counter carries on
// from v2 into v3 (v3 uses v2's storage) and back; v1's entry jumps straight to v3's code (no chain
// through v2); a patch under another is refused without --all; compose(v1v2, v2v3) applied to a
// fresh v1 process behaves like v3 and lists one entry.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertToolsReadCleanly, readMaps } from '../lib/checks.js';
import { katana } from '../lib/katana.js';
import { repoRoot } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

interface Context {
  project: TempProject;
  v1: string;
  v1v2: string;
  v2v3: string;
  composed: string;
  target: RunningTarget;
}

const V1 = /^v1 tick \d+$/;
const V2 = /^v2 tick \d+ count \d+$/;
const V3 = /^v3 tick \d+ count \d+$/;
const fixtures = join(repoRoot, 'integration', 'fixtures', 'lifecycle');

const lifecycle = suite<Context>('patch lifecycle');

lifecycle.before(async (context) => {
  try {
    const project = (context.project = new TempProject('lifecycle'));
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
      await assertToolsReadCleanly(po);
      return po;
    };
    context.v1v2 = await diff(context.v1, v2, 'v1v2.po');
    context.v2v3 = await diff(v2, v3, 'v2v3.po', ['--after', context.v1v2]);
    context.composed = join(project.dir, 'v1v3.po');
    const compose = await katana(['compose', context.v1v2, context.v2v3, '-o', context.composed], project.dir);
    assert.is(compose.exitCode, 0, `katana compose: ${compose.stderr}`);
    await assertToolsReadCleanly(context.composed);
    context.target = new RunningTarget(context.v1);
    await context.target.waitForLine(V1);
  } catch (error) {
    // uvu swallows errors thrown by hooks; print it so the failure says why.
    console.error('setting up the lifecycle test failed:', error);
    throw error;
  }
});

lifecycle.after((context) => {
  context.target?.kill();
  context.project?.remove();
});

interface ListedPatch {
  id: string;
  name: string;
  area: { start: string; size: number };
  functions: { name: string; address: string; to: string; original: string }[];
}

async function list(context: Context, target = context.target): Promise<ListedPatch[]> {
  const r = await katana(['list', '--pid', String(target.pid), '--json'], context.project.dir);
  assert.is(r.exitCode, 0, `katana list: ${r.stderr}`);
  return JSON.parse(r.stdout).patches;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function run(context: Context, args: string[]): Promise<void> {
  const r = await katana(args, context.project.dir);
  assert.is(r.exitCode, 0, `katana ${args.join(' ')}: ${r.stderr}`);
}

/** Waits for 5 lines matching `pattern` after index `from`; returns the index of the first. */
async function switchedTo(target: RunningTarget, pattern: RegExp, from: number): Promise<number> {
  const first = await target.waitForLine(pattern, from);
  await target.waitForLine(pattern, first + 5);
  assert.equal(target.lines.slice(first).filter((l) => !pattern.test(l)), [], `only ${pattern} lines after the switch`);
  assert.ok(target.alive, 'target alive');
  return first;
}

/** The counts printed by v2/v3 lines in lines[from..], each one more than the one before. */
function assertCountsCarryOn(lines: string[], from: number, firstCount?: number): void {
  const counts = lines.slice(from).flatMap((l) => /count (\d+)$/.exec(l)?.slice(1).map(Number) ?? []);
  assert.ok(counts.length >= 2, `counts printed: ${JSON.stringify(lines.slice(from))}`);
  if (firstCount !== undefined) assert.is(counts[0], firstCount);
  counts.forEach((c, i) => {
    if (i > 0) assert.is(c, counts[i - 1]! + 1, `count after ${counts[i - 1]}: ${JSON.stringify(lines.slice(from))}`);
  });
}

/** Where the jmp rel32 at `address` of the process goes (undefined when there is no jmp). */
function jumpTarget(pid: number, address: bigint): bigint | undefined {
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const bytes = Buffer.alloc(5);
    readSync(fd, bytes, 0, 5, Number(address));
    return bytes[0] === 0xe9 ? address + 5n + BigInt(bytes.readInt32LE(1)) : undefined;
  } finally {
    closeSync(fd);
  }
}

const areaMapped = (pid: number, area: ListedPatch['area']) => new RegExp(`^${BigInt(area.start).toString(16)}-`, 'm').test(readMaps(pid));

lifecycle('v1 → v2 → v3 on one process: v3 uses v2\'s counter and bump(), and v1\'s entry jumps straight to v3', async (context) => {
  const { target } = context;
  const pid = String(target.pid);
  await run(context, ['apply', '--pid', pid, context.v1v2]);
  const v2From = await switchedTo(target, V2, 0);
  const [first] = await list(context);
  assert.equal([first!.name, first!.id], ['v1v2.po', sha256(context.v1v2)]);
  assert.equal(first!.functions.map((f) => f.name), ['report']);

  await run(context, ['apply', '--pid', pid, context.v2v3]);
  await switchedTo(target, V3, v2From);
  assertCountsCarryOn(target.lines, v2From, 1);
  const patches = await list(context);
  assert.equal(patches.map((p) => p.name), ['v1v2.po', 'v2v3.po']);
  const [atEntry, atCopy] = patches[1]!.functions;
  // The v3 trampoline overwrote v2's at the original entry (its saved bytes are v2's jmp), and
  // v2's copy of report() jumps to v3 as well, for calls made from inside patch 1.
  assert.is(atEntry!.name, 'report');
  assert.is(atEntry!.address, first!.functions[0]!.address);
  assert.is(atEntry!.original.slice(0, 2), 'e9');
  assert.is(atCopy!.name, `report (patch ${first!.id.slice(0, 12)})`);
  assert.is(atCopy!.address, first!.functions[0]!.to);
  assert.is(atCopy!.to, atEntry!.to);
  const area = patches[1]!.area;
  const v3Code = BigInt(atEntry!.to);
  assert.ok(v3Code >= BigInt(area.start) && v3Code < BigInt(area.start) + BigInt(area.size), 'v3 code in the second area');
  assert.is(jumpTarget(target.pid, BigInt(atEntry!.address)), v3Code, 'v1 entry → v3, no chain');
  assert.is(jumpTarget(target.pid, BigInt(atCopy!.address)), v3Code, 'v2 copy → v3');
});

lifecycle('rolling back a patch under another is refused without --all, naming the one above', async (context) => {
  const before = await list(context);
  const r = await katana(['rollback', '--pid', String(context.target.pid), 'v1v2.po'], context.project.dir);
  assert.is(r.exitCode, 1, r.stderr);
  const label = (p: ListedPatch) => `${p.name} (${p.id.slice(0, 12)})`;
  assert.is(r.stderr, `katana: patch ${label(before[0]!)} of pid ${context.target.pid} is under ${label(before[1]!)}; roll it back with it (name it, or --all)`);
  assert.equal(await list(context), before);
  await switchedTo(context.target, V3, context.target.lines.length);
});

lifecycle('rollback to v2 (the counter carries on), then to v1; each area is unmapped', async (context) => {
  const { target } = context;
  const pid = String(target.pid);
  const [one, two] = await list(context);
  const from = target.lines.length;
  const r = await katana(['rollback', '--pid', pid], context.project.dir);
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^katana rollback: rolled back 1 patch\\(es\\) of pid ${pid}, newest first: v2v3\\.po \\(${two!.id.slice(0, 12)}\\): report, report \\(patch ${one!.id.slice(0, 12)}\\); still applied: v1v2\\.po`));
  const v2From = await switchedTo(target, V2, from);
  assertCountsCarryOn(target.lines, from - 3);
  assert.equal(await list(context), [one]);
  assert.not.ok(areaMapped(target.pid, two!.area), 'v2v3 area unmapped');
  assert.ok(areaMapped(target.pid, one!.area), 'v1v2 area still mapped');
  assert.is(jumpTarget(target.pid, BigInt(one!.functions[0]!.address)), BigInt(one!.functions[0]!.to), 'v1 entry → v2 again');

  const json = await katana(['rollback', '--pid', pid, one!.id.slice(0, 8), '--json'], context.project.dir);
  assert.is(json.exitCode, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.rolledBack.map((p: { name: string }) => p.name), ['v1v2.po']);
  assert.equal(report.remaining, []);
  await switchedTo(target, V1, v2From);
  assert.equal(await list(context), []);
  assert.not.ok(areaMapped(target.pid, one!.area), 'v1v2 area unmapped');
  assert.is(jumpTarget(target.pid, BigInt(one!.functions[0]!.address)), undefined, 'original code back at report');

  const none = await katana(['rollback', '--pid', pid], context.project.dir);
  assert.is(none.exitCode, 3, none.stderr);
  assert.is(none.stderr, `katana: pid ${pid} has no patches applied; there is nothing to roll back`);
});

lifecycle('v2 again after the rollback (a fresh counter), then v3, then --all back to v1', async (context) => {
  const { target } = context;
  const pid = String(target.pid);
  let from = target.lines.length;
  await run(context, ['apply', '--pid', pid, context.v1v2]);
  const v2From = await switchedTo(target, V2, from);
  assertCountsCarryOn(target.lines, v2From, 1);
  assert.equal((await list(context)).map((p) => p.name), ['v1v2.po']);
  await run(context, ['apply', '--pid', pid, context.v2v3]);
  await switchedTo(target, V3, v2From);
  assertCountsCarryOn(target.lines, v2From, 1);
  from = target.lines.length;
  await run(context, ['rollback', '--pid', pid, '--all']);
  await switchedTo(target, V1, from);
  assert.equal(await list(context), []);
});

lifecycle('compose(v1v2, v2v3) on a fresh v1 process behaves like v3 and lists one entry', async (context) => {
  const inspect = await katana(['inspect', '--json', context.composed], context.project.dir);
  assert.is(inspect.exitCode, 0, inspect.stderr);
  assert.equal(JSON.parse(inspect.stdout).base, []);
  const fresh = new RunningTarget(context.v1);
  try {
    await fresh.waitForLine(V1);
    await run(context, ['apply', '--pid', String(fresh.pid), context.composed]);
    const v3From = await switchedTo(fresh, V3, 0);
    assertCountsCarryOn(fresh.lines, v3From, 1);
    const patches = await list(context, fresh);
    assert.equal(patches.map((p) => p.name), ['v1v3.po']);
    // The union of what v1v2 and v2v3 redirect at the program's own functions: report.
    assert.equal(patches[0]!.functions.map((f) => f.name), ['report']);
    assert.is(jumpTarget(fresh.pid, BigInt(patches[0]!.functions[0]!.address)), BigInt(patches[0]!.functions[0]!.to));
    // The parts cannot be applied over it: AB is not A's result plus A.
    const r = await katana(['apply', '--pid', String(fresh.pid), context.v2v3], context.project.dir);
    assert.is(r.exitCode, 1, r.stderr);
    const from = fresh.lines.length;
    await run(context, ['rollback', '--pid', String(fresh.pid)]);
    await switchedTo(fresh, V1, from);
  } finally {
    fresh.kill();
  }
});

lifecycle('compose refuses a B that was not made on top of A', async (context) => {
  const out = join(context.project.dir, 'wrong.po');
  const r = await katana(['compose', context.v2v3, context.v1v2, '-o', out], context.project.dir);
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stderr, /^katana: v1v2\.po expects no patches applied, but v2v3\.po leaves patches \[[0-9a-f]{12}, [0-9a-f]{12}\]; it must be made with katana diff --after v2v3\.po$/);
});

lifecycle.run();
