// The processes running a given executable file, for `katana apply --exe`. A process runs the file
// when /proc/PID/exe is that very inode (device + inode number, never path strings: hard links,
// symlinks and bind mounts all name one file). A process whose executable was replaced on disk
// (`cp`/`install`/rename of a new build over PATH) still runs the old, now unlinked inode: its
// /proc/PID/exe reads "PATH (deleted)" and it is listed apart, since it no longer runs the file.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { KatanaError } from '@katana/errors';

/** PATH cannot be read (missing, not a file). */
export class ExecutableError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INPUT', message, options);
  }
}

/** Running processes of an executable file. */
export interface ExecutableProcesses {
  /** Processes whose executable is the file now at PATH, ascending. */
  running: number[];
  /** Processes still running an earlier file at PATH that was since replaced or removed. */
  replaced: number[];
}

/** Finds the processes running the file at `path` (processes katana may not inspect are not seen). */
export function processesRunning(path: string): ExecutableProcesses {
  const file = resolve(path);
  let wanted: { dev: number; ino: number };
  try {
    const s = statSync(file);
    if (!s.isFile()) throw new Error('not a regular file');
    wanted = { dev: s.dev, ino: s.ino };
  } catch (cause) {
    throw new ExecutableError(`--exe ${path} is not an executable file: ${(cause as Error).message}`, { cause });
  }
  const running: number[] = [];
  const replaced: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    const exe = `/proc/${name}/exe`;
    try {
      const s = statSync(exe);
      if (s.dev === wanted.dev && s.ino === wanted.ino) running.push(Number(name));
      else if (readlinkSync(exe) === `${file} (deleted)`) replaced.push(Number(name));
    } catch {
      // Gone meanwhile, a kernel thread (no exe), or another user's process we may not inspect.
    }
  }
  const ascending = (a: number, b: number) => a - b;
  return { running: running.sort(ascending), replaced: replaced.sort(ascending) };
}
