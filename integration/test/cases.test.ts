// One test per folder in integration/cases: build v1 with katana-cc, deploy it (stripped where the
// case says so) and start it; build v2 from fix.patch; katana diff; katana inspect; katana apply
// on the running process; then check what it prints changes and that it survives.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCase } from '../lib/case-build.js';
import { loadCases, type CaseSpec } from '../lib/cases.js';
import { assertToolsReadCleanly, readMaps } from '../lib/checks.js';
import { katana } from '../lib/katana.js';
import { RunningTarget } from '../lib/target.js';

const cases = suite('integration cases');

for (const spec of loadCases()) {
  cases(`${spec.name}: ${spec.desc}`, async () => runCase(spec));
}

async function runCase(spec: CaseSpec): Promise<void> {
  const { project, deployed, po, diff } = await buildCase(spec);
  let target: RunningTarget | undefined;
  try {
    if (spec.diffExit !== undefined) {
      assert.is(diff.exitCode, spec.diffExit, `katana diff exit code; stderr: ${diff.stderr}`);
      assert.match(diff.stderr, new RegExp(spec.diffError ?? ''), 'katana diff message');
      assert.is(diff.stderr.trim().split('\n').length, 1, `one-line error, got: ${diff.stderr}`);
      return;
    }
    assert.is(diff.exitCode, 0, `katana diff failed: ${diff.stderr}`);
    await assertToolsReadCleanly(po);

    const inspect = await katana(['inspect', '--json', po], project.dir);
    assert.is(inspect.exitCode, 0, `katana inspect failed: ${inspect.stderr}`);
    const description = JSON.parse(inspect.stdout);
    for (const f of [...description.changed, ...description.added]) assert.ok(spec.sources.includes(f.file), `source file ${f.file} of ${f.name}`);
    const shown = (f: { name: string; demangled?: string }): string => f.demangled ?? f.name;
    if (spec.changed) assert.equal(description.changed.map(shown).sort(), [...spec.changed].sort(), 'changed functions');
    if (spec.codeOnly) {
      assert.equal(description.newVariables, [], 'new variables');
      assert.equal([description.sizes.rodata, description.sizes.data, description.sizes.bss], [0, 0, 0], '.rodata.new, .data.new, .bss.new sizes');
    }
    if (spec.added) assert.equal(description.added.map(shown).sort(), [...spec.added].sort(), 'new functions');
    for (const v of spec.newVariables ?? []) {
      assert.ok(description.newVariables.some((n: { name: string }) => n.name === v), `new variable ${v} in ${inspect.stdout}`);
    }
    if (spec.transformed) {
      assert.equal(description.transformed.map((t: { name: string }) => t.name).sort(), [...spec.transformed].sort(), 'transformed variables');
      for (const v of description.transformed) {
        assert.ok(description.types.some((t: { name: string }) => v.type === t.name || v.type.startsWith(`${t.name} [`)), `the type of ${v.name} in ${inspect.stdout}`);
      }
    }
    for (const e of spec.externals ?? []) {
      assert.ok(description.externals.some((n: { name: string }) => n.name === e), `external ${e} in ${inspect.stdout}`);
    }

    target = new RunningTarget(deployed);
    const before = new RegExp(spec.before);
    await target.waitForLine(before);
    const mapsBefore = readMaps(target.pid);
    const apply = await katana(['apply', '--pid', String(target.pid), po], project.dir);
    if (spec.applyExit !== undefined) {
      assert.is(apply.exitCode, spec.applyExit, `katana apply exit code; stderr: ${apply.stderr}`);
      assert.match(apply.stderr, new RegExp(spec.applyError ?? ''), 'katana apply message');
      assert.is(apply.stderr.trim().split('\n').length, 1, `one-line error, got: ${apply.stderr}`);
      assert.is(readMaps(target.pid), mapsBefore, 'a refused apply leaves no mapping behind');
      const seen = target.lines.length;
      await target.waitForLine(before, seen + 5);
      assert.ok(target.alive, 'target still running after a refused apply');
      return;
    }
    assert.is(apply.exitCode, 0, `katana apply failed: ${apply.stderr}`);
    // The report names what moved, as inspect does: "1 variable(s) moved (stats (main.c): struct stats, 12 -> 24 bytes)".
    const moved: { name: string; file: string; type: string }[] = description.transformed;
    if (moved.length === 0) assert.not.match(apply.stdout, 'variable(s) moved', `apply moves no variable: ${apply.stdout}`);
    else assert.match(apply.stdout, `; ${moved.length} variable(s) moved (`, `apply report: ${apply.stdout}`);
    for (const v of moved) assert.match(apply.stdout, `${v.name} (${v.file}): ${v.type.replace(/ \[\d+\]$/, '')}`, `apply report names ${v.name}: ${apply.stdout}`);
    if (spec.applyOutput) assert.match(apply.stdout, new RegExp(spec.applyOutput), 'katana apply output');
    const after = new RegExp(spec.after!);
    const firstAfter = await target.waitForLine(after);
    // Every line from the first patched one on is patched output: the switch is atomic.
    await target.waitForLine(after, firstAfter + 20);
    const unaffected = spec.unaffected ? new RegExp(spec.unaffected) : undefined;
    const mixed = target.lines.slice(firstAfter).filter((l) => !after.test(l) && !unaffected?.test(l));
    assert.equal(mixed, [], 'old output after the patch took effect');
    if (spec.firstAfter) assert.match(target.lines[firstAfter]!, new RegExp(spec.firstAfter), 'first patched line');
    if (spec.counterCarries) {
      const lastBefore = target.lines.slice(0, firstAfter).filter((l) => before.test(l)).pop()!;
      const was = Number(before.exec(lastBefore)![1]);
      const now = Number(after.exec(target.lines[firstAfter]!)![1]);
      assert.is(now, was + 1, `counter carried across the patch (${lastBefore} -> ${target.lines[firstAfter]})`);
    }
    assert.ok(target.alive, 'target survived the patch');
  } finally {
    target?.kill();
    project.remove();
  }
}

cases.run();
