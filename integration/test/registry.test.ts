// The in-target patch registry, end to end on one running program (the nonpie_dynamic case):
// `katana list` before and after an apply, from separate katana processes; the CFI the registry
// points at covers each new function's run-time range; the same PO twice exits 4 and changes
// nothing; a PO made for the original build is refused once a patch is applied (wrong base); a PO
// made with `diff --after first.po` is accepted on top of the first.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPatchCfi } from '@katana/applier';
import { ElfFile } from '@katana/elf';
import { readPatchObject } from '@katana/po';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertToolsReadCleanly, readMaps } from '../lib/checks.js';
import { fdeRanges } from '../lib/eh-frame.js';
import { katana } from '../lib/katana.js';
import { casesDir } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

interface Context {
  project: TempProject;
  v1: string;
  first: string;
  other: string;
  stacked: string;
  target: RunningTarget;
}

const V1 = /^tick \d+ status [0-6]$/;
const FIRST = /^tick \d+ status 100[0-6]$/;
const STACKED = /^tick \d+ status 200[0-6]$/;

const registry = suite<Context>('patch registry');

registry.before(async (context) => {
  try {
    const project = (context.project = new TempProject('registry'));
    const source = readFileSync(join(casesDir, 'nonpie_dynamic', 'main.c'), 'utf8');
    const flags = ['-O0', '-no-pie'];
    project.write('main.c', source);
    context.v1 = await project.build(['main.c'], 'prog', flags, ['-no-pie']);
    await project.patch(join(casesDir, 'nonpie_dynamic', 'fix.patch'));
    const v2 = await project.build(['main.c'], 'prog-v2', flags, ['-no-pie']);
    project.write('main.c', source.replace('return tick % 7;', 'return 2000 + tick % 7;'));
    const v3 = await project.build(['main.c'], 'prog-v3', flags, ['-no-pie']);
    const diff = async (to: string, out: string, extra: string[] = []): Promise<string> => {
      const po = join(project.dir, out);
      const r = await katana(['diff', '--old', context.v1, '--new', to, '-o', po, ...extra], project.dir, project.env);
      assert.is(r.exitCode, 0, `katana diff ${out}: ${r.stderr}`);
      await assertToolsReadCleanly(po);
      return po;
    };
    context.first = await diff(v2, 'first.po');
    context.other = await diff(v3, 'other.po');
    context.stacked = await diff(v3, 'stacked.po', ['--after', context.first]);
    context.target = new RunningTarget(context.v1);
    await context.target.waitForLine(V1);
  } catch (error) {
    // uvu swallows errors thrown by hooks; print it so the failure says why.
    console.error('setting up the registry test failed:', error);
    throw error;
  }
});

registry.after((context) => {
  context.target?.kill();
  context.project?.remove();
});

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface ListedPatch {
  id: string;
  shortId: string;
  name: string;
  appliedAt: string;
  area: { start: string; size: number };
  functions: { name: string; address: string; to: string; original: string }[];
  cfi?: { start: string; end: string; ehFrameAddress: string; ehFrameSize: number };
}

async function list(context: Context): Promise<ListedPatch[]> {
  const r = await katana(['list', '--pid', String(context.target.pid), '--json'], context.project.dir);
  assert.is(r.exitCode, 0, `katana list: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  assert.is(out.pid, context.target.pid);
  return out.patches;
}

/** Waits until the target prints 5 more lines matching `pattern`, and no other line after the first. */
async function stillPrints(target: RunningTarget, pattern: RegExp): Promise<void> {
  const from = target.lines.length;
  await target.waitForLine(pattern, from + 5);
  assert.equal(target.lines.slice(from).filter((l) => !pattern.test(l)), [], `only ${pattern} lines`);
  assert.ok(target.alive, 'target alive');
}

registry('an unpatched process has no patches applied', async (context) => {
  const r = await katana(['list', '--pid', String(context.target.pid)], context.project.dir);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, `pid ${context.target.pid}: no patches applied`);
  assert.equal(await list(context), []);
  assert.not.match(readMaps(context.target.pid), /memfd:katana-registry/);
});

registry('katana list, in another katana process, shows the applied patch with its functions and old bytes', async (context) => {
  const apply = await katana(['apply', '--pid', String(context.target.pid), context.first], context.project.dir);
  assert.is(apply.exitCode, 0, apply.stderr);
  await context.target.waitForLine(FIRST);
  assert.match(readMaps(context.target.pid), /\/memfd:katana-registry \(deleted\)/);

  const [patch, ...more] = await list(context);
  assert.equal(more, []);
  assert.is(patch!.id, sha256(context.first));
  assert.is(patch!.shortId, patch!.id.slice(0, 12));
  assert.is(patch!.name, 'first.po');
  assert.ok(Math.abs(Date.parse(patch!.appliedAt) - Date.now()) < 60_000, `applied just now: ${patch!.appliedAt}`);
  assert.equal(patch!.functions.map((f) => f.name), ['status_code']);
  // Non-PIE: the run-time entry is the link-time one, and the saved bytes are the file's.
  const elf = ElfFile.open(context.v1);
  const symbol = elf.symbols().find((s) => s.name === 'status_code')!;
  assert.is(BigInt(patch!.functions[0]!.address), symbol.value);
  assert.is(patch!.functions[0]!.original, Buffer.from(elf.readAt(symbol.value, 5)).toString('hex'));
  const to = BigInt(patch!.functions[0]!.to);
  const area = BigInt(patch!.area.start);
  assert.ok(to >= area && to < area + BigInt(patch!.area.size), 'the new code lies in the patch area');

  const text = await katana(['list', '--pid', String(context.target.pid)], context.project.dir);
  assert.is(text.exitCode, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^1\\. ${patch!.shortId}  first\\.po  applied `, 'm'));
  assert.match(text.stdout, /^\s+status_code at 0x[0-9a-f]+ -> 0x[0-9a-f]+$/m);
});

registry('the CFI the registry points at has one FDE per new function, covering its run-time range', async (context) => {
  const po = readPatchObject(readFileSync(context.first), 'first.po');
  const [patch] = await list(context);
  const cfi = readPatchCfi(context.target.pid);
  assert.is(cfi.length, 1);
  const { start, end, ehFrameAddress, ehFrame } = cfi[0]!;
  assert.is(ehFrame.length, po.ehFrame!.length);
  const expected = po.functions.map((f) => {
    const at = BigInt(patch!.functions.find((g) => g.name === f.name)!.to);
    return { start: at, end: at + BigInt(f.size) };
  });
  assert.equal(fdeRanges(ehFrame, ehFrameAddress), expected);
  assert.ok(start <= expected[0]!.start && expected[0]!.end <= end, 'the registry range covers the function');
});

registry('the same PO again exits 4 as already applied, and changes nothing', async (context) => {
  const before = await list(context);
  const maps = readMaps(context.target.pid);
  const r = await katana(['apply', '--pid', String(context.target.pid), context.first], context.project.dir);
  assert.is(r.exitCode, 4, r.stderr);
  assert.match(r.stderr, new RegExp(`^katana: first\\.po \\(patch ${before[0]!.shortId}\\) is already applied to pid ${context.target.pid}, since `));
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.equal(await list(context), before);
  assert.is(readMaps(context.target.pid), maps);
  await stillPrints(context.target, FIRST);
});

registry('a PO made for the original build is refused on a patched process, naming both bases', async (context) => {
  const before = await list(context);
  const maps = readMaps(context.target.pid);
  const r = await katana(['apply', '--pid', String(context.target.pid), context.other], context.project.dir);
  assert.is(r.exitCode, 1, r.stderr);
  assert.is(r.stderr, `katana: pid ${context.target.pid} has patches [${before[0]!.shortId}] applied, but other.po expects none`);
  assert.equal(await list(context), before);
  assert.is(readMaps(context.target.pid), maps);
  await stillPrints(context.target, FIRST);
});

registry('a PO made with --after first.po applies on top of it, and both are listed in order', async (context) => {
  const inspect = await katana(['inspect', '--json', context.stacked], context.project.dir);
  assert.equal(JSON.parse(inspect.stdout).base, [sha256(context.first)]);
  const r = await katana(['apply', '--pid', String(context.target.pid), context.stacked], context.project.dir);
  assert.is(r.exitCode, 0, r.stderr);
  await context.target.waitForLine(STACKED);
  await stillPrints(context.target, STACKED);
  const patches = await list(context);
  assert.equal(patches.map((p) => [p.id, p.name]), [[sha256(context.first), 'first.po'], [sha256(context.stacked), 'stacked.po']]);
  // The second trampoline overwrote the first: its saved bytes are the first patch's jmp.
  assert.is(patches[1]!.functions[0]!.original.slice(0, 2), 'e9');
  assert.is(readPatchCfi(context.target.pid).length, 2);
});

registry.run();
