// The project root: the folder that anchors the object store (.katana/) and the
// -ffile-prefix-map that makes objects independent of where the checkout lives.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The project root for a folder: the nearest ancestor holding .git, else the folder itself. */
export function findProjectRoot(cwd: string): string {
  const start = resolve(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    // .git is a folder in a clone and a file in a worktree or submodule: both mark a root.
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}
