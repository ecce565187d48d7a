// A throwaway C or C++ project for one test: a temp folder with a .git marker (so katana-cc finds the
// project root there) and its own object store. Builds go through the real katana-cc.
import { execa } from 'execa';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from './paths.js';

/** The katana driver for a source file: katana-c++ for C++ extensions, katana-cc otherwise. */
function compilerFor(source: string): 'katana-cc' | 'katana-c++' {
  return /\.(cc|cpp|cxx|C)$/.test(source) ? 'katana-c++' : 'katana-cc';
}

export class TempProject {
  readonly dir: string;
  readonly store: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `katana-${prefix}-`));
    mkdirSync(join(this.dir, '.git'));
    this.store = join(this.dir, '.katana');
  }

  /** Environment for katana-cc and katana in this project. */
  get env(): Record<string, string> {
    return { KATANA_STORE: this.store };
  }

  write(relative: string, text: string): string {
    const path = join(this.dir, relative);
    writeFileSync(path, text);
    return path;
  }

  copyIn(source: string, relative: string): string {
    const path = join(this.dir, relative);
    copyFileSync(source, path);
    return path;
  }

  /**
   * Compiles the sources with katana-cc (C) or katana-c++ (C++) and links them into `output`, with
   * katana-c++ when any is C++; fails with the compiler's stderr.
   */
  async build(sources: string[], output: string, cflags: string[], ldflags: string[]): Promise<string> {
    const objects: string[] = [];
    for (const source of sources) {
      const object = source.replace(/\.[^.]+$/, '.o');
      await execa(bin(compilerFor(source)), [...cflags, '-c', source, '-o', object], { cwd: this.dir, env: this.env });
      objects.push(object);
    }
    const linker = sources.some((s) => compilerFor(s) === 'katana-c++') ? 'katana-c++' : 'katana-cc';
    await execa(bin(linker), [...ldflags, '-o', output, ...objects], { cwd: this.dir, env: this.env });
    return join(this.dir, output);
  }

  /** Applies a unified diff to the project's files with patch(1). */
  async patch(patchFile: string): Promise<void> {
    await execa('patch', ['-p1', '--quiet', '-i', patchFile], { cwd: this.dir });
  }

  remove(): void {
    if (process.env.KATANA_KEEP_TMP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}
