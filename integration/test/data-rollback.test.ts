// Rolling back patches that transformed data (docs/data-patching.md, "Rollback"), on running programs
// built from the integration cases (integration/cases/<case>/{main.c, fix.patch}):
//   struct_member_added  a global struct gains a member: apply, let it run, roll back (the PO file
//                        is gone by then: the registry is all a rollback needs), the counters carry
//                        on in the old layout and the rollback says the new member is dropped; apply
//                        again; an entry as a version 2 registry shows it (no data block) is refused
//                        as before, and rolls back from a version 3 region (data blocks, no stages);
//   heap_list            10,000 heap nodes moved to a new layout and back: none is lost, the program
//                        keeps pushing and freeing; --free-old frees the blocks of the patch's layout;
//                        a version 2 region an older katana left is bumped to the current version
//                        (REGISTRY_VERSION) by the next apply;
//   union_transformer    a union converted by a transformer has no reverse: the rollback is refused
//                        with one sentence, and the process keeps the patch;
//   and a v2 → v3 patch of struct_member_added (`diff --after`: the struct gains one more member,
//   moved from patch 1's storage to patch 2's): rolled back one at a time, each to the layout below;
//   a rollback of both that fails in its stop window after transforming patch 2's data back (patch
//   1's record made to name unreadable storage) restores every byte it wrote, and both stay.
// Every katana command is its own process: the one that rolls back never saw the PO being applied.
import { closeSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertToolsReadCleanly, readMaps } from '../lib/checks.js';
import { readRegistry, REGISTRY_VERSION } from '@katana/applier';
import { katana, type CliResult } from '../lib/katana.js';
import { casesDir } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

interface Built {
  project: TempProject;
  v1: string;
  po: string;
  diff: CliResult;
}

interface Context {
  stats: Built;
  /** struct_member_added's v2 → v3 patch, made --after stats.po. */
  v2v3: string;
  heap: Built;
  union: Built;
  targets: RunningTarget[];
}

const STATS_V1 = /^hits (\d+) misses \1 errors \1$/;
const STATS_V2 = /^v2 hits (\d+) misses \1 errors \1 bytes (\d+)$/;
const HEAP_V1 = /^list 10000 nodes ok (\d+)$/;
const HEAP_V2 = /^v2 list 10000 nodes ok (\d+) weight \d+$/;
const UNION_V2 = /^v2 value (\d+)$/;

/** Builds a case's v1 and v2 with katana-cc and diffs them into fix.po. */
async function buildCase(name: string): Promise<Built> {
  const project = new TempProject(`rollback-${name}`);
  project.copyIn(join(casesDir, name, 'main.c'), 'main.c');
  const v1 = await project.build(['main.c'], 'prog', ['-O0'], []);
  await project.patch(join(casesDir, name, 'fix.patch'));
  const v2 = await project.build(['main.c'], 'prog-v2', ['-O0'], []);
  const po = join(project.dir, 'fix.po');
  const diff = await katana(['diff', '--old', v1, '--new', v2, '-o', po], project.dir, project.env);
  assert.is(diff.exitCode, 0, `katana diff of ${name}: ${diff.stderr}`);
  await assertToolsReadCleanly(po);
  return { project, v1, po, diff };
}

/** struct_member_added's v3 (struct stats gains `calls`), built in its project, and the v2 → v3 PO. */
async function buildV3(stats: Built): Promise<string> {
  const { project } = stats;
  const v2 = readFileSync(join(project.dir, 'main.c'), 'utf8');
  const v3 = v2
    .replace('\tlong bytes;\n};', '\tlong bytes;\n\tlong calls;\n};')
    .replace('\tstats.bytes++;\n', '\tstats.bytes++;\n\tstats.calls += 2;\n')
    .replace('"v2 hits %d misses %ld errors %d bytes %ld\\n", hits(), stats.misses, stats.errors, stats.bytes', '"v3 hits %d misses %ld errors %d bytes %ld calls %ld\\n", hits(), stats.misses, stats.errors, stats.bytes, stats.calls');
  assert.ok(v3.includes('calls %ld'), 'v3 source made from v2');
  project.write('main.c', v3);
  const prog2 = join(project.dir, 'prog-v2');
  const prog3 = await project.build(['main.c'], 'prog-v3', ['-O0'], []);
  const po = join(project.dir, 'v2v3.po');
  const diff = await katana(['diff', '--old', prog2, '--new', prog3, '--after', stats.po, '-o', po], project.dir, project.env);
  assert.is(diff.exitCode, 0, `katana diff v2v3: ${diff.stderr}`);
  await assertToolsReadCleanly(po);
  return po;
}

const STATS_V3 = /^v3 hits (\d+) misses \1 errors \1 bytes (\d+) calls (\d+)$/;

const rollback = suite<Context>('rollback of data patches');

rollback.before(async (context) => {
  try {
    context.targets = [];
    context.stats = await buildCase('struct_member_added');
    context.v2v3 = await buildV3(context.stats);
    context.heap = await buildCase('heap_list');
    context.union = await buildCase('union_transformer');
  } catch (error) {
    // uvu swallows errors thrown by hooks; print it so the failure says why.
    console.error('setting up the data rollback test failed:', error);
    throw error;
  }
});

rollback.after((context) => {
  for (const t of context.targets ?? []) t.kill();
  for (const b of [context.stats, context.heap, context.union]) b?.project.remove();
});

function start(context: Context, exe: string): RunningTarget {
  const target = new RunningTarget(exe);
  context.targets.push(target);
  return target;
}

async function run(built: Built, args: string[]): Promise<CliResult> {
  const r = await katana(args, built.project.dir);
  assert.is(r.exitCode, 0, `katana ${args.join(' ')}: ${r.stderr}`);
  assert.is(r.stderr, '', `katana ${args.join(' ')} warned`);
  return r;
}

/** Waits for `count` lines matching `pattern` from the first one after `from`; every line from it on must match. Returns its index. */
async function switchedTo(target: RunningTarget, pattern: RegExp, from: number, count = 5): Promise<number> {
  const first = await target.waitForLine(pattern, from);
  await target.waitForLine(pattern, first + count);
  assert.equal(target.lines.slice(first).filter((l) => !pattern.test(l)), [], `only ${pattern} lines after the switch`);
  assert.ok(target.alive, 'target alive');
  return first;
}

/** The counter of the last line before `first` matching `before` and of line `first` (matching `after`), group 1 of each. */
function counters(target: RunningTarget, before: RegExp, after: RegExp, first: number): [number, number] {
  const last = target.lines.slice(0, first).filter((l) => before.test(l)).pop();
  assert.ok(last, `a line matching ${before} before line ${first}`);
  return [Number(before.exec(last)![1]), Number(after.exec(target.lines[first]!)![1])];
}

function readMemory(pid: number, address: bigint, size: number): Buffer {
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const bytes = Buffer.alloc(size);
    readSync(fd, bytes, 0, size, Number(address));
    return bytes;
  } finally {
    closeSync(fd);
  }
}

function writeMemory(pid: number, address: bigint, bytes: Buffer): void {
  const fd = openSync(`/proc/${pid}/mem`, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, Number(address));
  } finally {
    closeSync(fd);
  }
}

/**
 * Where the first entry of the registry of `pid` keeps its only variable's new storage address: its
 * data block ends the entry, and the variable record (stats, main.c: 56 bytes) ends the block.
 */
function patch1RecordNewAddress(pid: number): bigint {
  const line = readMaps(pid).split('\n').find((l) => l.includes('/memfd:katana-registry'))!;
  const region = BigInt(`0x${line.split('-')[0]}`);
  const entryEnd = 64 + readMemory(pid, region + 64n, 4).readUInt32LE();
  return region + BigInt(entryEnd - 56 + 8);
}

/** Rewrites the format version in the header of the registry of `pid` (as an older katana would have written it). */
function setRegistryVersion(pid: number, version: number): void {
  const line = readMaps(pid).split('\n').find((l) => l.includes('/memfd:katana-registry'));
  assert.ok(line, `pid ${pid} has a registry`);
  const start = Number.parseInt(line.split('-')[0]!, 16);
  const fd = openSync(`/proc/${pid}/mem`, 'r+');
  try {
    const bytes = Buffer.alloc(2);
    bytes.writeUInt16LE(version);
    writeSync(fd, bytes, 0, 2, start + 8);
  } finally {
    closeSync(fd);
  }
}

function registryVersion(pid: number): number {
  const line = readMaps(pid).split('\n').find((l) => l.includes('/memfd:katana-registry'))!;
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const bytes = Buffer.alloc(2);
    readSync(fd, bytes, 0, 2, Number.parseInt(line.split('-')[0]!, 16) + 8);
    return bytes.readUInt16LE();
  } finally {
    closeSync(fd);
  }
}

rollback('a global struct that gained a member: apply, roll back without the PO (the counters carry on, the member is dropped), apply again', async (context) => {
  const built = context.stats;
  assert.match(built.diff.stderr, /warning: on rollback, member 'misses' of struct stats narrows from 8 to 4 bytes/);
  const target = start(context, built.v1);
  await target.waitForLine(STATS_V1);
  const pid = String(target.pid);
  await run(built, ['apply', '--pid', pid, built.po]);
  const v2From = await switchedTo(target, STATS_V2, 0);
  let [was, now] = counters(target, STATS_V1, STATS_V2, v2From);
  assert.is(now, was + 1, 'the counters carried into the new layout');

  // Another katana lists what the patch transformed, from the registry alone.
  const listed = await run(built, ['list', '--pid', pid]);
  assert.match(listed.stdout, /data: stats \(main\.c\), struct stats, moved from 0x[0-9a-f]+ to 0x[0-9a-f]+/);
  assert.match(listed.stdout, /type: struct stats, 12 -> 24 bytes; a rollback transforms it back, dropping bytes/);

  // The PO is gone: the rollback has only the registry.
  const away = join(built.project.dir, 'elsewhere.po');
  renameSync(built.po, away);
  const from = target.lines.length;
  const r = await run(built, ['rollback', '--pid', pid]);
  renameSync(away, built.po);
  assert.match(r.stdout, /^katana rollback: data of fix\.po \([0-9a-f]{12}\) transformed back: 1 global object\(s\); member 'bytes' of struct stats is dropped$/m);
  const v1From = await switchedTo(target, STATS_V1, from, 10);
  [was, now] = counters(target, STATS_V2, STATS_V1, v1From);
  assert.is(now, was + 1, 'the counters carried back into the old layout');
  assert.match((await run(built, ['list', '--pid', pid])).stdout, /no patches applied/);

  // Again: the old layout's values move forward once more, the new member starts at its initializer.
  const again = target.lines.length;
  await run(built, ['apply', '--pid', pid, built.po]);
  const v2Again = await switchedTo(target, STATS_V2, again);
  [was, now] = counters(target, STATS_V1, STATS_V2, v2Again);
  assert.is(now, was + 1, 'the counters carried forward again');
  assert.is(STATS_V2.exec(target.lines[v2Again]!)![2], '4097', 'bytes starts at its initializer again');

  // As a version 2 registry shows it, the entry has no data block: refused as an older katana's entry.
  setRegistryVersion(target.pid, 2);
  assert.match((await run(built, ['list', '--pid', pid])).stdout, /data: 1 variable\(s\) transformed, recorded by an older katana: it cannot be rolled back/);
  const refused = await katana(['rollback', '--pid', pid], built.project.dir);
  assert.is(refused.exitCode, 1, refused.stderr);
  assert.match(refused.stderr, /^katana: patch fix\.po \([0-9a-f]{12}\) of pid \d+ cannot be rolled back: it transformed 1 variable\(s\) to a new layout, and the katana that applied it recorded no way to transform them back$/, refused.stderr);
  // A version 3 region (data blocks without stages, as the katana before composed data patches wrote it) rolls back.
  setRegistryVersion(target.pid, 3);
  const last = target.lines.length;
  await run(built, ['rollback', '--pid', pid]);
  await switchedTo(target, STATS_V1, last);
});

rollback('10,000 heap nodes go back to the old layout: none lost, the program keeps pushing and freeing; --free-old frees the new-layout blocks', async (context) => {
  const built = context.heap;
  const target = start(context, built.v1);
  await target.waitForLine(HEAP_V1);
  const pid = String(target.pid);
  await run(built, ['apply', '--pid', pid, built.po]);
  const v2From = await switchedTo(target, HEAP_V2, 0);
  const from = target.lines.length;
  const r = await run(built, ['rollback', '--pid', pid, '--free-old']);
  assert.match(
    r.stdout,
    /data of fix\.po \([0-9a-f]{12}\) transformed back: 1 global object\(s\); 10000 heap block\(s\) moved back to blocks of the old layout \(struct node: 10000\); member 'weight' of struct node is dropped; blocks of the patch's layout freed; 1 NULL pointer\(s\)$/m,
  );
  // The program checks its whole list on every tick: "list 10000 nodes ok N", never "corrupt".
  const v1From = await switchedTo(target, HEAP_V1, from, 20);
  const [was, now] = counters(target, HEAP_V2, HEAP_V1, v1From);
  assert.is(now, was + 1, 'next_value carried on');
  assert.ok(v1From > v2From);

  // A version 2 region (as an older katana left it, here empty) is bumped to the current version by the next apply, and
  // what that apply transformed rolls back.
  setRegistryVersion(target.pid, 2);
  const again = target.lines.length;
  await run(built, ['apply', '--pid', pid, built.po]);
  await switchedTo(target, HEAP_V2, again);
  assert.is(registryVersion(target.pid), REGISTRY_VERSION);
  const back = target.lines.length;
  await run(built, ['rollback', '--pid', pid]);
  await switchedTo(target, HEAP_V1, back, 20);
});

rollback('a union converted by a transformer has no reverse: the rollback is refused in one sentence, and the patch stays', async (context) => {
  const built = context.union;
  assert.match(built.diff.stderr, /warning: union value cannot be transformed back \(its transformer value_from_v1 has no reverse\): katana rollback will refuse this patch/);
  const target = start(context, built.v1);
  await target.waitForLine(/^value \d+$/);
  const pid = String(target.pid);
  await run(built, ['apply', '--pid', pid, built.po]);
  await switchedTo(target, UNION_V2, 0);
  const r = await katana(['rollback', '--pid', pid], built.project.dir);
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stderr, /^katana: patch fix\.po \([0-9a-f]{12}\) of pid \d+ cannot be rolled back: it transformed union value, for which katana diff could compile no reverse program \(a transformer's conversion, or a change that cannot be undone\)$/, r.stderr);
  const listed = await run(built, ['list', '--pid', pid]);
  assert.match(listed.stdout, /type: union value, 4 -> 8 bytes; no reverse program: it cannot be rolled back/);
  await switchedTo(target, UNION_V2, target.lines.length);
});

rollback('two stacked data patches go back one at a time, each to the layout below it, the counters carrying on', async (context) => {
  const built = context.stats;
  const target = start(context, built.v1);
  await target.waitForLine(STATS_V1);
  const pid = String(target.pid);
  await run(built, ['apply', '--pid', pid, built.po]);
  const v2From = await switchedTo(target, STATS_V2, 0);
  await run(built, ['apply', '--pid', pid, context.v2v3]);
  const v3From = await switchedTo(target, STATS_V3, v2From);
  let [was, now] = counters(target, STATS_V2, STATS_V3, v3From);
  assert.is(now, was + 1, 'v2 → v3: the counters carry on');

  // Patch 1's variable record made to name unreadable storage: the rollback of both fails in the
  // window, after patch 2's data went back into patch 1's storage, and every byte is put back.
  const [one, two] = readRegistry(target.pid)!.entries;
  const patch1Storage = two!.data!.variables[0]!.oldAddress;
  assert.is(patch1Storage, one!.data!.variables[0]!.newAddress, 'patch 2 moved stats from patch 1\'s storage');
  const storageBefore = readMemory(target.pid, patch1Storage, 24);
  const field = patch1RecordNewAddress(target.pid);
  const saved = readMemory(target.pid, field, 8);
  writeMemory(target.pid, field, Buffer.alloc(8)); // address 0
  const failing = target.lines.length;
  const failed = await katana(['rollback', '--pid', pid, '--all'], built.project.dir);
  assert.is(failed.exitCode, 1, failed.stderr);
  assert.is(failed.stderr.trim().split('\n').length, 1, `one line: ${failed.stderr}`);
  assert.match(failed.stderr, /at 0x0 \(24 bytes\) failed: .*EIO/, 'reading the unreadable storage failed');
  writeMemory(target.pid, field, saved);
  assert.equal(readRegistry(target.pid)!.entries.map((e) => e.name), ['fix.po', 'v2v3.po'], 'both patches stay');
  assert.equal(readMemory(target.pid, patch1Storage, 24), storageBefore, 'patch 1\'s storage is as it was');
  await switchedTo(target, STATS_V3, failing);

  const back = target.lines.length;
  const r = await run(built, ['rollback', '--pid', pid]);
  assert.match(r.stdout, /data of v2v3\.po \([0-9a-f]{12}\) transformed back: 1 global object\(s\); member 'calls' of struct stats is dropped$/m);
  const v2Again = await switchedTo(target, STATS_V2, back);
  [was, now] = counters(target, STATS_V3, STATS_V2, v2Again);
  assert.is(now, was + 1, 'v3 → v2: the counters carry on');
  const lastV3 = target.lines.slice(0, v2Again).filter((l) => STATS_V3.test(l)).pop()!;
  assert.is(Number(STATS_V2.exec(target.lines[v2Again]!)![2]), Number(STATS_V3.exec(lastV3)![2]) + 1, 'bytes, which v2 has too, carries on');

  const all = target.lines.length;
  const r1 = await run(built, ['rollback', '--pid', pid, '--all']);
  assert.match(r1.stdout, /data of fix\.po \([0-9a-f]{12}\) transformed back: 1 global object\(s\); member 'bytes' of struct stats is dropped$/m);
  const v1From = await switchedTo(target, STATS_V1, all);
  [was, now] = counters(target, STATS_V2, STATS_V1, v1From);
  assert.is(now, was + 1, 'v2 → v1: the counters carry on');
});

rollback.run();
