// A running target program: its stdout split into lines as they arrive, with waits for a line
// that matches a pattern. Every test kills its targets in a finally block.
import { spawn, type ChildProcess } from 'node:child_process';

export class RunningTarget {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private partial = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(path: string, args: string[] = []) {
    this.child = spawn(path, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** True while the process has not exited. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Waits until a line after index `from` matches; returns its index. Throws after `ms`. */
  async waitForLine(pattern: RegExp, from = 0, ms = 10_000): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) if (pattern.test(this.lines[i]!)) return i;
      if (!this.alive) throw new Error(`target ${this.pid} exited (${JSON.stringify(this.exit)}) before printing ${pattern}; last lines: ${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`target ${this.pid} printed no line matching ${pattern} within ${ms} ms; last lines: ${this.tail()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  tail(n = 5): string {
    return JSON.stringify(this.lines.slice(-n));
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}
