// ELF notes (gABI "Note Section"): records of namesz, descsz, type, then the name and the descriptor,
// each padded to the note alignment: 4 bytes, or 8 in a section/segment aligned to 8 (GNU property
// notes in ELF64, as readelf does). Also the GNU build-id lookup.
import { Cursor } from './cursor.js';
import { NT_GNU_BUILD_ID } from './constants.js';
import type { ElfErrorSite } from './errors.js';
import type { ElfNote } from './model.js';

/** Decodes every note in `bytes` (file offset `base`); throws ElfFormatError on a truncated note. */
export function parseNotes(bytes: Uint8Array, base: number, align: number, site: ElfErrorSite): ElfNote[] {
  const pad = align === 8 ? 8 : 4;
  const notes: ElfNote[] = [];
  const c = new Cursor(bytes, 0, base, site);
  while (c.pos < bytes.length) {
    const start = c.pos;
    const namesz = c.u32('note namesz');
    const descsz = c.u32('note descsz');
    const type = c.u32('note type');
    c.check();
    const nameAt = c.pos;
    const descAt = roundUp(nameAt + namesz, pad);
    const descEnd = descAt + descsz;
    if (descAt > bytes.length || descEnd > bytes.length || nameAt + namesz > bytes.length) {
      c.fail(`note of ${namesz}+${descsz} bytes runs past the end`, start);
      c.check();
    }
    let nameEnd = nameAt + namesz;
    while (nameEnd > nameAt && bytes[nameEnd - 1] === 0) nameEnd--;
    const name = new TextDecoder().decode(bytes.subarray(nameAt, nameEnd));
    notes.push({ name, type, desc: bytes.subarray(descAt, descEnd) });
    c.pos = Math.min(roundUp(descEnd, pad), bytes.length);
  }
  return notes;
}

/** Lowercase hex of the first GNU NT_GNU_BUILD_ID note, if any. */
export function buildIdOf(notes: ElfNote[]): string | undefined {
  const note = notes.find((n) => n.name === 'GNU' && n.type === NT_GNU_BUILD_ID);
  return note === undefined ? undefined : Buffer.from(note.desc).toString('hex');
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
