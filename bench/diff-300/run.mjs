// bench/diff-300: how long `katana diff` takes on a 300-object build where 3 sources changed, with
// the tracker journal (`katana watch` ran during the rebuild) and without it (--no-journal, every
// object compared). Generates OBJECTS C sources of FUNCTIONS functions each plus main.c, builds them
// with katana-cc and make -j2, starts `katana watch`, changes 3 sources, rebuilds, then times RUNS
// diffs of each kind, alternating, and checks that both write the same PO bytes.
//   node bench/diff-300/run.mjs [--objects 300] [--functions 8] [--runs 7]
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '300' }, functions: { type: 'string', default: '8' }, runs: { type: 'string', default: '7' } } });
const objects = Number(values.objects);
const functions = Number(values.functions);
const runs = Number(values.runs);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const work = mkdtempSync(join(tmpdir(), 'katana-bench-diff-'));
mkdirSync(join(work, '.git'));
const env = { ...process.env, KATANA_STORE: join(work, '.katana') };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Source i: FUNCTIONS functions, each long enough to be patched; `variant` changes their bodies. */
const source = (i, variant) =>
  Array.from({ length: functions }, (_, f) =>
    `int m${i}_f${f}(int x)\n{\n\tint s = ${variant};\n\tfor (int k = 0; k < x; k++)\n\t\ts += k * ${f + 1} + ${i};\n\treturn s;\n}\n`).join('\n');

for (let i = 0; i < objects; i++) writeFileSync(join(work, `m${i}.c`), source(i, 0));
const decls = Array.from({ length: objects }, (_, i) => `int m${i}_f0(int);`).join('\n');
const calls = Array.from({ length: objects }, (_, i) => `m${i}_f0(n)`).join(' + ');
writeFileSync(join(work, 'main.c'), `#include <stdio.h>\n${decls}\nint main(void) { int n = 3; printf("%d\\n", ${calls}); return 0; }\n`);
const list = [...Array.from({ length: objects }, (_, i) => `m${i}.o`), 'main.o'].join(' ');
writeFileSync(join(work, 'Makefile'), `CC = ${bin('katana-cc')}\nCFLAGS = -O2\nprog: ${list}\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) $(CFLAGS) -c $< -o $@\n`);

const make = () => {
  const t0 = Date.now();
  execFileSync('make', ['-s', '-j2'], { cwd: work, env });
  return (Date.now() - t0) / 1000;
};
console.log(`building ${objects + 1} objects with katana-cc, make -j2 ...`);
const fullBuild = make();
copyFileSync(join(work, 'prog'), join(work, 'prog-v1'));

const watcher = spawn(bin('katana'), ['watch', work], { cwd: work, env, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  let seen = '';
  watcher.stdout.on('data', (chunk) => {
    seen += chunk;
    if (seen.includes('katana watch: ready')) resolve();
  });
  watcher.once('exit', (code) => reject(new Error(`katana watch exited (${code}): ${seen}`)));
});
for (const i of [7, 150, 299 % objects]) writeFileSync(join(work, `m${i}.c`), source(i, 1));
const rebuild = make();
await new Promise((r) => setTimeout(r, 300)); // let the watcher flush its last events

const diff = (journal) => {
  const out = journal ? 'journal.po' : 'full.po';
  const args = ['diff', '--old', 'prog-v1', '--new', 'prog', '-o', out, '--json', ...(journal ? [] : ['--no-journal'])];
  const t0 = process.hrtime.bigint();
  const stdout = execFileSync(bin('katana'), args, { cwd: work, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const report = JSON.parse(stdout);
  if (journal && !report.journal.used) throw new Error(`the journal was not used: ${report.journal.reason}`);
  return { ms, changed: report.changed.length };
};
const times = { journal: [], full: [] };
let changed = 0;
for (let run = 0; run < runs; run++) {
  for (const kind of ['journal', 'full']) {
    const r = diff(kind === 'journal');
    times[kind].push(r.ms);
    changed = r.changed;
  }
}
watcher.kill('SIGINT');
await new Promise((r) => watcher.once('exit', r)); // it writes its journal a last time
const same = readFileSync(join(work, 'journal.po')).equals(readFileSync(join(work, 'full.po')));
const fmt = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
console.log(`full build ${fullBuild.toFixed(1)} s, rebuild of 3 sources ${rebuild.toFixed(1)} s; ${changed} functions changed; same PO bytes: ${same}`);
console.log(`katana diff, journal (3 of ${objects + 1} objects): ${fmt(times.journal)}`);
console.log(`katana diff --no-journal (every object):          ${fmt(times.full)}`);
if (process.env.KATANA_KEEP_TMP !== '1') rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
if (!same) process.exit(1);
