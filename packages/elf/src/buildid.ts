// readBuildId: the GNU build-id of a file on disk without reading the whole file. It reads, at their
// offsets, only the ELF header, the header tables and the bytes of the note sections (or PT_NOTE
// segments when the file has no section headers), so a 2 MB libc costs a few kilobytes of I/O.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PT_NOTE, SHT_NOTE } from './constants.js';
import { ElfIoError } from './errors.js';
import { readHeaders, type ByteSource } from './headers.js';
import { buildIdOf, parseNotes } from './notes.js';

/** Lowercase hex of the GNU build-id of the file at `path`; throws ElfIoError or ElfFormatError. */
export function readBuildId(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new ElfIoError(`cannot open ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const src = fdSource(fd, path);
    const { shdrs, phdrs } = readHeaders(src, path);
    const areas = shdrs.length > 1
      ? shdrs.filter((s) => s.sh_type === SHT_NOTE).map((s) => ({ offset: s.sh_offset, size: s.sh_size, align: s.sh_addralign }))
      : phdrs.filter((p) => p.p_type === PT_NOTE).map((p) => ({ offset: p.p_offset, size: p.p_filesz, align: p.p_align }));
    for (const a of areas) {
      const id = buildIdOf(parseNotes(src.read(a.offset, a.size), a.offset, a.align, { path, section: 'notes' }));
      if (id !== undefined) return id;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A ByteSource reading from an open file descriptor with positioned reads. */
function fdSource(fd: number, path: string): ByteSource {
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        let n: number;
        try {
          n = readSync(fd, out, done, length - done, offset + done);
        } catch (cause) {
          throw new ElfIoError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
        }
        if (n === 0) throw new ElfIoError(`${path} ended while reading ${length} bytes at offset 0x${offset.toString(16)}`);
        done += n;
      }
      return out;
    },
  };
}
