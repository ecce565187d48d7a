// A minimal .eh_frame walker for the tests: the pc range of every FDE, for CIEs with augmentation
// "zR" and FDE pointers encoded DW_EH_PE_pcrel|DW_EH_PE_sdata4 (0x1b), which is what gcc emits for
// C on x86-64 and what a Patch Object copies. Anything else fails the test loudly, never silently.

const DW_EH_PE_pcrel_sdata4 = 0x1b;

/** The [start, end) ranges of the FDEs of an .eh_frame that lives at run-time address `address`. */
export function fdeRanges(bytes: Uint8Array, address: bigint): { start: bigint; end: bigint }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const ranges: { start: bigint; end: bigint }[] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const length = view.getUint32(at, true);
    if (length === 0) break; // the terminator
    if (view.getUint32(at + 4, true) === 0) {
      const encoding = cieEncoding(bytes, at);
      if (encoding !== DW_EH_PE_pcrel_sdata4) throw new Error(`CIE at 0x${at.toString(16)} encodes FDE pointers as 0x${encoding.toString(16)}, not 0x1b`);
    } else {
      // pc_begin: sdata4 relative to its own address; pc_range: sdata4.
      const start = address + BigInt(at + 8) + BigInt(view.getInt32(at + 8, true));
      ranges.push({ start, end: start + BigInt(view.getInt32(at + 12, true)) });
    }
    at += 4 + length;
  }
  return ranges;
}

/** The 'R' augmentation byte of the CIE at `at` (version 1, augmentation "zR"). */
function cieEncoding(bytes: Uint8Array, at: number): number {
  if (bytes[at + 8] !== 1) throw new Error(`CIE at 0x${at.toString(16)} has version ${bytes[at + 8]}, not 1`);
  const end = bytes.indexOf(0, at + 9);
  const augmentation = new TextDecoder().decode(bytes.subarray(at + 9, end));
  if (augmentation !== 'zR') throw new Error(`CIE at 0x${at.toString(16)} has augmentation "${augmentation}", not "zR"`);
  let p = end + 1;
  // Code alignment, data alignment, return-address register, augmentation length: LEB128 each (the
  // version-1 RA register is one byte, which reads the same for registers below 128).
  for (let field = 0; field < 4; field++) while (bytes[p++]! & 0x80);
  return bytes[p]!;
}
