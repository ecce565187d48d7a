// The errors of @katana/elf. ElfFormatError: a file is not an ELF64 x86-64 file or is malformed; its
// message reads like Go's debug/elf, "decoding .symtab at offset 0x1a4: symbol name offset 0x9999
// beyond .strtab", prefixed by the file's path when known. ElfWriteError: RelocatableWriter was
// asked for something it cannot write (unknown section index, foreign symbol, bad alignment).
import { KatanaError } from '@katana/errors';

/** Where in a file a format error was found. */
export interface ElfErrorSite {
  /** The file's path, when the bytes came from a file. */
  path?: string | undefined;
  /** The section (or structure, such as "ELF header") being decoded. */
  section?: string | undefined;
  /** File offset of the bad record or field. */
  offset?: number | undefined;
}

/** A malformed, truncated or unsupported ELF file. */
export class ElfFormatError extends KatanaError {
  override readonly code = 'E_ELF_FORMAT';
  readonly path: string | undefined;
  readonly section: string | undefined;
  readonly offset: number | undefined;

  constructor(detail: string, site: ElfErrorSite = {}, options?: { cause?: unknown }) {
    super('E_ELF_FORMAT', formatMessage(detail, site), options);
    this.path = site.path;
    this.section = site.section;
    this.offset = site.offset;
  }
}

/** A request RelocatableWriter cannot honour; the message names the section or symbol. */
export class ElfWriteError extends KatanaError {
  override readonly code = 'E_ELF_WRITE';

  constructor(message: string, options?: { cause?: unknown }) {
    super('E_ELF_WRITE', message, options);
  }
}

function formatMessage(detail: string, site: ElfErrorSite): string {
  let where = '';
  if (site.section !== undefined) where = `decoding ${site.section}`;
  if (site.offset !== undefined) where += `${where ? ' ' : 'decoding '}at offset 0x${site.offset.toString(16)}`;
  const prefix = site.path !== undefined ? `${site.path}: ` : '';
  return `${prefix}${where ? `${where}: ` : ''}${detail}`;
}

/** A file that could not be read at all (missing, unreadable); `cause` holds the system error. */
export class ElfIoError extends KatanaError {
  override readonly code = 'E_ELF_IO';

  constructor(message: string, options?: { cause?: unknown }) {
    super('E_ELF_IO', message, options);
  }
}
