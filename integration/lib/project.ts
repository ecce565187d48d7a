// A throwaway C project for one test: a temp folder with a .git marker (so katana-cc finds the
// project root there) and its own object store. Builds go through the real katana-cc.
import { execa } from 'execa';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from './paths.js';

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

  /** Compiles and links the sources with katana-cc into `output`; fails with the compiler's stderr. */
  async build(sources: string[], output: string, cflags: string[], ldflags: string[]): Promise<string> {
    const objects: string[] = [];
    for (const source of sources) {
      const object = source.replace(/\.c$/, '.o');
      await execa(bin('katana-cc'), [...cflags, '-c', source, '-o', object], { cwd: this.dir, env: this.env });
      objects.push(object);
    }
    await execa(bin('katana-cc'), [...ldflags, '-o', output, ...objects], { cwd: this.dir, env: this.env });
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
