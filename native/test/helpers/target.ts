// Test support for every package that traces processes (exported as @katana/ptrace/testing):
// compiles a C fixture with gcc into a fresh temp folder and runs it as a grandchild (through sh),
// so that Node's own SIGCHLD handling (libuv waitpid on its children) never consumes the ptrace
// stops a test waits for. Collects the target's stdout lines; its stdin is a pipe the test writes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compiles the C file `source` into `dir` with gcc -g -O0 and `extraFlags`; returns the executable. */
export function compileC(source: string, dir: string, extraFlags: string[] = []): string {
  const exe = join(dir, basename(source, '.c'));
  execFileSync('gcc', ['-g', '-O0', '-o', exe, source, ...extraFlags], { stdio: ['ignore', 'ignore', 'inherit'] });
  return exe;
}

/** Compiles native/test/fixtures/<name>.c (this package's own fixtures) into `dir`. */
export function compileFixture(name: string, dir: string): string {
  return compileC(fileURLToPath(new URL(`../../../test/fixtures/${name}.c`, import.meta.url)), dir);
}

/** A fresh temp folder katana-<pkg>-*, removed by the returned function unless KATANA_KEEP_TMP=1. */
export function tempDir(pkg = 'ptrace'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `katana-${pkg}-`));
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
    // An asynchronous list gets /dev/null as stdin unless redirected explicitly: pass ours via fd 3.
    const script = 'exec 3<&0; "$0" "$@" <&3 3<&- & exec 3<&-; echo "pid $!"; wait';
    const shell = spawn('/bin/sh', ['-c', script, exe, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    const target = new Target(shell);
    const first = await target.waitFor((line) => line.startsWith('pid '));
    target.lines.splice(target.lines.indexOf(first), 1);
    target.pid = Number(first.slice(4));
    return target;
  }

  /** Writes `text` to the target's stdin. */
  write(text: string): void {
    this.#shell.stdin!.write(text);
  }

  /** Resolves with the first line at index `from` or later (printed or future) that passes `test`. */
  waitFor(test: (line: string) => boolean, from = 0): Promise<string> {
    const seen = this.lines.slice(from).find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#ended) return Promise.reject(new Error(`target has exited; output:\n${this.lines.join('\n')}`));
    return new Promise((resolve, reject) => this.#waiters.push({ test, resolve, reject }));
  }

  /** Closes the target's stdin (it reads end-of-file). */
  endInput(): void {
    this.#shell.stdin!.end();
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
