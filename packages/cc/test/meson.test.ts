// katana-cc under meson: `CC=katana-cc CXX=katana-c++ meson setup build && ninja -C build` (meson
// passes -MD -MQ -MF on every compile and links through response files when it wants). The link
// records of the program and the shared library list every object with its source.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { binPath, buildEnv, linkOf, makeProject, removeProject, requireTools, run } from './helpers.js';
import { OUTPUT, SOURCES } from './projects.js';

requireTools('meson', 'ninja', 'cc', 'c++', 'git', 'readelf');

const MESON_BUILD = `project('demo', 'c', 'cpp')
util = static_library('util', 'util.c')
greet = shared_library('greet', 'greet.cpp')
executable('prog', 'main.c', link_with: [util, greet])
`;

const meson = suite('katana-cc under meson');
meson.before.each((ctx) => { ctx['dir'] = makeProject({ ...SOURCES, 'meson.build': MESON_BUILD }); });
meson.after.each((ctx) => { removeProject(ctx['dir'] as string); });

meson('CC=katana-cc CXX=katana-c++ meson setup, ninja', (ctx) => {
  const dir = ctx['dir'] as string;
  run('meson', ['setup', 'build'], dir, buildEnv({ CC: binPath('katana-cc'), CXX: binPath('katana-c++') }));
  run('ninja', ['-C', 'build'], dir);
  assert.is(run(join(dir, 'build', 'prog'), [], dir), OUTPUT);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const prog = linkOf(store, join(dir, 'build', 'prog'));
  assert.equal(prog.sources, ['main.c', 'util.c']);
  assert.ok(prog.record.objects[1]!.path.startsWith(join(dir, 'build', 'libutil.a(')), prog.record.objects[1]!.path);
  const greet = linkOf(store, join(dir, 'build', 'libgreet.so'));
  assert.is(greet.record.kind, 'shared');
  assert.equal(greet.sources, ['greet.cpp']);
});
meson.run();
