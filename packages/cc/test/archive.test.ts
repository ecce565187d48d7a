// Static archives: the ar reader against `ar t` and the member objects (GNU with long names, thin,
// BSD from llvm-ar), and links through archives: the link record lists the members the linker took (by
// file, by -L/-l, under -static), not the ones it left out, and `katana diff` patches a function
// that came from an archive.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readArchive } from '../src/archive.js';
import { ObjectStore, type LinkRecord } from '../src/index.js';
import { binPath, katanaOk, makeProject, readelfBuildId, removeProject, requireTools, run, sh, storeFiles } from './helpers.js';

requireTools('cc', 'ar', 'llvm-ar', 'git', 'readelf');

const FILES = {
  'main.c': '#include <stdio.h>\nint add(int, int);\nint twice(int);\nint main(void) { printf("%d\\n", twice(add(20, 1))); return 0; }\n',
  'add.c': 'int add(int a, int b) { return a + b; }\n',
  'twice_with_a_long_name.c': 'int twice(int x) { return 2 * x; }\n',
  'unused.c': 'int unused(void) { return 3; }\n',
};
const MEMBERS = ['add.o', 'twice_with_a_long_name.o', 'unused.o'];

const reader = suite('readArchive');
reader.before.each((ctx) => {
  const dir = makeProject(FILES);
  ctx['dir'] = dir;
  run('cc', ['-c', ...Object.keys(FILES)], dir);
});
reader.after.each((ctx) => { removeProject(ctx['dir'] as string); });

for (const [label, tool, flags] of [['GNU ar', 'ar', ['rcs']], ['GNU ar, thin', 'ar', ['rcsT']], ['llvm-ar, BSD format', 'llvm-ar', ['rcs', '--format=bsd']]] as const) {
  reader(`${label}: member names are those ${tool} t lists, bytes those of the objects`, (ctx) => {
    const dir = ctx['dir'] as string;
    run(tool, [...flags, 'lib.a', ...MEMBERS], dir);
    const members = readArchive(join(dir, 'lib.a'));
    assert.equal(members.map((m) => m.name), run(tool, ['t', 'lib.a'], dir).trim().split('\n'));
    for (const m of members) assert.equal(Buffer.from(m.data), readFileSync(join(dir, m.name)), m.name);
  });
}
reader('a file that is not an archive is an ArchiveError', (ctx) => {
  const dir = ctx['dir'] as string;
  writeFileSync(join(dir, 'bad.a'), '!<arch>\nnot a header at all, just text that is long enough to read as one\n');
  assert.throws(() => readArchive(join(dir, 'bad.a')), (e: Error & { code?: string }) => e.code === 'E_ARCHIVE' && /bad member header/.test(e.message));
});
reader.run();

function onlyLink(dir: string): LinkRecord {
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const links = storeFiles(store.dir, 'links');
  assert.is(links.length, 1, `expected one link record, found ${links.join(', ')}`);
  return store.readLink(links[0]!.replace('.json', ''))!;
}

const linking = suite('katana-cc links through archives');
linking.before.each((ctx) => {
  const dir = makeProject(FILES);
  ctx['dir'] = dir;
  katanaOk('katana-cc', ['-c', ...Object.keys(FILES)], dir);
  run('ar', ['rcs', 'libutil.a', ...MEMBERS], dir);
});
linking.after.each((ctx) => { removeProject(ctx['dir'] as string); });

const TAKEN = ['main.o', 'libutil.a(add.o)', 'libutil.a(twice_with_a_long_name.o)'];
for (const [label, args] of [
  ['the archive by name', ['-o', 'prog', 'main.o', 'libutil.a']],
  ['-L. -lutil', ['-o', 'prog', 'main.o', '-L.', '-lutil']],
  ['-static -L . -l util', ['-static', '-o', 'prog', 'main.o', '-L', '.', '-l', 'util']],
] as const) {
  linking(`${label}: the record lists main.o and the two members the linker took, with their sources`, (ctx) => {
    const dir = ctx['dir'] as string;
    katanaOk('katana-cc', [...args], dir);
    assert.is(sh(join(dir, 'prog'), [], { cwd: dir }).stdout, '42\n');
    const record = onlyLink(dir);
    assert.is(record.buildId, readelfBuildId(join(dir, 'prog')));
    assert.equal(record.objects.map((o) => o.path), TAKEN.map((p) => join(dir, p)));
    const store = ObjectStore.locate({ cwd: dir, env: {} });
    assert.equal(record.objects.map((o) => store.readManifest(o.hash)!.source), ['main.c', 'add.c', 'twice_with_a_long_name.c']);
    assert.equal(record.untracked, []);
  });
}

linking('an archive of foreign objects stays untracked', (ctx) => {
  const dir = ctx['dir'] as string;
  // A different add(): the store's add.o defines an add of another size, so it was not taken.
  writeFileSync(join(dir, 'foreign.c'), 'int add(int a, int b) { return a + b + (a > b ? 1 : 0); }\n');
  run('cc', ['-c', 'foreign.c'], dir);
  run('ar', ['rcs', 'libforeign.a', 'foreign.o'], dir);
  katanaOk('katana-cc', ['-o', 'prog', 'main.o', 'libforeign.a', 'libutil.a'], dir);
  const record = onlyLink(dir);
  assert.equal(record.objects.map((o) => o.path), [join(dir, 'main.o'), join(dir, 'libutil.a(twice_with_a_long_name.o)')]);
  assert.equal(record.untracked, [join(dir, 'libforeign.a')]);
});

linking('katana diff patches a function that came from the archive', (ctx) => {
  const dir = ctx['dir'] as string;
  katanaOk('katana-cc', ['-o', 'prog', 'main.o', 'libutil.a'], dir);
  writeFileSync(join(dir, 'add.c'), 'int add(int a, int b) { return a + b + 1000; }\n');
  katanaOk('katana-cc', ['-c', 'add.c'], dir);
  run('ar', ['rcs', 'libutil.a', 'add.o'], dir);
  katanaOk('katana-cc', ['-o', 'prog2', 'main.o', 'libutil.a'], dir);
  assert.is(sh(join(dir, 'prog2'), [], { cwd: dir }).stdout, '2042\n');
  const r = sh(process.execPath, [binPath('katana'), 'diff', '--old', 'prog', '--new', 'prog2', '-o', 'fix.po', '--json'], { cwd: dir });
  assert.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { changed: { name: string; file: string }[]; added: unknown[] };
  assert.equal(report.changed.map((f) => [f.name, f.file]), [['add', 'add.c']]);
  assert.equal(report.added, []);
});
linking.run();
