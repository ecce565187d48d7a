// Test helper: compiles a C fixture with gcc into a fresh temp folder and runs it as a grandchild
// (through sh), so that Node's own SIGCHLD handling (libuv waitpid on its children) never consumes
// the ptrace stops the tests wait for. Collects the target's stdout lines.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** native/ (the package root), from dist/test/helpers/target.js. */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Compiles native/test/fixtures/<name>.c into `dir` with gcc; returns the executable path. */
export function compileFixture(name: string, dir: string, extraFlags: string[] = []): string {
  const exe = join(dir, name);
  const source = join(packageRoot, 'test', 'fixtures', `${name}.c`);
  execFileSync('gcc', ['-g', '-O0', '-o', exe, source, ...extraFlags], { stdio: ['ignore', 'ignore', 'inherit'] });
  return exe;
}

/** A fresh temp folder, removed by the returned function unless KATANA_KEEP_TMP=1. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'katana-ptrace-'));
  return { dir, remove: () => (process.env['KATANA_KEEP_TMP'] === '1' ? undefined : rmSync(dir, { recursive: true, force: true })) };
}

/** A running target program and the lines it printed so far. */
export class Target {
  readonly lines: string[] = [];
  #shell: ChildProcess;
  #pending = '';
  #waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  #ended = false;
  pid = 0;

  private constructor(shell: ChildProcess) {
    this.#shell = shell;
    shell.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.#take(chunk));
    shell.on('exit', () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w.reject(new Error(`target exited before printing the awaited line; output:\n${this.lines.join('\n')}`));
    });
  }

  /** Starts `exe` as a grandchild and resolves once its pid is known. */
  static async start(exe: string, args: string[] = []): Promise<Target> {
    const shell = spawn('/bin/sh', ['-c', '"$0" "$@" & echo "pid $!"; wait', exe, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const target = new Target(shell);
    const first = await target.waitFor((line) => line.startsWith('pid '));
    target.lines.splice(target.lines.indexOf(first), 1);
    target.pid = Number(first.slice(4));
    return target;
  }

  /** Resolves with the first line (already printed or future) that passes `test`. */
  waitFor(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#ended) return Promise.reject(new Error(`target has exited; output:\n${this.lines.join('\n')}`));
    return new Promise((resolve, reject) => this.#waiters.push({ test, resolve, reject }));
  }

  /** Kills the target with SIGKILL and waits for the shell to finish. */
  async kill(): Promise<void> {
    if (this.#ended) return;
    const done = new Promise((resolve) => this.#shell.once('exit', resolve));
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await done;
  }

  #take(chunk: string): void {
    const parts = (this.#pending + chunk).split('\n');
    this.#pending = parts.pop()!;
    for (const line of parts) {
      this.lines.push(line);
      for (const w of [...this.#waiters]) {
        if (w.test(line)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  }
}

/** The tick number of a "tick N" line. */
export function tickOf(line: string): number {
  return Number(/^tick (\d+)$/.exec(line)?.[1] ?? NaN);
}
