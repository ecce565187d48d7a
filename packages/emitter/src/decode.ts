// Instruction boundaries of a function, found with iced-x86. A PC-relative relocation's addend is
// relative to the end of the instruction holding it, not to the relocation site: in
// `cmpb $0x0, .LC0(%rip)` (80 3d <disp32> 00) the displacement is followed by a 1-byte immediate, so
// the referenced offset is addend + 5, not addend + 4. Decoding finds that end.
import { createRequire } from 'node:module';

// Loaded with require, not import: an ESM import of this 0.9 MB CommonJS file first runs Node's
// cjs-module-lexer over it to find its exports, which cost ~350 ms of every `katana diff` here.
const { Decoder, DecoderOptions, Instruction } = createRequire(import.meta.url)('iced-x86') as typeof import('iced-x86');

/** The instructions of one function: where each starts and ends. */
export class InstructionMap {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Decodes `code` (a whole function) as 64-bit x86. */
  constructor(code: Uint8Array) {
    const decoder = new Decoder(64, code, DecoderOptions.None);
    const instruction = new Instruction();
    try {
      while (decoder.canDecode) {
        const start = decoder.position;
        decoder.decodeOut(instruction);
        this.starts.push(start);
        this.ends.push(start + instruction.length);
      }
    } finally {
      instruction.free();
      decoder.free();
    }
  }

  /** End offset of the instruction containing `offset`, or undefined past the last instruction. */
  endOf(offset: number): number | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && offset < this.ends[hi]! ? this.ends[hi] : undefined;
  }
}
