// ELF note records (ELF gABI "Note Section"): namesz, descsz, type, then name and desc, each padded
// to 4 bytes. Used for `.note.katana`; decoding goes through @katana/elf's notes().

/** Encodes one note record with a NUL-terminated owner name. */
export function encodeNote(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const pad = (n: number) => (n + 3) & ~3;
  const out = new Uint8Array(12 + pad(nameBytes.length) + pad(desc.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, nameBytes.length, true);
  view.setUint32(4, desc.length, true);
  view.setUint32(8, type, true);
  out.set(nameBytes, 12);
  out.set(desc, 12 + pad(nameBytes.length));
  return out;
}
