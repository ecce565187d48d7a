// Atomic file creation for the object store: write to a unique temporary name in the destination's
// own folder, then rename(2) over the final name. rename within one file system is atomic, so a
// parallel `make -j` reader sees either no file or the whole file, never a partial one; two writers
// of the same name both write complete files and the last rename wins.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `path` so that no reader ever sees a partially written file. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
