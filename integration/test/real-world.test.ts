// The real-world proof under npm test: integration/real-world/run.mjs fetches dash's Debian source
// package, builds it with katana-make patch-since around Debian patch 0018, and hot-patches a
// running dash; this test runs it and checks its report: the PO changes hashcmd alone, the old
// shell showed the bug, the patched one the fix, in the same process with its variables intact.
import { execa } from 'execa';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../lib/paths.js';

interface Report {
  ok: boolean;
  program: string;
  changed: string[];
  pid: number;
  before: string[];
  after: string[];
  figures: { plainBuildSeconds: number; katanaCcBuildSeconds: number; poBytes: number };
}

const realWorld = suite('real world: dash and Debian patch 0018');

realWorld('a running dash is hot-patched with the fix Debian ships, and keeps its state', async () => {
  const r = await execa(process.execPath, [join(repoRoot, 'integration', 'real-world', 'run.mjs'), '--json'], { cwd: repoRoot, reject: false });
  process.stderr.write(r.stderr.split('\n').filter((line) => /^(real-world:|figures|  )/.test(line)).join('\n') + '\n');
  assert.is(r.exitCode, 0, r.stderr.split('\n').filter((line) => line.startsWith('real-world:')).pop());
  const report = JSON.parse(r.stdout) as Report;
  assert.ok(report.ok);
  assert.is(report.program, 'dash 0.5.12-2');
  assert.equal(report.changed, ['src/exec.c:hashcmd']);
  assert.equal(report.before, ['status=0'], 'upstream dash accepts hash -rv and clears its table');
  assert.match(report.after[0]!, /hash: Illegal option -v$/);
  assert.is(report.after[1], 'status=2');
  assert.match(report.after[2]!, /\/cat$/, 'the hash table survived hash -rv');
  assert.is(report.after[3], `marker=set-before-the-patch pid=${report.pid}`);
  assert.is(report.after.length, 4);
  assert.ok(report.figures.poBytes > 0);
});

realWorld.run();
