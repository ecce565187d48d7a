// Tests of response-file (@file) expansion, used to classify calls such as `cc @args.rsp`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expandResponseFiles, splitResponseFile } from '../src/args/response.js';
import { classifyArgs } from '../src/args/classify.js';

const split = suite('splitResponseFile');
split('white space, quotes and backslashes', () => {
  assert.equal(splitResponseFile(`-c\n  a.c\t'b c.c' "d\\"e" f\\ g ''`), ['-c', 'a.c', 'b c.c', 'd"e', 'f g', '']);
});
split.run();

const expand = suite('expandResponseFiles');
expand.before.each((ctx) => {
  ctx['dir'] = mkdtempSync(join(tmpdir(), 'katana-cc-'));
});
expand.after.each((ctx) => {
  if (!process.env['KATANA_KEEP_TMP']) rmSync(ctx['dir'] as string, { recursive: true, force: true });
});
expand('nested response files expand in place; a missing one stays literal', (ctx) => {
  const dir = ctx['dir'] as string;
  writeFileSync(join(dir, 'outer.rsp'), '-c @inner.rsp -o x.o');
  writeFileSync(join(dir, 'inner.rsp'), 'a.c -DX=1');
  const args = expandResponseFiles(['-O2', '@outer.rsp', '@nope.rsp'], dir);
  assert.equal(args, ['-O2', '-c', 'a.c', '-DX=1', '-o', 'x.o', '@nope.rsp']);
  const c = classifyArgs(args, 'c');
  assert.is(c.action, 'compile');
  assert.is(c.output, 'x.o');
});
expand('a response file that names itself stops expanding', (ctx) => {
  const dir = ctx['dir'] as string;
  writeFileSync(join(dir, 'loop.rsp'), '-c @loop.rsp');
  const args = expandResponseFiles(['@loop.rsp'], dir);
  assert.is(args.filter((a) => a === '-c').length, 64);
  assert.is(args[args.length - 1], '@loop.rsp');
});
expand.run();
