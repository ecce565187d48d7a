// Pending manifests: the sh front end (bin/front-end.sh) records a plain compile without Node.js by
// storing the object and writing pending/<sha256>, a text file of one field per line:
//   katana-pending 1 / hash / language / cwd / output (absolute) / source (as the manifest holds
//   it) / compiler / then each argument katana-cc received, one per line
// (the front end leaves calls whose arguments hold a newline to Node.js). The store folds such a
// file into manifests/<sha256>.json before anyone reads that manifest (store.ts).
import { StoreError } from './errors.js';
import type { ObjectManifest } from './records.js';

const HEADER = 'katana-pending 1';
const LANGUAGES: readonly string[] = ['c', 'c++', 'asm'];

/** The manifest a pending file holds; `path` names the file in errors. */
export function parsePendingManifest(text: string, path: string): ObjectManifest {
  const lines = text.split('\n');
  // A complete file ends with a newline: the last element is the empty string after it.
  if (lines.pop() !== '' || lines[0] !== HEADER || lines.length < 8) {
    throw new StoreError(`${path} in the object store is not a pending manifest`);
  }
  const [, hash, language, cwd, output, source, compiler, ...args] = lines as [string, string, string, string, string, string, string, ...string[]];
  if (!LANGUAGES.includes(language)) throw new StoreError(`${path} in the object store names an unknown language ${JSON.stringify(language)}`);
  return { hash, source, output, cwd, args, compiler, language: language as ObjectManifest['language'] };
}
