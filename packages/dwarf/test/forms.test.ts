// Every DW_FORM on a hand-made DWARF 5 unit (DWARF 5 §7.5.6, Table 7.6): the abbreviation layer,
// the two-pass read of the unit DIE (its own strx name needs its DW_AT_str_offsets_base), indexed
// strings and addresses, DW_FORM_indirect, and the header errors (64-bit DWARF, bad codes).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as D from '@katana/dwarf';
import type { AttributeValue, DebugSections } from '@katana/dwarf';
import { Bytes } from './bytes.js';

const section = (name: string, bytes: Uint8Array): D.DebugSection => ({ name, bytes, relocations: new Map() });

/** Attribute names of the variable DIE are DW_AT_lo_user + i (DWARF 5 §7.5.4). */
const AT = (i: number): number => 0x2000 + i;

/** [form, write the value, expected decoded value] for every form the variable DIE carries. */
const FORMS: [number, (b: Bytes) => void, AttributeValue][] = [
  [D.DW_FORM_addr, (b) => b.u64(0x1122334455667788n), { class: 'address', value: 0x1122334455667788n, target: undefined }],
  [D.DW_FORM_data1, (b) => b.u8(0xfe), { class: 'constant', value: 0xfen }],
  [D.DW_FORM_data2, (b) => b.u16(0xbeef), { class: 'constant', value: 0xbeefn }],
  [D.DW_FORM_data4, (b) => b.u32(0xdeadbeef), { class: 'constant', value: 0xdeadbeefn }],
  [D.DW_FORM_data8, (b) => b.u64(0xffffffffffffffffn), { class: 'constant', value: 0xffffffffffffffffn }],
  [D.DW_FORM_sdata, (b) => b.sleb(-5), { class: 'constant', value: -5n }],
  [D.DW_FORM_udata, (b) => b.uleb(300), { class: 'constant', value: 300n }],
  [D.DW_FORM_implicit_const, () => undefined, { class: 'constant', value: -7n }],
  [D.DW_FORM_data16, (b) => b.u8(...Array.from({ length: 16 }, (_, i) => i)), { class: 'block', value: Uint8Array.from({ length: 16 }, (_, i) => i) }],
  [D.DW_FORM_block1, (b) => b.u8(2, 9, 8), { class: 'block', value: Uint8Array.from([9, 8]) }],
  [D.DW_FORM_block2, (b) => b.u16(1).u8(7), { class: 'block', value: Uint8Array.from([7]) }],
  [D.DW_FORM_block4, (b) => b.u32(0), { class: 'block', value: new Uint8Array(0) }],
  [D.DW_FORM_block, (b) => b.uleb(3).u8(1, 2, 3), { class: 'block', value: Uint8Array.from([1, 2, 3]) }],
  [D.DW_FORM_exprloc, (b) => b.uleb(2).u8(D.DW_OP_plus_uconst, 8), { class: 'exprloc', value: Uint8Array.from([D.DW_OP_plus_uconst, 8]) }],
  [D.DW_FORM_flag, (b) => b.u8(1), { class: 'flag', value: true }],
  [D.DW_FORM_flag_present, () => undefined, { class: 'flag', value: true }],
  [D.DW_FORM_ref1, (b) => b.u8(0x0c), { class: 'reference', value: D.infoOffset(0x0c) }],
  [D.DW_FORM_ref2, (b) => b.u16(0x0c), { class: 'reference', value: D.infoOffset(0x0c) }],
  [D.DW_FORM_ref4, (b) => b.u32(0x0c), { class: 'reference', value: D.infoOffset(0x0c) }],
  [D.DW_FORM_ref8, (b) => b.u64(0x0cn), { class: 'reference', value: D.infoOffset(0x0c) }],
  [D.DW_FORM_ref_udata, (b) => b.uleb(0x0c), { class: 'reference', value: D.infoOffset(0x0c) }],
  [D.DW_FORM_ref_addr, (b) => b.u32(0x0c), { class: 'reference', value: D.infoOffset(0x0c) }],
  [D.DW_FORM_ref_sig8, (b) => b.u64(0x0123456789abcdefn), { class: 'signature', value: 0x0123456789abcdefn }],
  [D.DW_FORM_ref_sup4, (b) => b.u32(0x40), { class: 'supplementary', value: 0x40n }],
  [D.DW_FORM_ref_sup8, (b) => b.u64(0x80n), { class: 'supplementary', value: 0x80n }],
  [D.DW_FORM_strp_sup, (b) => b.u32(0x10), { class: 'supplementary', value: 0x10n }],
  [D.DW_FORM_sec_offset, (b) => b.u32(0x1234), { class: 'sec_offset', value: 0x1234 }],
  [D.DW_FORM_rnglistx, (b) => b.uleb(3), { class: 'rnglistx', value: 3 }],
  [D.DW_FORM_loclistx, (b) => b.uleb(4), { class: 'loclistx', value: 4 }],
  [D.DW_FORM_string, (b) => b.cstr('inline'), { class: 'string', value: 'inline' }],
  [D.DW_FORM_strp, (b) => b.u32(6), { class: 'string', value: 'hello' }],
  [D.DW_FORM_line_strp, (b) => b.u32(0), { class: 'string', value: 'a.c' }],
  [D.DW_FORM_strx, (b) => b.uleb(1), { class: 'string', value: 'hello' }],
  [D.DW_FORM_strx1, (b) => b.u8(0), { class: 'string', value: 'name' }],
  [D.DW_FORM_strx2, (b) => b.u16(1), { class: 'string', value: 'hello' }],
  [D.DW_FORM_strx3, (b) => b.u8(0, 0, 0), { class: 'string', value: 'name' }],
  [D.DW_FORM_strx4, (b) => b.u32(1), { class: 'string', value: 'hello' }],
  [D.DW_FORM_addrx, (b) => b.uleb(0), { class: 'address', value: 0x1000n, target: undefined }],
  [D.DW_FORM_addrx1, (b) => b.u8(1), { class: 'address', value: 0x2000n, target: undefined }],
  [D.DW_FORM_addrx2, (b) => b.u16(0), { class: 'address', value: 0x1000n, target: undefined }],
  [D.DW_FORM_addrx3, (b) => b.u8(1, 0, 0), { class: 'address', value: 0x2000n, target: undefined }],
  [D.DW_FORM_addrx4, (b) => b.u32(0), { class: 'address', value: 0x1000n, target: undefined }],
  [D.DW_FORM_indirect, (b) => b.uleb(D.DW_FORM_data2).u16(77), { class: 'constant', value: 77n }],
];

/** A DWARF 5 compile unit holding a unit DIE and one DIE with every form, plus its side sections. */
function handMade(): DebugSections {
  const abbrev = new Bytes()
    .uleb(1).uleb(D.DW_TAG_compile_unit).u8(D.DW_CHILDREN_yes)
    .uleb(D.DW_AT_name).uleb(D.DW_FORM_strx1)
    .uleb(D.DW_AT_str_offsets_base).uleb(D.DW_FORM_sec_offset)
    .uleb(D.DW_AT_addr_base).uleb(D.DW_FORM_sec_offset)
    .uleb(0).uleb(0)
    .uleb(2).uleb(D.DW_TAG_variable).u8(D.DW_CHILDREN_no);
  FORMS.forEach(([form], i) => {
    abbrev.uleb(AT(i)).uleb(form);
    if (form === D.DW_FORM_implicit_const) abbrev.sleb(-7);
  });
  abbrev.uleb(0).uleb(0).uleb(0);

  const info = new Bytes().u32(0).u16(5).u8(D.DW_UT_compile).u8(8).u32(0);
  info.uleb(1).u8(0).u32(8).u32(8);
  info.uleb(2);
  for (const [, write] of FORMS) write(info);
  info.u8(0);
  info.patch32(0, info.offset - 4);

  const strOffsets = new Bytes().u32(12).u16(5).u16(0).u32(1).u32(6);
  const addr = new Bytes().u32(20).u16(5).u8(8).u8(0).u64(0x1000n).u64(0x2000n);
  return {
    path: undefined, relocatable: false,
    info: section('.debug_info', info.bytes()), abbrev: section('.debug_abbrev', abbrev.bytes()),
    str: section('.debug_str', new Bytes().u8(0).cstr('name').cstr('hello').bytes()),
    lineStr: section('.debug_line_str', new Bytes().cstr('a.c').bytes()),
    strOffsets: section('.debug_str_offsets', strOffsets.bytes()), addr: section('.debug_addr', addr.bytes()),
    rnglists: undefined, ranges: undefined, line: undefined,
  };
}

const forms = suite('readUnits forms');

forms('decodes every DW_FORM of a hand-made DWARF 5 unit', () => {
  const units = D.readUnits(handMade());
  assert.is(units.length, 1);
  const root = units[0]!.root;
  assert.is(D.attr(root, D.DW_AT_name)?.value.value, 'name', 'the unit DIE resolves its own strx name');
  assert.is(units[0]!.strOffsetsBase, 8);
  assert.is(units[0]!.addrBase, 8);
  const variable = root.children[0]!;
  assert.is(variable.tag, D.DW_TAG_variable);
  assert.is(variable.parent, root);
  FORMS.forEach(([form, , expected], i) => {
    const a = D.attr(variable, AT(i));
    assert.equal(a?.value, expected, D.formName(form));
    assert.is(a?.form, form === D.DW_FORM_indirect ? D.DW_FORM_data2 : form, D.formName(form));
  });
});

forms('rejects 64-bit DWARF, unknown forms, unknown codes and implicit_const through indirect', () => {
  const expectError = (mutate: (s: DebugSections) => void, pattern: RegExp): void => {
    const s = handMade();
    mutate(s);
    assert.throws(() => D.readUnits(s), (e: unknown) => e instanceof D.DwarfFormatError && pattern.test(e.message), String(pattern));
  };
  expectError((s) => s.info!.bytes.set([0xff, 0xff, 0xff, 0xff], 0), /64-bit DWARF format is not supported/);
  expectError((s) => s.info!.bytes.set([6], 4), /unsupported DWARF version 6/);
  expectError((s) => { s.info!.bytes[22] = 9; }, /abbreviation code 9 not in the table/);
  expectError((s) => { s.abbrev = section('.debug_abbrev', new Bytes().uleb(1).uleb(D.DW_TAG_compile_unit).u8(0).uleb(D.DW_AT_name).uleb(0x7f).uleb(0).uleb(0).uleb(0).bytes()); }, /unknown form DW_FORM_\? \(0x7f\)/);
  expectError((s) => {
    const i = s.info!.bytes.length - 4;
    s.info!.bytes.set([D.DW_FORM_implicit_const, 0, 0, 0], i);
  }, /DW_FORM_indirect names DW_FORM_implicit_const/);
});

forms.run();
