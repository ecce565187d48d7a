// Reads the members of a static archive (`ar` format, as GNU ar and llvm-ar write it), so that a
// link record can list the store objects an executable got from a library. The format: the magic
// "!<arch>\n", then per member a 60-byte text header (name[16] date[12] uid[6] gid[6] mode[8]
// size[10] "`\n") and its data, padded to an even offset. Special members: "/" and "/SYM64/" (the
// symbol index), "//" (the table of names longer than 15 bytes, referenced as "/<offset>"); BSD
// archives put a long name in front of the data ("#1/<length>") and call their symbol index
// "__.SYMDEF". A thin archive ("!<thin>\n") holds no member data: each member is a file named
// relative to the archive's folder.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ArchiveError } from './errors.js';

/** One object file inside an archive. */
export interface ArchiveMember {
  /** the member's name as ar stores it (a base name, or a path in a thin archive) */
  name: string;
  data: Uint8Array;
}

const MAGIC = '!<arch>\n';
const THIN_MAGIC = '!<thin>\n';
const HEADER_SIZE = 60;

/** True when the bytes start with the magic of a regular or thin archive. */
export function isArchive(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  return head === MAGIC || head === THIN_MAGIC;
}

/** The members of the archive at `path`, in archive order (symbol index and name table left out). */
export function readArchive(path: string): ArchiveMember[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ArchiveError(`cannot read archive ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!isArchive(bytes)) throw new ArchiveError(`${path} is not an ar archive`);
  const thin = bytes.toString('latin1', 0, 8) === THIN_MAGIC;
  const members: ArchiveMember[] = [];
  let longNames = '';
  for (let at = 8; at + HEADER_SIZE <= bytes.length; ) {
    const field = (start: number, length: number): string => bytes.toString('latin1', at + start, at + start + length).trimEnd();
    if (bytes.toString('latin1', at + 58, at + 60) !== '`\n') throw new ArchiveError(`archive ${path}: bad member header at offset ${at}`);
    const size = Number(field(48, 10));
    if (!Number.isInteger(size) || size < 0) throw new ArchiveError(`archive ${path}: bad member size at offset ${at}`);
    let name = field(0, 16);
    let dataStart = at + HEADER_SIZE;
    let dataSize = size;
    if (name === '//') longNames = bytes.toString('latin1', dataStart, dataStart + size);
    if (name.startsWith('#1/')) {
      // BSD: the name is the first <length> bytes of the data.
      const length = Number(name.slice(3));
      name = bytes.toString('latin1', dataStart, dataStart + length).replace(/\0+$/, '');
      dataStart += length;
      dataSize -= length;
    } else if (/^\/\d+$/.test(name)) {
      const offset = Number(name.slice(1));
      const end = longNames.indexOf('\n', offset);
      name = longNames.slice(offset, end < 0 ? undefined : end).replace(/\/$/, '');
    } else if (name !== '/' && name !== '//' && name !== '/SYM64/') {
      name = name.replace(/\/$/, '');
    }
    const special = name === '/' || name === '//' || name === '/SYM64/' || name.startsWith('__.SYMDEF');
    // In a thin archive only the symbol index and the name table have their data inline.
    const inline = !thin || special;
    if (!special) {
      const data = inline ? bytes.subarray(dataStart, dataStart + dataSize) : readThinMember(path, name);
      if (inline && dataStart + dataSize > bytes.length) throw new ArchiveError(`archive ${path}: member ${name} runs past the end`);
      members.push({ name, data });
    }
    at += HEADER_SIZE + (inline ? size : 0);
    at += at % 2;
  }
  return members;
}

function readThinMember(archive: string, name: string): Uint8Array {
  const path = resolve(dirname(archive), name);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ArchiveError(`cannot read ${path}, member of the thin archive ${archive}: ${(error as Error).message}`, { cause: error });
  }
}
