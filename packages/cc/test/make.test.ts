// katana-cc (its sh front end, as npm installs it) under `make -j8`: 40 objects compiled in parallel
// into one store, then linked. Every object and manifest must be there, one link record must list
// all 40, and no temporary or pending file may be left behind (the store writes by rename, so
// readers never see a partial file; the link folds the front end's pending manifests).
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { binPath, makeProject, readelfBuildId, removeProject, requireTools, sh, storeFiles } from './helpers.js';

requireTools('cc', 'git', 'make', 'readelf');

const COUNT = 40;

function generate(dir: string): void {
  const names = Array.from({ length: COUNT }, (_, i) => `f${i}`);
  for (const [i, name] of names.entries()) {
    const body = i === 0
      ? `#include <stdio.h>\n${names.slice(1).map((n) => `int ${n}(void);`).join('\n')}\nint main(void) { int s = 0;\n${names.slice(1).map((n) => `  s += ${n}();`).join('\n')}\n  printf("%d\\n", s); return 0; }\n`
      : `int ${name}(void) { return ${i}; }\n`;
    writeFileSync(join(dir, `${name}.c`), body);
  }
  writeFileSync(join(dir, 'Makefile'), [
    `OBJS = ${names.map((n) => `${n}.o`).join(' ')}`,
    'prog: $(OBJS)',
    '\t$(CC) -o $@ $(OBJS)',
    '%.o: %.c',
    '\t$(CC) -O2 -c $< -o $@',
    '',
  ].join('\n'));
}

const make = suite('katana-cc under make -j8');
make.before.each((ctx) => { ctx['dir'] = makeProject(); });
make.after.each((ctx) => { removeProject(ctx['dir'] as string); });
make('records all 40 objects and one link record of 40 objects', (ctx) => {
  const dir = ctx['dir'] as string;
  generate(dir);
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH']}` };
  const r = sh('make', ['-j8', `CC=${binPath('katana-cc')}`], { cwd: dir, env });
  assert.is(r.status, 0, r.stderr);
  const expected = (COUNT * (COUNT - 1)) / 2;
  assert.is(sh(join(dir, 'prog'), [], { cwd: dir }).stdout, `${expected}\n`);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  assert.is(storeFiles(store.dir, 'objects').length, COUNT);
  assert.is(storeFiles(store.dir, 'manifests').length, COUNT);
  const links = storeFiles(store.dir, 'links');
  assert.is(links.length, 1);
  const record = store.readLink(links[0]!.replace('.json', ''))!;
  assert.is(record.buildId, readelfBuildId(join(dir, 'prog')));
  assert.is(record.objects.length, COUNT);
  assert.equal(record.objects.map((o) => store.readManifest(o.hash)!.source), Array.from({ length: COUNT }, (_, i) => `f${i}.c`));
  const everything = ['objects', 'manifests', 'links'].flatMap((sub) => readdirSync(join(store.dir, sub)));
  assert.equal(everything.filter((f) => f.startsWith('.') || f.endsWith('.tmp')), []);
  assert.equal(storeFiles(store.dir, 'pending'), []);
});
make.run();
