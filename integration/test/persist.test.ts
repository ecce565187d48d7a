// `katana apply --file EXE PO -o OUT`, end to end: the blog post's castle (static, deployed
// stripped) written to disk already patched, whose process prints exactly what a live-patched one
// prints; readelf reads OUT without a warning and OUT keeps its build-id; the same PO again is
// refused (exit 4, nothing written); a dynamic non-PIE program patched on disk takes a second PO
// (diff --after) both on disk and running; a stripped PIE whose patch holds absolute addresses
// starts patched under ASLR, with its dynamic relocation table grown consistently, and takes a
// second PO on disk and running (also linked with DT_RELR, which stays as it was); a stripped static
// PIE, which relocates itself, does the same with its IFUNCs' IRELATIVE entries untouched; a shared
// library, an object file, a PIE patch with 32-bit absolute addresses and a library call the file
// does not import are refused with one line.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from '@katana/elf';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana } from '../lib/katana.js';
import { casesDir } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';
import { createHash } from 'node:crypto';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Builds v1 and the fixed v2 of an integration case in `project`; returns their paths. */
async function buildCase(project: TempProject, name: string, cflags: string[], ldflags: string[]): Promise<{ v1: string; v2: string }> {
  project.copyIn(join(casesDir, name, 'main.c'), 'main.c');
  const v1 = await project.build(['main.c'], 'prog', cflags, ldflags);
  await project.patch(join(casesDir, name, 'fix.patch'));
  const v2 = await project.build(['main.c'], 'prog-v2', cflags, ldflags);
  return { v1, v2 };
}

async function diff(project: TempProject, old: string, now: string, out: string, extra: string[] = []): Promise<string> {
  const po = join(project.dir, out);
  const r = await katana(['diff', '--old', old, '--new', now, '-o', po, ...extra], project.dir, project.env);
  assert.is(r.exitCode, 0, `katana diff ${out}: ${r.stderr}`);
  return po;
}

/** readelf -lW and -a -W on `file`: exit 0, nothing on stderr, no line saying warning or error. */
async function assertReadelfClean(file: string): Promise<string> {
  let segments = '';
  for (const args of [['-lW', file], ['-a', '-W', file]]) {
    const r = await execa('readelf', args, { reject: false });
    const bad = String(r.stdout).split('\n').filter((l) => /warning|error/i.test(l));
    assert.ok(r.exitCode === 0 && r.stderr === '' && bad.length === 0, `readelf ${args.join(' ')}: exit ${r.exitCode}, ${r.stderr || bad.join('\n')}`);
    if (args[0] === '-lW') segments = String(r.stdout);
  }
  return segments;
}

/** The first `n` lines a fresh process of `exe` prints. */
async function firstLines(exe: string, pattern: RegExp, n: number): Promise<string[]> {
  const target = new RunningTarget(exe);
  try {
    await target.waitForLine(pattern, n - 1);
    return target.lines.slice(0, n);
  } finally {
    target.kill();
  }
}

const castle = suite('apply --file: the castle, static and stripped');
const RESCUED = /^Thank you marrrio, \*smooch\*!$/;
const SORRY = /^Sorry but our princess is in another castle$/;

castle('a stripped static executable patched on disk behaves as the hot-patched process, and says so', async () => {
  const project = new TempProject('persist-castle');
  let live: RunningTarget | undefined;
  try {
    const { v1, v2 } = await buildCase(project, 'static_stripped', ['-O0'], ['-static']);
    const po = await diff(project, v1, v2, 'fix.po');
    const deployed = join(project.dir, 'castle');
    await execa('strip', ['-o', deployed, v1]);
    const out = join(project.dir, 'castle-patched');

    const apply = await katana(['apply', '--file', deployed, po, '-o', out], project.dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    assert.match(apply.stdout, /^katana apply: wrote .*castle-patched, .*castle with fix\.po \(patch [0-9a-f]{12}\): 1 function\(s\) redirected \(visit\)/);
    assert.equal(await firstLines(deployed, SORRY, 3), Array(3).fill('Sorry but our princess is in another castle'), 'the deployed file is unchanged');

    // The same program hot-patched: from the switch on, both print the same lines.
    live = new RunningTarget(deployed);
    await live.waitForLine(SORRY);
    const hot = await katana(['apply', '--pid', String(live.pid), po], project.dir);
    assert.is(hot.exitCode, 0, hot.stderr);
    const first = await live.waitForLine(RESCUED);
    await live.waitForLine(RESCUED, first + 5);
    const liveAfter = live.lines.slice(first, first + 5);
    assert.equal(await firstLines(out, RESCUED, 5), liveAfter, 'OUT prints from its first line what the live-patched process prints');

    const segments = await assertReadelfClean(out);
    assert.match(segments, /^\s+LOAD\s+0x[0-9a-f]+ 0x0+3f[0-9a-f]{4} .* R E 0x1000$/m, `a new R+X PT_LOAD below 0x400000:\n${segments}`);
    assert.is(ElfFile.open(out).buildId(), ElfFile.open(v1).buildId(), 'OUT keeps the build-id');

    const list = await katana(['list', '--file', out, '--json'], project.dir);
    assert.is(list.exitCode, 0, list.stderr);
    const patches = JSON.parse(list.stdout).patches;
    assert.equal(patches.map((p: { id: string; name: string }) => [p.id, p.name]), [[sha256(po), 'fix.po']]);
    assert.equal(patches[0].functions.map((f: { name: string }) => f.name), ['visit']);

    const again = join(project.dir, 'castle-twice');
    const twice = await katana(['apply', '--file', out, po, '-o', again], project.dir);
    assert.is(twice.exitCode, 4, twice.stderr);
    assert.match(twice.stderr, /^katana: fix\.po \(patch [0-9a-f]{12}\) is already applied to .*castle-patched, since \S+\n?$/);
    assert.not.ok(existsSync(again), 'nothing written when refused');
  } finally {
    live?.kill();
    project.remove();
  }
});

castle.run();

const dynamic = suite('apply --file: a dynamic non-PIE program, then more patches');
const V1 = /^tick \d+ status [0-6]$/;
const FIRST = /^tick \d+ status 100[0-6]$/;
const STACKED = /^tick \d+ status 200[0-6]$/;

dynamic('a second PO made with --after applies to the patched file on disk and to its running process', async () => {
  const project = new TempProject('persist-dynamic');
  let target: RunningTarget | undefined;
  try {
    const { v1, v2 } = await buildCase(project, 'nonpie_dynamic', ['-O0', '-no-pie'], ['-no-pie']);
    project.write('main.c', readFileSync(join(project.dir, 'main.c'), 'utf8').replace('return 1000 + tick % 7;', 'return 2000 + tick % 7;'));
    const v3 = await project.build(['main.c'], 'prog-v3', ['-O0', '-no-pie'], ['-no-pie']);
    const first = await diff(project, v1, v2, 'first.po');
    const stacked = await diff(project, v1, v3, 'stacked.po', ['--after', first]);

    const out = join(project.dir, 'prog-patched');
    const apply = await katana(['apply', '--file', v1, first, '-o', out], project.dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    await assertReadelfClean(out);
    assert.is(ElfFile.open(out).buildId(), ElfFile.open(v1).buildId(), 'OUT keeps the build-id');
    assert.ok((await firstLines(out, FIRST, 3)).every((l) => FIRST.test(l)), 'OUT starts patched');

    // On disk: the stacked PO on top of the file's patch.
    const out2 = join(project.dir, 'prog-patched-twice');
    const onDisk = await katana(['apply', '--file', out, stacked, '-o', out2, '--json'], project.dir);
    assert.is(onDisk.exitCode, 0, onDisk.stderr);
    assert.equal(JSON.parse(onDisk.stdout).patches.map((p: { name: string }) => p.name), ['first.po', 'stacked.po']);
    await assertReadelfClean(out2);
    assert.ok((await firstLines(out2, STACKED, 3)).every((l) => STACKED.test(l)), 'OUT2 starts with both patches');

    // Running: the process of OUT has first.po without any registry; stacked.po goes on top.
    target = new RunningTarget(out);
    await target.waitForLine(FIRST);
    const listed = await katana(['list', '--pid', String(target.pid), '--json'], project.dir);
    assert.equal(JSON.parse(listed.stdout).patches.map((p: { id: string }) => p.id), [sha256(first)], 'the file\'s patch is listed for its process');
    const same = await katana(['apply', '--pid', String(target.pid), first], project.dir);
    assert.is(same.exitCode, 4, `first.po is already in the file: ${same.stderr}`);
    const live = await katana(['apply', '--pid', String(target.pid), stacked], project.dir);
    assert.is(live.exitCode, 0, live.stderr);
    const from = await target.waitForLine(STACKED);
    await target.waitForLine(STACKED, from + 5);
    assert.equal(target.lines.slice(from).filter((l) => !STACKED.test(l)), [], 'only stacked output after the switch');
    const after = await katana(['list', '--pid', String(target.pid), '--json'], project.dir);
    assert.equal(JSON.parse(after.stdout).patches.map((p: { id: string }) => p.id), [sha256(first), sha256(stacked)], 'the registry starts with the file\'s patch');
    assert.not.ok(V1.test(target.lines.at(-1)!));
  } finally {
    target?.kill();
    project.remove();
  }
});

dynamic.run();

const pie = suite('apply --file: a stripped PIE whose patch holds absolute addresses');

/** What pie_pointers prints at `tick` once patched; `tag` is "patched" (fix.patch) or "again" (the stacked PO). */
function pieLine(tick: number, tag: string): string {
  const ops: [string, number][] = [['twice', 2 * tick], ['square', tick * tick], ['cube', (tick * tick * tick) | 0]];
  const [name, value] = ops[tick % 3]!;
  return `tick ${tick} ${name} ${value} (${tag})`;
}

/** Asserts every line of `lines` is what the patched program prints at the tick it names. */
function assertPieLines(lines: string[], tag: string, what: string): void {
  assert.ok(lines.length > 0, `${what}: no lines`);
  for (const line of lines) assert.is(line, pieLine(Number(/^tick (\d+) /.exec(line)?.[1] ?? -1), tag), what);
}

/** The start of the mapping of `exe` at file offset 0 in `pid`: its load bias (PIE at link-time 0). */
function loadBase(pid: number, exe: string): bigint {
  const line = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').find((l) => l.endsWith(exe) && / 00000000 /.test(l));
  assert.ok(line !== undefined, `no offset-0 mapping of ${exe} in pid ${pid}`);
  return BigInt(`0x${line!.split('-')[0]}`);
}

/**
 * readelf -d, -S and -rW on `file` agree: DT_RELA/DT_RELASZ are the .rela.dyn section, whose entries
 * are DT_RELASZ / 24, and with DT_RELACOUNT exactly the first DT_RELACOUNT of them are
 * R_X86_64_RELATIVE. Returns DT_RELACOUNT (undefined without one), the offsets of the RELATIVE
 * entries in table order, and the DT_RELR and DT_RELRSZ values.
 */
async function relaDyn(file: string): Promise<{ count: number | undefined; relative: bigint[]; relr: string[] }> {
  const dynamic = String((await execa('readelf', ['-dW', file])).stdout);
  const tag = (name: string) => /\((\w+)\)\s+(0x[0-9a-f]+|\d+)/.exec(dynamic.split('\n').find((l) => l.includes(`(${name})`)) ?? '')?.[2];
  const [rela, size, count] = [tag('RELA'), tag('RELASZ'), tag('RELACOUNT')];
  assert.ok(rela !== undefined && size !== undefined, `readelf -d ${file}: RELA ${rela}, RELASZ ${size}\n${dynamic}`);
  const sections = String((await execa('readelf', ['-SW', file])).stdout);
  const header = /\.rela\.dyn\s+RELA\s+([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)/.exec(sections);
  assert.ok(header !== null, `no .rela.dyn section header in ${file}`);
  assert.is(BigInt(`0x${header![1]}`), BigInt(rela!), '.rela.dyn is where DT_RELA points');
  assert.is(Number(`0x${header![3]}`), Number(size), '.rela.dyn is DT_RELASZ long');
  const relocs = String((await execa('readelf', ['-rW', file])).stdout).split('\n');
  const start = relocs.findIndex((l) => l.startsWith(`Relocation section '.rela.dyn' at offset 0x${header![2].replace(/^0+/, '')} contains `));
  assert.ok(start >= 0, `readelf -r lists .rela.dyn at its new offset:\n${relocs.join('\n')}`);
  const n = Number(/contains (\d+) entr/.exec(relocs[start]!)![1]);
  assert.is(n * 24, Number(size), 'entries × 24 = DT_RELASZ');
  const entries = relocs.slice(start + 2, start + 2 + n).map((l) => l.trim().split(/\s+/));
  if (count !== undefined) {
    const leading = entries.findIndex((e) => e[2] !== 'R_X86_64_RELATIVE');
    assert.is(leading < 0 ? n : leading, Number(count), 'the leading RELATIVE entries are DT_RELACOUNT');
    assert.ok(entries.slice(Number(count)).every((e) => e[2] !== 'R_X86_64_RELATIVE'), 'no RELATIVE entry after the first DT_RELACOUNT');
  }
  return {
    count: count === undefined ? undefined : Number(count),
    relative: entries.filter((e) => e[2] === 'R_X86_64_RELATIVE').map((e) => BigInt(`0x${e[0]}`)),
    relr: [tag('RELR') ?? 'none', tag('RELRSZ') ?? 'none'],
  };
}

/** The RELATIVE offsets of `table` inside the RW segment an apply --json `report` added. */
function inNewData(report: { segments: { vaddr: string; size: number; flags: string }[] }, table: { relative: bigint[] }): bigint[] {
  const data = report.segments.find((s) => s.flags === 'RW')!;
  return table.relative.filter((o) => o >= BigInt(data.vaddr) && o < BigInt(data.vaddr) + BigInt(data.size));
}

pie('OUT runs patched at every load bias, readelf agrees with the loader, and a second PO applies on disk and running', async () => {
  const project = new TempProject('persist-pie');
  const targets: RunningTarget[] = [];
  try {
    const { v1, v2 } = await buildCase(project, 'pie_pointers', ['-O0', '-fPIE'], ['-pie']);
    project.write('main.c', readFileSync(join(project.dir, 'main.c'), 'utf8').replace('(patched)', '(again)'));
    const v3 = await project.build(['main.c'], 'prog-v3', ['-O0', '-fPIE'], ['-pie']);
    const first = await diff(project, v1, v2, 'first.po');
    const stacked = await diff(project, v1, v3, 'stacked.po', ['--after', first]);
    const deployed = join(project.dir, 'deployed');
    await execa('strip', ['-o', deployed, v1]);
    const out = join(project.dir, 'prog-patched');

    const apply = await katana(['apply', '--file', deployed, first, '-o', out, '--json'], project.dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    const report = JSON.parse(apply.stdout);
    await assertReadelfClean(out);
    assert.is(ElfFile.open(out).header.type, ElfFile.open(deployed).header.type, 'OUT is still a PIE (ET_DYN)');
    assert.is(ElfFile.open(out).buildId(), ElfFile.open(v1).buildId(), 'OUT keeps the build-id');

    // Seven pointers in .data.new (say, more_ops[3], more_names[3]) and fflush's GOT slot.
    const before = await relaDyn(deployed);
    const after = await relaDyn(out);
    const fresh = inNewData(report, after);
    assert.is(fresh.length, 8, `RELATIVE entries in the new R+W segment: ${fresh.map((o) => o.toString(16))}`);
    assert.ok(before.count !== undefined, 'gcc\'s PIE has DT_RELACOUNT');
    assert.is(after.count, before.count! + 8);
    assert.equal(after.relative.filter((o) => !fresh.includes(o)), before.relative, 'the old RELATIVE entries are kept, in order');

    // The hot-patched process: every line from the switch on is the patched one.
    const live = new RunningTarget(deployed);
    targets.push(live);
    await live.waitForLine(/^tick \d+ (twice|square) \d+$/);
    const hot = await katana(['apply', '--pid', String(live.pid), first], project.dir);
    assert.is(hot.exitCode, 0, hot.stderr);
    const switched = await live.waitForLine(/\(patched\)$/);
    await live.waitForLine(/\(patched\)$/, switched + 5);
    assertPieLines(live.lines.slice(switched), 'patched', 'the hot-patched process');

    // OUT, started three times (ASLR: three load biases), prints the same from its first line.
    const bases = new Set<bigint>();
    for (let run = 0; run < 3; run++) {
      const target = new RunningTarget(out);
      targets.push(target);
      await target.waitForLine(/^tick 5 /);
      bases.add(loadBase(target.pid, out));
      target.kill();
      assert.equal(target.lines.slice(0, 6), [0, 1, 2, 3, 4, 5].map((t) => pieLine(t, 'patched')), `run ${run} of OUT`);
    }
    assert.ok(bases.size > 1 && !bases.has(0n), `OUT was loaded at different nonzero biases: ${[...bases].map((b) => b.toString(16))}`);

    const list = await katana(['list', '--file', out, '--json'], project.dir);
    assert.is(list.exitCode, 0, list.stderr);
    const recorded = JSON.parse(list.stdout).patches;
    assert.equal(recorded.map((p: { id: string; name: string }) => [p.id, p.name]), [[sha256(first), 'first.po']]);
    assert.equal(recorded[0].functions.map((f: { name: string }) => f.name), ['show']);

    // On disk: the stacked PO goes on top, into a second region above the first.
    const out2 = join(project.dir, 'prog-patched-twice');
    const onDisk = await katana(['apply', '--file', out, stacked, '-o', out2, '--json'], project.dir);
    assert.is(onDisk.exitCode, 0, onDisk.stderr);
    assert.equal(JSON.parse(onDisk.stdout).patches.map((p: { name: string }) => p.name), ['first.po', 'stacked.po']);
    await assertReadelfClean(out2);
    assert.is((await relaDyn(out2)).count, after.count! + 8, 'the stacked patch adds its own eight');
    assert.equal(await firstLines(out2, /^tick 5 /, 6), [0, 1, 2, 3, 4, 5].map((t) => pieLine(t, 'again')), 'OUT2 starts with both patches');

    // Running: OUT's process lists the file's patch at its run-time addresses, and takes stacked.po.
    const running = new RunningTarget(out);
    targets.push(running);
    await running.waitForLine(/\(patched\)$/);
    const bias = loadBase(running.pid, out);
    const listed = JSON.parse((await katana(['list', '--pid', String(running.pid), '--json'], project.dir)).stdout).patches;
    assert.equal(listed.map((p: { id: string }) => p.id), [sha256(first)], 'the file\'s patch is listed for its process');
    assert.is(BigInt(listed[0].area.start), BigInt(recorded[0].area.start) + bias, 'at its link-time address plus the load bias');
    const same = await katana(['apply', '--pid', String(running.pid), first], project.dir);
    assert.is(same.exitCode, 4, `first.po is already in the file: ${same.stderr}`);
    const again = await katana(['apply', '--pid', String(running.pid), stacked], project.dir);
    assert.is(again.exitCode, 0, again.stderr);
    const from = await running.waitForLine(/\(again\)$/);
    await running.waitForLine(/\(again\)$/, from + 5);
    assertPieLines(running.lines.slice(from), 'again', 'OUT\'s process after stacked.po');
    const both = JSON.parse((await katana(['list', '--pid', String(running.pid), '--json'], project.dir)).stdout).patches;
    assert.equal(both.map((p: { id: string }) => p.id), [sha256(first), sha256(stacked)], 'the registry starts with the file\'s patch');
  } finally {
    for (const t of targets) t.kill();
    project.remove();
  }
});

pie('a PIE with packed relative relocations (DT_RELR, no DT_RELACOUNT) keeps DT_RELR and gets its RELATIVE entries in .rela.dyn', async () => {
  const project = new TempProject('persist-pie-relr');
  try {
    const { v1, v2 } = await buildCase(project, 'pie_pointers', ['-O0', '-fPIE'], ['-pie', '-Wl,-z,pack-relative-relocs']);
    const po = await diff(project, v1, v2, 'fix.po');
    const out = join(project.dir, 'prog-patched');
    const apply = await katana(['apply', '--file', v1, po, '-o', out, '--json'], project.dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    await assertReadelfClean(out);
    const before = await relaDyn(v1);
    const after = await relaDyn(out);
    assert.ok(before.count === undefined && before.relr[0] !== 'none', `v1 uses DT_RELR without DT_RELACOUNT: ${before.relr}`);
    assert.equal(after.relr, before.relr, 'DT_RELR and DT_RELRSZ unchanged');
    assert.is(after.count, undefined, 'no DT_RELACOUNT added');
    assert.is(inNewData(JSON.parse(apply.stdout), after).length, 8);
    assert.equal(await firstLines(out, /^tick 5 /, 6), [0, 1, 2, 3, 4, 5].map((t) => pieLine(t, 'patched')));
  } finally {
    project.remove();
  }
});

pie.run();

const staticPie = suite('apply --file: a stripped static PIE, which relocates itself at start-up');

/** What static_pie prints at `tick` once patched; `tag` is "patched" (fix.patch) or "again" (the stacked PO). */
function staticPieLine(tick: number, tag: string): string {
  const ops: [string, number][] = [['twice', 2 * tick], ['square', tick * tick], ['cube', (tick * tick * tick) | 0]];
  const [name, value] = ops[tick % 3]!;
  return `tick ${tick} ${name}/${name.length} ${value} (${tag})`;
}

/** The R_X86_64_IRELATIVE entries `readelf -rW` lists for `file` (offset and addend), in table order. */
async function irelative(file: string): Promise<string[]> {
  const relocs = String((await execa('readelf', ['-rW', file])).stdout).split('\n');
  return relocs.filter((l) => l.includes('R_X86_64_IRELATIVE')).map((l) => l.trim().split(/\s+/)).map((e) => `${e[0]} ${e.at(-1)}`);
}

/** The DT_JMPREL, DT_PLTRELSZ and DT_FLAGS_1 lines of `readelf -dW file`, and whether it has a PT_INTERP. */
async function staticPieShape(file: string): Promise<{ dynamic: string[]; interp: boolean }> {
  const dynamic = String((await execa('readelf', ['-dW', file])).stdout).split('\n').filter((l) => /\((JMPREL|PLTRELSZ|FLAGS_1)\)/.test(l)).map((l) => l.trim());
  const interp = / INTERP /.test(String((await execa('readelf', ['-lW', file])).stdout));
  return { dynamic, interp };
}

staticPie('OUT behaves like v2 and the hot-patched v1 at every load bias, its IRELATIVE entries still apply, and a second PO applies on disk and running', async () => {
  const project = new TempProject('persist-static-pie');
  const targets: RunningTarget[] = [];
  try {
    const spec = JSON.parse(readFileSync(join(casesDir, 'static_pie', 'case.json'), 'utf8'));
    const { v1, v2 } = await buildCase(project, 'static_pie', spec.cflags, spec.ldflags);
    project.write('main.c', readFileSync(join(project.dir, 'main.c'), 'utf8').replace('(patched)', '(again)'));
    const v3 = await project.build(['main.c'], 'prog-v3', spec.cflags, spec.ldflags);
    const first = await diff(project, v1, v2, 'first.po');
    const stacked = await diff(project, v1, v3, 'stacked.po', ['--after', first]);
    const deployed = join(project.dir, 'deployed');
    await execa('strip', ['-o', deployed, v1]);
    const shape = await staticPieShape(deployed);
    assert.ok(!shape.interp && shape.dynamic.some((l) => /Flags: PIE/.test(l)), `v1 is a static PIE: no PT_INTERP, DF_1_PIE\n${shape.dynamic.join('\n')}`);
    const out = join(project.dir, 'prog-patched');

    const apply = await katana(['apply', '--file', deployed, first, '-o', out, '--json'], project.dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    const report = JSON.parse(apply.stdout);
    await assertReadelfClean(out);
    assert.is(ElfFile.open(out).header.type, ElfFile.open(deployed).header.type, 'OUT is still ET_DYN');
    assert.is(ElfFile.open(out).buildId(), ElfFile.open(v1).buildId(), 'OUT keeps the build-id');
    assert.equal(await staticPieShape(out), shape, 'still no PT_INTERP; DT_JMPREL, DT_PLTRELSZ and DT_FLAGS_1 unchanged');

    // The start-up code (_dl_relocate_static_pie) applies .rela.dyn, now grown by the eight
    // addresses of the patch, and then .rela.plt, whose IRELATIVE entries (libc's IFUNCs) stay as
    // they were: ld laid the two tables out back to back and glibc ran them as one range; now
    // they are two, and a program whose IFUNCs were not resolved would not get past printf.
    const before = await relaDyn(deployed);
    const after = await relaDyn(out);
    const fresh = inNewData(report, after);
    assert.is(fresh.length, 8, `RELATIVE entries in the new R+W segment: ${fresh.map((o) => o.toString(16))}`);
    assert.ok(before.count !== undefined, 'the static PIE has DT_RELACOUNT');
    assert.is(after.count, before.count! + 8);
    assert.equal(after.relative.filter((o) => !fresh.includes(o)), before.relative, 'the old RELATIVE entries are kept, in order');
    const ifuncs = await irelative(deployed);
    assert.ok(ifuncs.length > 0, 'the static PIE has IRELATIVE entries');
    assert.equal(await irelative(out), ifuncs, 'the IRELATIVE entries are unchanged');

    const expected = (tag: string) => [0, 1, 2, 3, 4, 5].map((t) => staticPieLine(t, tag));
    assert.equal(await firstLines(v2, /^tick 5 /, 6), expected('patched'), 'v2 prints what the test expects');

    // The hot-patched process: every line from the switch on is the patched one.
    const live = new RunningTarget(deployed);
    targets.push(live);
    await live.waitForLine(/^tick \d+ (twice|square) \d+$/);
    const hot = await katana(['apply', '--pid', String(live.pid), first], project.dir);
    assert.is(hot.exitCode, 0, hot.stderr);
    const switched = await live.waitForLine(/\(patched\)$/);
    await live.waitForLine(/\(patched\)$/, switched + 5);
    for (const line of live.lines.slice(switched)) assert.is(line, staticPieLine(Number(/^tick (\d+) /.exec(line)?.[1] ?? -1), 'patched'), 'the hot-patched process');

    // OUT, started three times (ASLR: three load addresses), prints what v2 prints from its first line.
    const bases = new Set<bigint>();
    for (let run = 0; run < 3; run++) {
      const target = new RunningTarget(out);
      targets.push(target);
      await target.waitForLine(/^tick 5 /);
      bases.add(loadBase(target.pid, out));
      target.kill();
      assert.equal(target.lines.slice(0, 6), expected('patched'), `run ${run} of OUT`);
    }
    assert.ok(bases.size > 1 && !bases.has(0n), `OUT was loaded at different nonzero addresses: ${[...bases].map((b) => b.toString(16))}`);

    const recorded = JSON.parse((await katana(['list', '--file', out, '--json'], project.dir)).stdout).patches;
    assert.equal(recorded.map((p: { id: string; name: string }) => [p.id, p.name]), [[sha256(first), 'first.po']]);

    // On disk: the stacked PO goes on top, into a second region above the first.
    const out2 = join(project.dir, 'prog-patched-twice');
    const onDisk = await katana(['apply', '--file', out, stacked, '-o', out2, '--json'], project.dir);
    assert.is(onDisk.exitCode, 0, onDisk.stderr);
    assert.equal(JSON.parse(onDisk.stdout).patches.map((p: { name: string }) => p.name), ['first.po', 'stacked.po']);
    await assertReadelfClean(out2);
    assert.is((await relaDyn(out2)).count, after.count! + 8, 'the stacked patch adds its own eight');
    assert.equal(await irelative(out2), ifuncs, 'the IRELATIVE entries are still unchanged');
    assert.equal(await firstLines(out2, /^tick 5 /, 6), expected('again'), 'OUT2 starts with both patches');

    // Running: OUT's process lists the file's patch at its run-time addresses, and takes stacked.po.
    const running = new RunningTarget(out);
    targets.push(running);
    await running.waitForLine(/\(patched\)$/);
    const bias = loadBase(running.pid, out);
    const listed = JSON.parse((await katana(['list', '--pid', String(running.pid), '--json'], project.dir)).stdout).patches;
    assert.equal(listed.map((p: { id: string }) => p.id), [sha256(first)], 'the file\'s patch is listed for its process');
    assert.is(BigInt(listed[0].area.start), BigInt(recorded[0].area.start) + bias, 'at its link-time address plus the load address');
    const same = await katana(['apply', '--pid', String(running.pid), first], project.dir);
    assert.is(same.exitCode, 4, `first.po is already in the file: ${same.stderr}`);
    const again = await katana(['apply', '--pid', String(running.pid), stacked], project.dir);
    assert.is(again.exitCode, 0, again.stderr);
    const from = await running.waitForLine(/\(again\)$/);
    await running.waitForLine(/\(again\)$/, from + 5);
    for (const line of running.lines.slice(from)) assert.is(line, staticPieLine(Number(/^tick (\d+) /.exec(line)?.[1] ?? -1), 'again'), 'OUT\'s process after stacked.po');
    const both = JSON.parse((await katana(['list', '--pid', String(running.pid), '--json'], project.dir)).stdout).patches;
    assert.equal(both.map((p: { id: string }) => p.id), [sha256(first), sha256(stacked)], 'the registry starts with the file\'s patch');
  } finally {
    for (const t of targets) t.kill();
    project.remove();
  }
});

staticPie.run();

const refusals = suite('apply --file refusals');

refusals('a shared library, an object file, 32-bit absolute addresses for a PIE and a library function the executable does not import are refused in one line, writing nothing', async () => {
  const project = new TempProject('persist-refusals');
  try {
    const out = join(project.dir, 'out');
    const library = await buildCase(project, 'pie_aslr', ['-O0', '-fPIC'], ['-shared']);
    const libraryPo = await diff(project, library.v1, library.v2, 'library.po');
    const r = await katana(['apply', '--file', library.v1, libraryPo, '-o', out], project.dir);
    assert.is(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /^katana: .*prog is not an executable but a shared library \(ET_DYN without DF_1_PIE\); apply --file cannot patch it/);
    assert.is(r.stderr.trim().split('\n').length, 1);
    assert.not.ok(existsSync(out));
    const object = await katana(['apply', '--file', join(project.dir, 'main.o'), libraryPo, '-o', out], project.dir);
    assert.is(object.exitCode, 1, object.stderr);
    assert.match(object.stderr, /^katana: .*main\.o is not an executable but ET_REL; apply --file cannot patch it\n?$/);
    assert.not.ok(existsSync(out));

    // v2 built from -fno-pie code: the PO addresses its string with R_X86_64_32, which no bias fits.
    const absolute = new TempProject('persist-refusals-abs32');
    try {
      absolute.copyIn(join(casesDir, 'pie_aslr', 'main.c'), 'main.c');
      const v1 = await absolute.build(['main.c'], 'prog', ['-O0', '-fPIE'], ['-pie']);
      await absolute.patch(join(casesDir, 'pie_aslr', 'fix.patch'));
      const v2 = await absolute.build(['main.c'], 'prog-v2', ['-O0', '-fno-pie'], ['-no-pie']);
      const po = await diff(absolute, v1, v2, 'abs32.po');
      const refused = await katana(['apply', '--file', v1, po, '-o', out], absolute.dir);
      assert.is(refused.exitCode, 1, refused.stderr);
      assert.match(refused.stderr, /^katana: .*prog is position-independent, but the patch holds a 32-bit absolute address \(R_X86_64_32 against .* in \.text\.new\)/);
      assert.is(refused.stderr.trim().split('\n').length, 1);
      assert.not.ok(existsSync(out));
    } finally {
      absolute.remove();
    }

    const other = new TempProject('persist-refusals-libc');
    try {
      const libc = await buildCase(other, 'libc_new_call', ['-O0', '-no-pie'], ['-no-pie']);
      const po = await diff(other, libc.v1, libc.v2, 'upper.po');
      const refused = await katana(['apply', '--file', libc.v1, po, '-o', out], other.dir);
      assert.is(refused.exitCode, 1, refused.stderr);
      assert.match(refused.stderr, /^katana: toupper needed by the patch is a shared-library symbol that .*prog does not import; /);
      assert.is(refused.stderr.trim().split('\n').length, 1);
      assert.not.ok(existsSync(out));
    } finally {
      other.remove();
    }
  } finally {
    project.remove();
  }
});

refusals.run();
