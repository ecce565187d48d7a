// Constants of call frame information: the DW_CFA_* instructions (DWARF 5 §7.24, Table 7.29, plus
// the GNU extensions gcc and glibc emit), the DW_EH_PE_* pointer encodings of .eh_frame (LSB 5.0
// §10.5 "DWARF Extensions"), the DWARF expression operations a CFI expression may use (DWARF 5
// §7.7.1, Table 7.9) and the x86-64 DWARF register numbers (System V x86-64 psABI §3.6.2).
import { lookup } from '../constants.js';

/** Primary opcodes: the high two bits of the instruction byte, the low six an operand. */
export const DW_CFA_advance_loc = 0x40;
export const DW_CFA_offset = 0x80;
export const DW_CFA_restore = 0xc0;

/** Extended opcodes (high two bits zero). */
export const DW_CFA = {
  DW_CFA_nop: 0x00,
  DW_CFA_set_loc: 0x01,
  DW_CFA_advance_loc1: 0x02,
  DW_CFA_advance_loc2: 0x03,
  DW_CFA_advance_loc4: 0x04,
  DW_CFA_offset_extended: 0x05,
  DW_CFA_restore_extended: 0x06,
  DW_CFA_undefined: 0x07,
  DW_CFA_same_value: 0x08,
  DW_CFA_register: 0x09,
  DW_CFA_remember_state: 0x0a,
  DW_CFA_restore_state: 0x0b,
  DW_CFA_def_cfa: 0x0c,
  DW_CFA_def_cfa_register: 0x0d,
  DW_CFA_def_cfa_offset: 0x0e,
  DW_CFA_def_cfa_expression: 0x0f,
  DW_CFA_expression: 0x10,
  DW_CFA_offset_extended_sf: 0x11,
  DW_CFA_def_cfa_sf: 0x12,
  DW_CFA_def_cfa_offset_sf: 0x13,
  DW_CFA_val_offset: 0x14,
  DW_CFA_val_offset_sf: 0x15,
  DW_CFA_val_expression: 0x16,
  DW_CFA_GNU_window_save: 0x2d,
  DW_CFA_GNU_args_size: 0x2e,
  DW_CFA_GNU_negative_offset_extended: 0x2f,
} as const;
export const {
  DW_CFA_nop, DW_CFA_set_loc, DW_CFA_advance_loc1, DW_CFA_advance_loc2, DW_CFA_advance_loc4,
  DW_CFA_offset_extended, DW_CFA_restore_extended, DW_CFA_undefined, DW_CFA_same_value, DW_CFA_register,
  DW_CFA_remember_state, DW_CFA_restore_state, DW_CFA_def_cfa, DW_CFA_def_cfa_register, DW_CFA_def_cfa_offset,
  DW_CFA_def_cfa_expression, DW_CFA_expression, DW_CFA_offset_extended_sf, DW_CFA_def_cfa_sf,
  DW_CFA_def_cfa_offset_sf, DW_CFA_val_offset, DW_CFA_val_offset_sf, DW_CFA_val_expression,
  DW_CFA_GNU_window_save, DW_CFA_GNU_args_size, DW_CFA_GNU_negative_offset_extended,
} = DW_CFA;
/** 'DW_CFA_def_cfa' or 'DW_CFA_? (0x..)' (extended opcodes only). */
export const cfaName = lookup(DW_CFA, 'DW_CFA');

/** Pointer encodings: the low nibble is the format, bits 4-6 the application, bit 7 indirection. */
export const DW_EH_PE_absptr = 0x00;
export const DW_EH_PE_uleb128 = 0x01;
export const DW_EH_PE_udata2 = 0x02;
export const DW_EH_PE_udata4 = 0x03;
export const DW_EH_PE_udata8 = 0x04;
export const DW_EH_PE_sleb128 = 0x09;
export const DW_EH_PE_sdata2 = 0x0a;
export const DW_EH_PE_sdata4 = 0x0b;
export const DW_EH_PE_sdata8 = 0x0c;
export const DW_EH_PE_pcrel = 0x10;
export const DW_EH_PE_textrel = 0x20;
export const DW_EH_PE_datarel = 0x30;
export const DW_EH_PE_funcrel = 0x40;
export const DW_EH_PE_aligned = 0x50;
export const DW_EH_PE_indirect = 0x80;
export const DW_EH_PE_omit = 0xff;

/** DWARF expression operations beyond those of ../constants.ts. */
export const DW_OP_deref = 0x06;
export const DW_OP_const1u = 0x08;
export const DW_OP_const1s = 0x09;
export const DW_OP_const2u = 0x0a;
export const DW_OP_const2s = 0x0b;
export const DW_OP_const4s = 0x0d;
export const DW_OP_const8s = 0x0f;
export const DW_OP_constu = 0x10;
export const DW_OP_consts = 0x11;
export const DW_OP_dup = 0x12;
export const DW_OP_drop = 0x13;
export const DW_OP_over = 0x14;
export const DW_OP_pick = 0x15;
export const DW_OP_swap = 0x16;
export const DW_OP_rot = 0x17;
export const DW_OP_abs = 0x19;
export const DW_OP_and = 0x1a;
export const DW_OP_div = 0x1b;
export const DW_OP_minus = 0x1c;
export const DW_OP_mod = 0x1d;
export const DW_OP_mul = 0x1e;
export const DW_OP_neg = 0x1f;
export const DW_OP_not = 0x20;
export const DW_OP_or = 0x21;
export const DW_OP_plus = 0x22;
export const DW_OP_shl = 0x24;
export const DW_OP_shr = 0x25;
export const DW_OP_shra = 0x26;
export const DW_OP_xor = 0x27;
export const DW_OP_bra = 0x28;
export const DW_OP_eq = 0x29;
export const DW_OP_ge = 0x2a;
export const DW_OP_gt = 0x2b;
export const DW_OP_le = 0x2c;
export const DW_OP_lt = 0x2d;
export const DW_OP_ne = 0x2e;
export const DW_OP_skip = 0x2f;
export const DW_OP_lit0 = 0x30;
export const DW_OP_lit31 = 0x4f;
export const DW_OP_reg0 = 0x50;
export const DW_OP_reg31 = 0x6f;
export const DW_OP_breg0 = 0x70;
export const DW_OP_breg31 = 0x8f;
export const DW_OP_regx = 0x90;
export const DW_OP_bregx = 0x92;
export const DW_OP_deref_size = 0x94;
export const DW_OP_nop = 0x96;

/** x86-64 DWARF register numbers (psABI Figure 3.36); 16 is the return address column. */
export const X86_64_REGISTER_NAMES = [
  'rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip',
] as const;
export const DW_X86_64_RBX = 3;
export const DW_X86_64_RBP = 6;
export const DW_X86_64_RSP = 7;
export const DW_X86_64_RA = 16;
