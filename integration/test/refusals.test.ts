// Refused applies that need no diff of their own: a PO for another program, a corrupt PO, a pid
// that does not exist. Each ends in one line and a non-zero exit, and a running target is untouched.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readMaps } from '../lib/checks.js';
import { katana } from '../lib/katana.js';
import { casesDir } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

interface Context {
  project: TempProject;
  po: string;
  other: string;
  target?: RunningTarget;
}

const refusals = suite<Context>('refused applies');

refusals.before(async (context) => {
  const project = new TempProject('refusals');
  context.project = project;
  project.copyIn(join(casesDir, 'nonpie_dynamic', 'main.c'), 'main.c');
  const v1 = await project.build(['main.c'], 'prog', ['-O0'], []);
  await project.patch(join(casesDir, 'nonpie_dynamic', 'fix.patch'));
  const v2 = await project.build(['main.c'], 'prog-v2', ['-O0'], []);
  context.po = join(project.dir, 'fix.po');
  const diff = await katana(['diff', '--old', v1, '--new', v2, '-o', context.po], project.dir, project.env);
  assert.is(diff.exitCode, 0, diff.stderr);
  // Another program: same source with one more line, so a different build-id.
  project.write('other.c', `${readFileSync(join(casesDir, 'nonpie_dynamic', 'main.c'), 'utf8')}\nint other_marker;\n`);
  context.other = await project.build(['other.c'], 'other', ['-O0'], []);
});

refusals.after.each((context) => {
  context.target?.kill();
  context.target = undefined;
});

refusals.after((context) => context.project.remove());

refusals('a PO for another build is refused with both build-ids, the target untouched', async (context) => {
  const target = (context.target = new RunningTarget(context.other));
  await target.waitForLine(/^tick \d+ status \d$/);
  const maps = readMaps(target.pid);
  const r = await katana(['apply', '--pid', String(target.pid), context.po], context.project.dir);
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stderr, /build-id [0-9a-f]{40}.*build-id [0-9a-f]{40}/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.is(readMaps(target.pid), maps);
  await target.waitForLine(/^tick \d+ status \d$/, target.lines.length + 3);
});

refusals('a corrupt PO is refused as not a Patch Object', async (context) => {
  const target = (context.target = new RunningTarget(context.other));
  await target.waitForLine(/^tick/);
  const bytes = readFileSync(context.po);
  const corrupt = join(context.project.dir, 'corrupt.po');
  writeFileSync(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const r = await katana(['apply', '--pid', String(target.pid), corrupt], context.project.dir);
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stderr, /^katana: corrupt\.po is not a valid Patch Object: /);
  const text = join(context.project.dir, 'text.po');
  writeFileSync(text, 'not an ELF file at all\n');
  const r2 = await katana(['inspect', text], context.project.dir);
  assert.is(r2.exitCode, 1, r2.stderr);
  assert.match(r2.stderr, /^katana: text\.po is not a valid Patch Object: /);
});

refusals('a pid that does not exist is refused in one line', async (context) => {
  const r = await katana(['apply', '--pid', '999999999', context.po], context.project.dir);
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stderr, /no process with pid 999999999/);
  assert.is(r.stderr.trim().split('\n').length, 1);
});

refusals('a missing PO file and a bad --pid are usage errors with one line', async (context) => {
  const r = await katana(['apply', '--pid', 'abc', context.po], context.project.dir);
  assert.is(r.exitCode, 64, r.stderr);
  assert.match(r.stderr, /--pid 'abc' is not a process id/);
  const r2 = await katana(['inspect', join(context.project.dir, 'missing.po')], context.project.dir);
  assert.is(r2.exitCode, 1);
  assert.match(r2.stderr, /cannot read .*missing\.po: no such file/);
});

refusals.run();
