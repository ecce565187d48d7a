// A running shell driven through its stdin: each `run(script)` writes the script and an `echo` of a
// unique end mark, and resolves with the stdout lines the script printed once the mark arrives.
// The shell sits blocked in read() between scripts, which is where `katana apply` finds it.
import { spawn } from 'node:child_process';
import { RealWorldError } from './real-world-error.mjs';

export class ShellSession {
  #child;
  #lines = [];
  #partial = '';
  #stderr = '';
  #exit;
  #marks = 0;

  /** Starts `path` (a POSIX shell) reading commands from a pipe. */
  constructor(path) {
    this.#child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (chunk) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop();
      this.#lines.push(...parts);
    });
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk) => {
      this.#stderr += chunk;
    });
    this.#child.on('exit', (code, signal) => {
      this.#exit = { code, signal };
    });
  }

  get pid() {
    return this.#child.pid;
  }

  /** True while the shell has not exited. */
  get alive() {
    return this.#exit === undefined;
  }

  /** Runs `script` in the shell; resolves with the lines it printed on stdout. */
  async run(script, ms = 10_000) {
    const mark = `@@katana-end-${++this.#marks}`;
    const from = this.#lines.length;
    this.#child.stdin.write(`${script}\necho ${mark}\n`);
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.#lines.indexOf(mark, from);
      if (end >= 0) return this.#lines.slice(from, end);
      const state = !this.alive ? `exited (${JSON.stringify(this.#exit)})` : Date.now() > deadline ? `did not finish within ${ms} ms` : undefined;
      if (state) throw new RealWorldError(`shell ${this.pid} ${state} running '${script}'; stdout ${JSON.stringify(this.#lines.slice(from))}, stderr ${JSON.stringify(this.#stderr.slice(-300))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  kill() {
    if (this.alive) this.#child.kill('SIGKILL');
  }
}
