// The program of the real-world proof: dash, the Debian Almquist shell (autotools, ~40 C files),
// from Debian 12's source package, and its Debian patch 0018 (Debian bug #819829): upstream's
// `hash` builtin returns as soon as it sees -r, so `hash -rv` (or -r followed by anything) is
// accepted and clears the command hash table; the patch finishes option parsing first, so
// `hash -rv` fails with "Illegal option -v" and leaves the table alone. It changes one function,
// hashcmd in src/exec.c, and a running shell reading commands on stdin shows the difference.
// The Debian patches before 0018 are not applied: 0012 and 0013 change configure.ac and
// Makefile.am, which would need autoreconf, and 0018 applies to the upstream tree alone.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { extractUpstream, run } from './debian-source.mjs';

/** The source package, the Debian patch that becomes the PO, and what the build makes. */
export const dash = {
  name: 'dash',
  version: '0.5.12-2',
  patch: '0018-builtin-Don-t-early-exit-when-first-hash-r-is-found.patch',
  executable: 'src/dash',
  baseTag: 'v-debian-base',
};

/**
 * Configures a fresh source tree. A git checkout gives every file its checkout time, in no useful
 * order, so automake's rebuild rules would see configure or Makefile.in older than their inputs
 * and rerun aclocal/automake/autoconf (which a clean machine does not have): the touch puts the
 * generated files back after their inputs first.
 */
export const configureCommand = 'touch aclocal.m4 && touch configure config.h.in Makefile.in src/Makefile.in && ./configure --quiet';

/** Builds a configured tree. */
export const makeCommand = (jobs) => `make -j${jobs} --silent`;

/** The whole build, run in a source tree: configure once, then make. */
export function buildCommand(jobs) {
  return `test -f config.status || { ${configureCommand}; } && ${makeCommand(jobs)}`;
}

const git = (dir, ...args) => run('git', ['-c', 'user.name=katana', '-c', 'user.email=katana@example.invalid', ...args], { cwd: dir });

/**
 * Makes `dir` a git repository holding dash's upstream tree at tag `dash.baseTag` and, one commit
 * later, the Debian patch applied with `patch -p1`. Returns the patch's subject line.
 */
export function prepareRepository(dsc, dir, log) {
  extractUpstream(dsc, dir, log);
  const patch = readFileSync(join(dir, 'debian', 'patches', dash.patch), 'utf8');
  // The upstream tree only: debian/ is the packaging, not the program.
  rmSync(join(dir, 'debian'), { recursive: true, force: true });
  git(dir, 'init', '--quiet');
  appendFileSync(join(dir, '.git', 'info', 'exclude'), '.katana/\n');
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', `dash ${dash.version}: upstream tree, Debian patches unapplied`);
  git(dir, 'tag', dash.baseTag);
  run('patch', ['-p1', '--quiet'], { cwd: dir, input: patch });
  const subject = /^Subject: (.+)$/m.exec(patch)?.[1] ?? dash.patch;
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', `Debian patch ${dash.patch}`, '-m', subject);
  log(`${dir}: ${dash.baseTag} = upstream dash, HEAD = Debian's "${subject}"`);
  return subject;
}
