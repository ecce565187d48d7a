// sha256 of a file's bytes: the name of an object in the store.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Lowercase hex sha256 of the bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Lowercase hex sha256 of a file's contents. */
export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}
