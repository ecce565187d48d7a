// Test helper: compiles test/fixtures/sample.c with gcc into a fresh temp folder, once per test file,
// in every form the reader must handle (relocatable object, non-PIE, PIE, static, shared, stripped),
// with the compile lines written in the fixture's header comment. The folder is removed at exit
// unless KATANA_KEEP_TMP=1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (dist/test/x.js → package root). */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixtureSource = join(packageRoot, 'test', 'fixtures', 'sample.c');

/** Paths of the compiled forms of sample.c. */
export interface Fixtures {
  dir: string;
  object: string;
  nopie: string;
  pie: string;
  static: string;
  shared: string;
  stripped: string;
}

/** Runs a tool and returns its stdout; a missing tool fails with a message naming it. */
export function run(tool: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(tool, args, { cwd, encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`${tool} is required by this test but is not installed`);
    throw new Error(`${tool} ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

/** A fresh temp folder, removed at process exit unless KATANA_KEEP_TMP=1. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'katana-elf-'));
  if (process.env['KATANA_KEEP_TMP'] !== '1') process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Compiles sample.c into every form, in a fresh temp folder. */
export function buildFixtures(): Fixtures {
  const dir = tempDir();
  const f: Fixtures = {
    dir,
    object: join(dir, 'sample.o'),
    nopie: join(dir, 'sample-nopie'),
    pie: join(dir, 'sample-pie'),
    static: join(dir, 'sample-static'),
    shared: join(dir, 'libsample.so'),
    stripped: join(dir, 'sample-stripped'),
  };
  run('gcc', ['-g', '-O2', '-ffunction-sections', '-fdata-sections', '-c', fixtureSource, '-o', f.object]);
  run('gcc', ['-g', '-O2', '-no-pie', '-Wl,--build-id', fixtureSource, '-o', f.nopie]);
  run('gcc', ['-g', '-O2', '-pie', '-fPIE', '-Wl,--build-id', fixtureSource, '-o', f.pie]);
  run('gcc', ['-g', '-O2', '-static', '-Wl,--build-id', fixtureSource, '-o', f.static]);
  run('gcc', ['-g', '-O2', '-shared', '-fPIC', '-Wl,--build-id', fixtureSource, '-o', f.shared]);
  run('strip', [f.pie, '-o', f.stripped]);
  return f;
}
