// Fetches a Debian source package and unpacks its upstream tree, from nothing and idempotently:
//   1. every file the .dsc lists is already in the cache folder: nothing to fetch (works offline);
//   2. else apt must know the package's source index: when `apt-cache showsrc` finds nothing, a
//      deb-src entry of our own is written (once) and `apt-get update` run; dpkg-dev is installed
//      when dpkg-source is missing; then `apt-get source --download-only NAME=VERSION` fills the cache;
//   3. `dpkg-source -x --skip-patches`: the upstream tree plus debian/, no Debian patch applied.
// Changing apt's configuration needs root; without it a missing piece is a one-line failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RealWorldError } from './real-world-error.mjs';

const debSrcEntry = '/etc/apt/sources.list.d/katana-deb-src.sources';

/** Where downloaded source packages are kept between runs. */
export function cacheDir() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'katana', 'real-world');
}

/** Runs a command to completion; a missing command or a non-zero exit is a RealWorldError. */
export function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw new RealWorldError(`cannot run ${command}: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) {
    const last = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    throw new RealWorldError(`'${command} ${args.join(' ')}' failed (exit ${r.status ?? r.signal}): ${last}`);
  }
  return r;
}

function requireRoot(why) {
  if (process.getuid?.() !== 0) throw new RealWorldError(`${why}, and only root can change that: run as root or do it first`);
}

function hasSourceIndex(name) {
  const r = spawnSync('apt-cache', ['showsrc', name], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(`Package: ${name}\n`);
}

function osCodename() {
  const match = /^VERSION_CODENAME=(\S+)$/m.exec(readFileSync('/etc/os-release', 'utf8'));
  if (!match) throw new RealWorldError('/etc/os-release names no VERSION_CODENAME: is this Debian?');
  return match[1];
}

function ensureSourceIndex(name, log) {
  if (hasSourceIndex(name)) return;
  requireRoot(`apt knows no source package '${name}' (no deb-src entry)`);
  if (!existsSync(debSrcEntry)) {
    const entry = `Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: ${osCodename()}\nComponents: main\n` +
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';
    writeFileSync(debSrcEntry, entry);
    log(`added the deb-src entry ${debSrcEntry}`);
  }
  log('apt-get update');
  run('apt-get', ['update', '-qq']);
  if (!hasSourceIndex(name)) throw new RealWorldError(`apt still knows no source package '${name}' after adding ${debSrcEntry}`);
}

/** Makes sure dpkg-source (package dpkg-dev) is installed. */
export function ensureDpkgSource(log) {
  if (spawnSync('dpkg-source', ['--version'], { stdio: 'ignore' }).status === 0) return;
  requireRoot('dpkg-source is missing (package dpkg-dev)');
  log('apt-get install dpkg-dev');
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'dpkg-dev'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

// The files a .dsc lists in its "Files:" field (" md5 size name" lines), which must sit beside it.
function dscFiles(dsc) {
  const field = /^Files:\n((?: .+\n?)+)/m.exec(readFileSync(dsc, 'utf8'));
  return field ? field[1].trim().split('\n').map((line) => line.trim().split(/\s+/)[2]) : [];
}

function isComplete(dir, dsc) {
  return existsSync(dsc) && dscFiles(dsc).every((file) => existsSync(join(dir, file)));
}

/** Brings source package NAME at VERSION (no epoch) into the cache; returns its .dsc path. */
export function fetchSourcePackage({ name, version }, log) {
  const dir = cacheDir();
  const dsc = join(dir, `${name}_${version}.dsc`);
  if (isComplete(dir, dsc)) {
    log(`${name} ${version} is in ${dir}`);
    return dsc;
  }
  ensureSourceIndex(name, log);
  mkdirSync(dir, { recursive: true });
  log(`apt-get source ${name}=${version} into ${dir}`);
  run('apt-get', ['source', '--download-only', '-qq', `${name}=${version}`], { cwd: dir });
  if (!isComplete(dir, dsc)) throw new RealWorldError(`apt-get source ${name}=${version} left no complete ${dsc}`);
  return dsc;
}

/** Unpacks the source package of `dsc` into `dest` without applying any Debian patch. */
export function extractUpstream(dsc, dest, log) {
  ensureDpkgSource(log);
  run('dpkg-source', ['-x', '--skip-patches', dsc, dest]);
}
