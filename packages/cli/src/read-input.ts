// Reading the files a user names on the command line, with errors that name the file.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { KatanaError } from '@katana/errors';

export class InputError extends KatanaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INPUT', message, options);
  }
}

const reason = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String((error as Error).message);
};

/** Reads a whole file, or throws InputError naming it. */
export function readInputFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${reason(error)}`, { cause: error });
  }
}

/** Writes a file through a temporary name so a reader never sees half of it. */
export function writeOutputFile(path: string, bytes: Uint8Array): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  } catch (error) {
    throw new InputError(`cannot write ${path}: ${reason(error)}`, { cause: error });
  }
}
