// The file table of a .debug_line program header (DWARF 5 §6.2.4; DWARF 2-4 layout before it),
// which DW_AT_decl_file indexes. Only the header is read, not the line-number program. A file in
// the compilation directory (directory index 0) keeps its bare name ("main.c") so names stay equal
// across checkouts; others are joined with their directory ("/usr/include/stdio.h").
import { Cursor } from '../cursor.js';
import * as F from '../constants.js';
import type { DebugSections } from '../sections.js';

/** File names by DWARF file number (DWARF 5 numbers from 0; earlier versions from 1, slot 0 empty). */
export type FileTable = (string | undefined)[];

/** Reads the file table of the line program header at `offset`; throws DwarfFormatError if malformed. */
export function readFileTable(sections: DebugSections, offset: number): FileTable {
  const line = sections.line;
  if (!line) return [];
  const c = new Cursor(line.name, line.bytes, offset);
  if (offset >= line.bytes.length) c.fail(`DW_AT_stmt_list offset 0x${offset.toString(16)} beyond the section`);
  const length = c.u32();
  if (length >= 0xfffffff0) c.fail('64-bit DWARF format is not supported', offset);
  c.end = Math.min(c.end, c.offset + length);
  const version = c.u16();
  if (!c.error && (version < 2 || version > 5)) c.fail(`unsupported line table version ${version}`, offset + 4);
  if (version >= 5) c.skip(2); // address_size, segment_selector_size
  c.skip(4 + 1); // header_length, minimum_instruction_length
  if (version >= 4) c.skip(1); // maximum_operations_per_instruction
  c.skip(3); // default_is_stmt, line_base, line_range
  const opcodeBase = c.u8();
  c.skip(Math.max(0, opcodeBase - 1));
  c.check();
  return version >= 5 ? readV5(c, sections) : readV4(c);
}

function join(dir: string | undefined, path: string, dirIndex: number): string {
  if (path.startsWith('/') || dirIndex === 0 || dir === undefined || dir === '') return path;
  return dir.endsWith('/') ? dir + path : `${dir}/${path}`;
}

function readV4(c: Cursor): FileTable {
  const dirs: string[] = [''];
  for (;;) {
    const dir = c.cstring();
    if (c.error || dir === '') break;
    dirs.push(dir);
  }
  const files: FileTable = [undefined];
  for (;;) {
    const path = c.cstring();
    if (c.error || path === '') break;
    const dirIndex = c.ulebNumber();
    c.uleb(); // modification time
    c.uleb(); // length
    files.push(join(dirs[dirIndex], path, dirIndex));
  }
  c.check();
  return files;
}

type EntryFormat = { type: number; form: number }[];

function readFormats(c: Cursor): EntryFormat {
  const count = c.u8();
  const format: EntryFormat = [];
  for (let i = 0; i < count && !c.error; i++) format.push({ type: c.ulebNumber(), form: c.ulebNumber() });
  return format;
}

/** One directory or file entry: its path and directory index (other content types are skipped). */
function readEntry(c: Cursor, format: EntryFormat, sections: DebugSections): { path: string; dir: number } {
  let path = '';
  let dir = 0;
  for (const { type, form } of format) {
    const at = c.offset;
    let text: string | undefined;
    let number = 0;
    switch (form) {
      case F.DW_FORM_string: text = c.cstring(); break;
      case F.DW_FORM_line_strp: text = stringIn(c, sections.lineStr, c.u32()); break;
      case F.DW_FORM_strp: text = stringIn(c, sections.str, c.u32()); break;
      case F.DW_FORM_udata: number = c.ulebNumber(); break;
      case F.DW_FORM_data1: number = c.u8(); break;
      case F.DW_FORM_data2: number = c.u16(); break;
      case F.DW_FORM_data4: number = c.u32(); break;
      case F.DW_FORM_data8: c.skip(8); break;
      case F.DW_FORM_data16: c.skip(16); break;
      case F.DW_FORM_block: c.skip(c.ulebNumber()); break;
      default: c.fail(`unsupported form ${F.formName(form)} in a line table entry`, at);
    }
    if (type === F.DW_LNCT_path) path = text ?? '';
    else if (type === F.DW_LNCT_directory_index) dir = number;
  }
  return { path, dir };
}

function stringIn(c: Cursor, section: { name: string; bytes: Uint8Array } | undefined, offset: number): string {
  if (c.error) return '';
  if (!section || offset >= section.bytes.length) {
    c.fail(`line table string offset 0x${offset.toString(16)} beyond ${section?.name ?? 'a missing string section'}`);
    return '';
  }
  const s = new Cursor(section.name, section.bytes, offset);
  const text = s.cstring();
  if (s.error) c.fail(s.error.message);
  return text;
}

function readV5(c: Cursor, sections: DebugSections): FileTable {
  const dirFormat = readFormats(c);
  const dirCount = c.ulebNumber();
  const dirs: string[] = [];
  for (let i = 0; i < dirCount && !c.error; i++) dirs.push(readEntry(c, dirFormat, sections).path);
  const fileFormat = readFormats(c);
  const fileCount = c.ulebNumber();
  const files: FileTable = [];
  for (let i = 0; i < fileCount && !c.error; i++) {
    const { path, dir } = readEntry(c, fileFormat, sections);
    files.push(join(dirs[dir], path, dir));
  }
  c.check();
  return files;
}
