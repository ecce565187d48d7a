// katana-cc under autotools: `autoreconf -i && ./configure CC=katana-cc CXX=katana-c++ && make -j4`
// on a project with a libtool shared library (C++), an automake static library and a program.
// configure's probe programs, libtool's compiles (-fPIC -DPIC into .libs/) and links (the program
// is .libs/prog behind libtool's wrapper script) must all work; the link records list every
// object with its source.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { binPath, linkOf, makeProject, removeProject, requireTools, run } from './helpers.js';
import { OUTPUT, SOURCES } from './projects.js';

requireTools('autoreconf', 'automake', 'libtoolize', 'make', 'cc', 'c++', 'git', 'readelf');

const CONFIGURE_AC = `AC_INIT([demo], [1.0])
AM_INIT_AUTOMAKE([foreign subdir-objects])
AC_PROG_CC
AC_PROG_CXX
AM_PROG_AR
LT_INIT([disable-static])
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
`;
const MAKEFILE_AM = `lib_LTLIBRARIES = libgreet.la
libgreet_la_SOURCES = greet.cpp
noinst_LIBRARIES = libutil.a
libutil_a_SOURCES = util.c
bin_PROGRAMS = prog
prog_SOURCES = main.c
prog_LDADD = libgreet.la libutil.a
`;

const autotools = suite('katana-cc under autotools');
autotools.before.each((ctx) => { ctx['dir'] = makeProject({ ...SOURCES, 'configure.ac': CONFIGURE_AC, 'Makefile.am': MAKEFILE_AM }); });
autotools.after.each((ctx) => { removeProject(ctx['dir'] as string); });

autotools('autoreconf -i, ./configure CC=katana-cc CXX=katana-c++, make -j4', (ctx) => {
  const dir = ctx['dir'] as string;
  run('autoreconf', ['-i'], dir);
  run('./configure', ['-q', `CC=${binPath('katana-cc')}`, `CXX=${binPath('katana-c++')}`], dir);
  run('make', ['-j4'], dir);
  assert.is(run(join(dir, 'prog'), [], dir), OUTPUT);
  const store = ObjectStore.locate({ cwd: dir, env: {} });
  const prog = linkOf(store, join(dir, '.libs', 'prog'));
  assert.equal(prog.record.objects.map((o) => o.path), [join(dir, 'main.o'), join(dir, 'libutil.a(util.o)')]);
  assert.equal(prog.sources, ['main.c', 'util.c']);
  assert.equal(prog.record.untracked, [join(dir, '.libs', 'libgreet.so')]);
  const greet = linkOf(store, join(dir, '.libs', 'libgreet.so.0.0.0'));
  assert.is(greet.record.kind, 'shared');
  assert.equal(greet.record.objects.map((o) => o.path), [join(dir, '.libs', 'greet.o')]);
  assert.equal(greet.sources, ['greet.cpp']);
});
autotools.run();
