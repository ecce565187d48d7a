// `npm run demo`: the blog post's scene, end to end. The castle program is built -O0 -static with
// katana-cc, deployed as a stripped copy and started; v2 (the princess is rescued) is built; katana
// diff makes a Patch Object; katana apply patches the running stripped process, whose output
// changes while it runs. Every step prints the command it runs.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const caseDir = join(root, 'integration', 'cases', 'static_stripped');
const work = mkdtempSync(join(tmpdir(), 'katana-demo-'));
mkdirSync(join(work, '.git'));
const env = { ...process.env, KATANA_STORE: join(work, '.katana') };

let step = 0;
const say = (text) => console.log(`\n\x1b[1m${++step}. ${text}\x1b[0m`);
const run = (cmd, args, { quiet = false } = {}) => {
  console.log(`   $ ${[cmd.startsWith(root) ? cmd.slice(root.length + 1).replace('node_modules/.bin/', '') : cmd, ...args].join(' ')}`);
  const out = execFileSync(cmd, args, { cwd: work, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (!quiet && out.trim()) console.log(out.trimEnd().replace(/^/gm, '   '));
  return out;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let castle;
try {
  console.log(`katana demo in ${work}`);
  say('The castle program (v1): argc is never below 1, so the princess is always in another castle.');
  copyFileSync(join(caseDir, 'main.c'), join(work, 'castle.c'));
  console.log(readFileSync(join(work, 'castle.c'), 'utf8').replace(/^/gm, '   | '));

  say('Build v1 with katana-cc, -O0 -static, as the blog post does; every object goes into the store.');
  run(bin('katana-cc'), ['-O0', '-static', '-o', 'castle', 'castle.c']);
  run('readelf', ['-n', 'castle']);

  say('Deploy a stripped copy: no symbols, no debug info (the build-id note survives strip).');
  run('strip', ['-o', 'castle.deployed', 'castle']);
  const symbols = execFileSync('readelf', ['-S', '-W', 'castle.deployed'], { cwd: work, encoding: 'utf8' });
  console.log(`   $ readelf -S castle.deployed: ${/\.symtab/.test(symbols) ? 'has' : 'no'} .symtab, ${/\.debug_info/.test(symbols) ? 'has' : 'no'} .debug_info, ${/\.note\.gnu\.build-id/.test(symbols) ? 'has' : 'no'} .note.gnu.build-id`);

  say('Start the deployed, stripped castle. It prints every 20 ms.');
  castle = spawn(join(work, 'castle.deployed'), [], { cwd: work, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let partial = '';
  castle.stdout.setEncoding('utf8');
  castle.stdout.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    lines.push(...parts);
  });
  await sleep(300);
  console.log(`   pid ${castle.pid}, ${lines.length} lines so far, the last: "${lines.at(-1)}"`);

  say('Fix the source (v2): the princess is rescued.');
  run('patch', ['-p1', '--quiet', '-i', join(caseDir, 'fix.patch'), 'castle.c']);
  console.log(readFileSync(join(caseDir, 'fix.patch'), 'utf8').replace(/^/gm, '   | '));
  run(bin('katana-cc'), ['-O0', '-static', '-o', 'castle-v2', 'castle.c']);

  say('Diff the two builds into a Patch Object.');
  run(bin('katana'), ['diff', '--old', 'castle', '--new', 'castle-v2', '-o', 'rescue.po']);
  run(bin('katana'), ['inspect', 'rescue.po']);

  say(`Hot-patch the running stripped process ${castle.pid}.`);
  const before = lines.length;
  run(bin('katana'), ['apply', '--pid', String(castle.pid), 'rescue.po']);
  await sleep(300);
  const first = lines.findIndex((l) => l === 'Thank you marrrio, *smooch*!');
  console.log(`   the castle's output around the switch (line ${first} of ${lines.length}):`);
  for (const l of lines.slice(Math.max(0, first - 3), first + 3)) console.log(`   castle | ${l}`);
  const rescued = first >= before - 1 && lines.slice(first).every((l) => l === 'Thank you marrrio, *smooch*!');
  if (castle.exitCode !== null || !rescued) throw new Error('the castle did not take the patch');
  say(`Done: pid ${castle.pid} never restarted and the princess is rescued.`);
} catch (error) {
  console.error(`\ndemo failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  castle?.kill('SIGKILL');
  if (process.env.KATANA_KEEP_TMP !== '1') rmSync(work, { recursive: true, force: true });
}
