// The one error class of @katana/dwarf. Every malformed or unsupported input surfaces as a
// DwarfFormatError naming the section and offset, like Go's "decoding .debug_info at offset 0x1a4:
// unknown DW_FORM 0x3f"; any other exception escaping the reader is a bug.
import { KatanaError } from '@katana/errors';

/** Malformed or unsupported DWARF, located by section name and byte offset within it. */
export class DwarfFormatError extends KatanaError {
  /** Section name ('.debug_info', ...). */
  readonly section: string;
  /** Byte offset within the section. */
  readonly offset: number;

  constructor(section: string, offset: number, reason: string, options?: { cause?: unknown }) {
    super('E_DWARF_FORMAT', `decoding ${section} at offset 0x${offset.toString(16)}: ${reason}`, options);
    this.section = section;
    this.offset = offset;
  }
}
