// Test helper: builds a fixture version (test/fixtures/<case>/v1 or v2) the way katana-cc would,
// with gcc and the flags katana-cc adds, each version in its own folder of a fresh temp root, and
// records every object, manifest and the link into an ObjectStore in that root.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KATANA_INCLUDE_DIR, ObjectStore } from '@katana/cc';
import { ElfFile } from '@katana/elf';

const FIXTURES = join(fileURLToPath(new URL('../../', import.meta.url)), 'test', 'fixtures');

/** A temp root with an object store; `dispose` removes it unless KATANA_KEEP_TMP=1. */
export interface Workspace {
  root: string;
  store: ObjectStore;
  dispose(): void;
}

/** Creates a fresh workspace. */
export function workspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'katana-emitter-'));
  const store = new ObjectStore(join(root, '.katana'), root);
  return { root, store, dispose: () => (process.env.KATANA_KEEP_TMP === '1' ? undefined : rmSync(root, { recursive: true, force: true })) };
}

/** How to build a fixture version. */
export interface BuildFlags {
  opt?: string;
  /** 'static': -static; 'static-pie': -fPIE and -static-pie. */
  link?: 'static' | 'static-pie';
}

/** Compiles and links `<case>/<version>` in `ws`, records it, and returns the executable's path and folder. */
export function build(ws: Workspace, fixture: string, version: 'v1' | 'v2', flags: BuildFlags = {}): { exe: string; dir: string } {
  const dir = join(ws.root, `${fixture}-${version}`);
  mkdirSync(dir, { recursive: true });
  const sources = readdirSync(join(FIXTURES, fixture, version)).filter((f) => f.endsWith('.c')).sort();
  const objects: { path: string; hash: string }[] = [];
  for (const source of sources) {
    copyFileSync(join(FIXTURES, fixture, version, source), join(dir, source));
    const output = join(dir, source.replace(/\.c$/, '.o'));
    const args = [flags.opt ?? '-O0', ...(flags.link === 'static-pie' ? ['-fPIE'] : []), '-g', '-ffunction-sections', '-fdata-sections', '-idirafter', KATANA_INCLUDE_DIR, `-ffile-prefix-map=${dir}=.`, '-c', source, '-o', output];
    gcc(args, dir);
    const hash = ws.store.putObject(output);
    ws.store.writeManifest({ hash, source, output, cwd: dir, args, compiler: 'gcc', language: 'c' });
    objects.push({ path: output, hash });
  }
  const exe = join(dir, 'prog');
  const args = ['-Wl,--build-id', ...(flags.link ? [`-${flags.link}`] : []), ...objects.map((o) => o.path), '-o', exe];
  gcc(args, dir);
  const buildId = ElfFile.open(exe).buildId();
  if (!buildId) throw new Error(`gcc produced ${exe} without a build-id`);
  ws.store.writeLink({ buildId, output: exe, kind: 'executable', cwd: dir, args, objects, untracked: [] });
  return { exe, dir };
}

function gcc(args: string[], cwd: string): void {
  try {
    execFileSync('gcc', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (cause) {
    throw new Error(`gcc ${args.join(' ')} failed (is gcc 12 installed?): ${String((cause as { stderr?: Buffer }).stderr ?? cause)}`, { cause });
  }
}

/** The .symtab symbol `name` of `exe` (the first when several files define one). */
export function symbolOf(exe: string, name: string): { value: bigint; size: number } {
  const found = ElfFile.open(exe).symbols().find((s) => s.name === name);
  if (!found) throw new Error(`${exe} has no symbol ${name}`);
  return found;
}
