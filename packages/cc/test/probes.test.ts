// Calls katana-cc passes through untouched (probes, -E, -M, -S): the output, messages and exit
// code must be exactly the real compiler's, and nothing is recorded.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { katana, makeProject, removeProject, requireTools, sh } from './helpers.js';

requireTools('cc', 'git');

const probes = suite('katana-cc pass-through');
probes.before.each((ctx) => {
  ctx['dir'] = makeProject({ 'x.c': '#include <stddef.h>\n#define N 3\nint x[N];\nsize_t f(void) { return sizeof x; }\n' });
});
probes.after.each((ctx) => { removeProject(ctx['dir'] as string); });

const CALLS: string[][] = [
  ['--version'], ['-dumpversion'], ['-dumpmachine'], ['-print-file-name=libc.so'], ['-E', 'x.c'],
  ['-M', 'x.c'], ['-MM', 'x.c'], ['-E', '-dM', 'x.c'], ['-fsyntax-only', 'x.c'], ['-E', 'missing.c'], [],
];
for (const args of CALLS) {
  probes(`cc ${args.join(' ')} prints and exits exactly as cc`, (ctx) => {
    const dir = ctx['dir'] as string;
    const real = sh('cc', args, { cwd: dir });
    const ours = katana('katana-cc', args, dir);
    assert.is(ours.stdout, real.stdout);
    assert.is(ours.stderr, real.stderr);
    assert.is(ours.status, real.status);
    assert.is(existsSync(join(dir, '.katana')), false);
  });
}

probes('-S writes the same assembly as cc -S', (ctx) => {
  const dir = ctx['dir'] as string;
  assert.is(sh('cc', ['-O2', '-S', 'x.c', '-o', 'real.s'], { cwd: dir }).status, 0);
  assert.is(katana('katana-cc', ['-O2', '-S', 'x.c', '-o', 'ours.s'], dir).status, 0);
  assert.equal(readFileSync(join(dir, 'ours.s')), readFileSync(join(dir, 'real.s')));
  assert.is(existsSync(join(dir, '.katana')), false);
});

probes('katana-c++ --version is c++ --version', (ctx) => {
  const dir = ctx['dir'] as string;
  assert.is(katana('katana-c++', ['--version'], dir).stdout, sh('c++', ['--version'], { cwd: dir }).stdout);
});

probes('KATANA_REAL_CC names the real compiler; a missing one is one katana-cc line', (ctx) => {
  const dir = ctx['dir'] as string;
  assert.is(katana('katana-cc', ['-dumpversion'], dir, { KATANA_REAL_CC: 'gcc' }).stdout, sh('gcc', ['-dumpversion'], { cwd: dir }).stdout);
  const r = katana('katana-cc', ['-c', 'x.c'], dir, { KATANA_REAL_CC: 'no-such-compiler-katana' });
  assert.is(r.status, 1);
  assert.match(r.stderr, /^katana-cc: cannot run the real compiler no-such-compiler-katana: .*ENOENT\n$/);
});
probes.run();
