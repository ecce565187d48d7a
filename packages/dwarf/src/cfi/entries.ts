// Parses a call frame section into its CIEs and FDEs and indexes the FDEs by pc (after gimli's
// EhFrame/DebugFrame + an .eh_frame_hdr-like sorted table). Both layouts are read:
//   .eh_frame    (LSB 5.0 §10.5): CIE id 0, FDE CIE pointer relative to itself, augmentation "z"
//                with L (LSDA encoding), P (personality), R (FDE pointer encoding), S (signal frame);
//                pointers DW_EH_PE_* encoded; a zero length ends the section.
//   .debug_frame (DWARF 5 §6.4.1): CIE id 0xffffffff (64-bit: all ones), FDE CIE pointer a section
//                offset, CIE versions 1, 3 and 4 (4 adds address and segment sizes), addresses
//                absolute; 32- and 64-bit lengths.
// Instructions are kept as byte ranges and only run on demand (rows.ts), so parsing libc's 3000
// FDEs is a walk over record headers.
import { Cursor } from '../cursor.js';
import { DwarfFormatError } from '../errors.js';
import { DW_EH_PE_absptr, DW_EH_PE_omit } from './constants.js';
import { isKnownEncoding, readEncodedPointer, readEncodedValue, type EncodedPointer, type PointerBases } from './pointer.js';

/** Which layout a frame section uses. */
export type FrameSectionKind = '.eh_frame' | '.debug_frame';

/** A Common Information Entry: what the FDEs that point at it share. */
export interface CommonInformationEntry {
  /** Section offset of the CIE's length field. */
  offset: number;
  /** 32 or 64 (DWARF offset size). */
  format: 32 | 64;
  version: number;
  /** e.g. 'zR', 'zPLR', 'zRS', '' in .debug_frame. */
  augmentation: string;
  addressSize: number;
  codeAlignment: number;
  dataAlignment: number;
  returnAddressRegister: number;
  /** DW_EH_PE_* of FDE addresses (DW_EH_PE_absptr in .debug_frame). */
  fdeEncoding: number;
  /** DW_EH_PE_* of FDE LSDA pointers, DW_EH_PE_omit when there are none. */
  lsdaEncoding: number;
  personality: EncodedPointer | undefined;
  /** The 'S' augmentation: frames of this CIE's FDEs are signal trampolines. */
  signalFrame: boolean;
  /** Section offsets of the initial instructions [start, end). */
  instructionsStart: number;
  instructionsEnd: number;
}

/** A Frame Description Entry: the CFI program of one address range. */
export interface FrameDescriptionEntry {
  /** Section offset of the FDE's length field. */
  offset: number;
  cie: CommonInformationEntry;
  /** First address covered (in the address space the section was read at). */
  start: bigint;
  /** One past the last address covered. */
  end: bigint;
  lsda: EncodedPointer | undefined;
  instructionsStart: number;
  instructionsEnd: number;
}

/** One parsed call frame section with its FDEs sorted by start address. */
export class FrameSection {
  /** Every FDE with a non-empty range, sorted by `start`. */
  readonly fdes: FrameDescriptionEntry[];
  readonly cies: CommonInformationEntry[];

  private constructor(
    readonly kind: FrameSectionKind,
    readonly bytes: Uint8Array,
    readonly bases: PointerBases,
    fdes: FrameDescriptionEntry[],
    cies: CommonInformationEntry[],
  ) {
    this.fdes = fdes;
    this.cies = cies;
  }

  /**
   * Parses `bytes` as `kind`. `bases.section` is the address of the section's first byte: the
   * link-time sh_addr, or the run-time address where a copy sits in a process. Throws
   * DwarfFormatError on malformed or unsupported records.
   */
  static parse(kind: FrameSectionKind, bytes: Uint8Array, bases: PointerBases): FrameSection {
    const cies = new Map<number, CommonInformationEntry>();
    const fdes: FrameDescriptionEntry[] = [];
    const c = new Cursor(kind, bytes);
    while (c.more) {
      const record = c.offset;
      let length = c.u32();
      let format: 32 | 64 = 32;
      if (length === 0xffffffff) {
        format = 64;
        length = safeLength(c, c.u64());
      }
      if (length === 0) {
        if (kind === '.eh_frame') break; // the terminator
        continue;
      }
      const end = c.offset + length;
      if (end > bytes.length) c.fail(`record length 0x${length.toString(16)} runs past the section end`, record);
      c.check();
      const idAt = c.offset;
      const id = format === 64 ? c.u64() : BigInt(c.u32());
      const isCie = kind === '.eh_frame' ? id === 0n : id === (format === 64 ? 0xffffffffffffffffn : 0xffffffffn);
      const body = new Cursor(kind, bytes, c.offset, end);
      if (isCie) {
        if (!cies.has(record)) cies.set(record, parseCie(body, kind, record, format, bases));
      } else {
        const cieOffset = kind === '.eh_frame' ? idAt - Number(id) : safeLength(c, id);
        let cie = cies.get(cieOffset);
        if (cie === undefined) {
          cie = parseCieAt(kind, bytes, cieOffset, bases, record);
          cies.set(cieOffset, cie);
        }
        const fde = parseFde(body, kind, record, cie, bases);
        if (fde.end > fde.start) fdes.push(fde);
      }
      body.check();
      c.offset = end;
    }
    c.check();
    fdes.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return new FrameSection(kind, bytes, bases, fdes, [...cies.values()]);
  }

  /** The FDE covering `pc`, or undefined (binary search over the sorted FDEs). */
  findFde(pc: bigint): FrameDescriptionEntry | undefined {
    let low = 0;
    let high = this.fdes.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.fdes[mid]!.start <= pc) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    // Ranges do not overlap in linked output, except for a zero-based FDE the linker left for a
    // discarded section (.debug_frame); look back past such a short range to a covering one.
    for (let i = found; i >= 0 && i >= found - 2; i--) {
      const fde = this.fdes[i]!;
      if (pc >= fde.start && pc < fde.end) return fde;
    }
    return undefined;
  }
}

function safeLength(c: Cursor, value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    c.fail(`length or offset 0x${value.toString(16)} too large`);
    return 0;
  }
  return Number(value);
}

// A CIE an FDE points at before it (or after it) in the section.
function parseCieAt(kind: FrameSectionKind, bytes: Uint8Array, offset: number, bases: PointerBases, from: number): CommonInformationEntry {
  const c = new Cursor(kind, bytes, offset);
  if (offset < 0 || offset >= bytes.length) throw new DwarfFormatError(kind, from, `FDE points at CIE offset 0x${offset.toString(16)} outside the section`);
  let length = c.u32();
  let format: 32 | 64 = 32;
  if (length === 0xffffffff) {
    format = 64;
    length = safeLength(c, c.u64());
  }
  const end = c.offset + length;
  const id = format === 64 ? c.u64() : BigInt(c.u32());
  c.check();
  const isCie = kind === '.eh_frame' ? id === 0n : id === (format === 64 ? 0xffffffffffffffffn : 0xffffffffn);
  if (!isCie) throw new DwarfFormatError(kind, from, `FDE points at offset 0x${offset.toString(16)}, which is not a CIE`);
  const body = new Cursor(kind, bytes, c.offset, end);
  const cie = parseCie(body, kind, offset, format, bases);
  body.check();
  return cie;
}

function parseCie(c: Cursor, kind: FrameSectionKind, offset: number, format: 32 | 64, bases: PointerBases): CommonInformationEntry {
  const version = c.u8();
  const supported = kind === '.eh_frame' ? [1, 3] : [1, 3, 4];
  if (!supported.includes(version)) c.fail(`unsupported CIE version ${version}`, offset);
  const augmentation = c.cstring();
  let addressSize = 8;
  if (version === 4) {
    addressSize = c.u8();
    const segmentSize = c.u8();
    if (segmentSize !== 0) c.fail(`segment selectors (size ${segmentSize}) are not supported`, offset);
  }
  if (augmentation.startsWith('eh')) c.skip(addressSize); // pre-"z" gcc: the address of the exception table
  const codeAlignment = c.ulebNumber();
  const dataAlignment = Number(c.sleb());
  const returnAddressRegister = version === 1 ? c.u8() : c.ulebNumber();
  const cie: CommonInformationEntry = {
    offset, format, version, augmentation, addressSize, codeAlignment, dataAlignment, returnAddressRegister,
    fdeEncoding: DW_EH_PE_absptr, lsdaEncoding: DW_EH_PE_omit, personality: undefined, signalFrame: false,
    instructionsStart: 0, instructionsEnd: c.end,
  };
  if (augmentation.startsWith('z')) {
    const dataLength = c.ulebNumber();
    const dataEnd = c.offset + dataLength;
    for (const letter of augmentation.slice(1)) {
      switch (letter) {
        case 'L': cie.lsdaEncoding = checkedEncoding(c, c.u8()); break;
        case 'R': cie.fdeEncoding = checkedEncoding(c, c.u8()); break;
        case 'S': cie.signalFrame = true; break;
        case 'P': {
          const encoding = checkedEncoding(c, c.u8());
          cie.personality = readEncodedPointer(c, encoding, bases);
          break;
        }
        default:
          // Unknown letters are allowed: the augmentation length lets us skip their data.
          c.offset = dataEnd;
      }
    }
    c.offset = dataEnd;
  } else if (augmentation !== '' && !augmentation.startsWith('eh')) {
    c.fail(`unknown CIE augmentation "${augmentation}" without 'z': its instructions cannot be found`, offset);
  }
  cie.instructionsStart = c.offset;
  return cie;
}

function checkedEncoding(c: Cursor, encoding: number): number {
  if (!isKnownEncoding(encoding)) c.fail(`unknown pointer encoding DW_EH_PE 0x${encoding.toString(16)}`);
  return encoding;
}

function parseFde(c: Cursor, kind: FrameSectionKind, offset: number, cie: CommonInformationEntry, bases: PointerBases): FrameDescriptionEntry {
  let start: bigint;
  let range: bigint;
  if (kind === '.eh_frame') {
    start = readEncodedPointer(c, cie.fdeEncoding, bases).value;
    range = readEncodedValue(c, cie.fdeEncoding & 0x0f);
  } else {
    start = c.uint(cie.addressSize);
    range = c.uint(cie.addressSize);
  }
  let lsda: EncodedPointer | undefined;
  if (cie.augmentation.startsWith('z')) {
    const dataLength = c.ulebNumber();
    const dataEnd = c.offset + dataLength;
    if (cie.lsdaEncoding !== DW_EH_PE_omit && dataLength > 0) lsda = readEncodedPointer(c, cie.lsdaEncoding, { ...bases, func: start });
    c.offset = dataEnd;
  }
  if (c.offset > c.end) c.fail('FDE augmentation data runs past the record', offset);
  return { offset, cie, start, end: BigInt.asUintN(64, start + range), lsda, instructionsStart: c.offset, instructionsEnd: c.end };
}
