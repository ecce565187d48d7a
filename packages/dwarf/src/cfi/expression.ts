// A DWARF expression evaluator (DWARF 5 §2.5) for the expressions CFI uses: DW_CFA_def_cfa_expression,
// DW_CFA_expression and DW_CFA_val_expression. A stack machine of 64-bit unsigned values with
// literals, register-relative values (bregN, bregx), memory reads (deref, deref_size), arithmetic,
// logic, comparisons and branches. For example the .plt FDE of ld's output computes its CFA as
//   DW_OP_breg7 (rsp): 8; DW_OP_breg16 (rip): 0; DW_OP_lit15; DW_OP_and; DW_OP_lit11; DW_OP_ge;
//   DW_OP_lit3; DW_OP_shl; DW_OP_plus
// i.e. rsp + 8 + ((rip & 15) >= 11 ? 8 : 0). Registers and memory come from the caller, which
// answers undefined when it cannot read them; the result is then undefined too.
import { Cursor } from '../cursor.js';
import { DW_OP_const4u, DW_OP_const8u, DW_OP_plus_uconst, DW_OP_addr } from '../constants.js';
import { DwarfFormatError } from '../errors.js';
import {
  DW_OP_abs, DW_OP_and, DW_OP_bra, DW_OP_breg0, DW_OP_breg31, DW_OP_bregx, DW_OP_const1s, DW_OP_const1u,
  DW_OP_const2s, DW_OP_const2u, DW_OP_const4s, DW_OP_const8s, DW_OP_consts, DW_OP_constu, DW_OP_deref,
  DW_OP_deref_size, DW_OP_div, DW_OP_drop, DW_OP_dup, DW_OP_eq, DW_OP_ge, DW_OP_gt, DW_OP_le, DW_OP_lit0,
  DW_OP_lit31, DW_OP_lt, DW_OP_minus, DW_OP_mod, DW_OP_mul, DW_OP_ne, DW_OP_neg, DW_OP_nop, DW_OP_not,
  DW_OP_or, DW_OP_over, DW_OP_pick, DW_OP_plus, DW_OP_rot, DW_OP_shl, DW_OP_shr, DW_OP_shra, DW_OP_skip,
  DW_OP_swap, DW_OP_xor,
} from './constants.js';

/** Where an expression's registers and memory come from. */
export interface ExpressionContext {
  /** The value of DWARF register `n` in the frame being unwound, or undefined when unknown. */
  register(n: number): bigint | undefined;
  /** `size` bytes (1, 2, 4 or 8) of memory at `address` as an unsigned value, or undefined when unreadable. */
  memory(address: bigint, size: number): bigint | undefined;
}

/** Most operations one evaluation may execute (a backward DW_OP_skip could loop forever). */
const STEP_LIMIT = 10_000;

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/**
 * Evaluates `expression` with `initial` pushed first (the CFA, for DW_CFA_expression and
 * DW_CFA_val_expression) and returns the top of the stack; undefined when a register or memory
 * read was unavailable. Malformed or unsupported expressions throw DwarfFormatError.
 */
export function evaluateExpression(expression: Uint8Array, context: ExpressionContext, initial: bigint[] = []): bigint | undefined {
  const stack = initial.map(u64);
  const c = new Cursor('DWARF expression', expression);
  const pop = (): bigint => {
    const v = stack.pop();
    if (v === undefined) throw new DwarfFormatError('DWARF expression', c.offset, 'stack underflow');
    return v;
  };
  const push = (v: bigint): void => {
    stack.push(u64(v));
  };
  for (let steps = 0; c.more; steps++) {
    if (steps > STEP_LIMIT) throw new DwarfFormatError('DWARF expression', c.offset, `more than ${STEP_LIMIT} operations (a loop?)`);
    const at = c.offset;
    const op = c.u8();
    if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
      push(BigInt(op - DW_OP_lit0));
      continue;
    }
    if (op >= DW_OP_breg0 && op <= DW_OP_breg31) {
      const offset = c.sleb();
      const value = context.register(op - DW_OP_breg0);
      if (value === undefined) return undefined;
      push(value + offset);
      continue;
    }
    switch (op) {
      case DW_OP_addr: push(c.u64()); break;
      case DW_OP_const1u: push(BigInt(c.u8())); break;
      case DW_OP_const1s: push(BigInt.asIntN(8, BigInt(c.u8()))); break;
      case DW_OP_const2u: push(BigInt(c.u16())); break;
      case DW_OP_const2s: push(BigInt.asIntN(16, BigInt(c.u16()))); break;
      case DW_OP_const4u: push(BigInt(c.u32())); break;
      case DW_OP_const4s: push(BigInt.asIntN(32, BigInt(c.u32()))); break;
      case DW_OP_const8u: case DW_OP_const8s: push(c.u64()); break;
      case DW_OP_constu: push(c.uleb()); break;
      case DW_OP_consts: push(c.sleb()); break;
      case DW_OP_bregx: {
        const register = c.ulebNumber();
        const offset = c.sleb();
        const value = context.register(register);
        if (value === undefined) return undefined;
        push(value + offset);
        break;
      }
      case DW_OP_deref: case DW_OP_deref_size: {
        const size = op === DW_OP_deref ? 8 : c.u8();
        if (![1, 2, 4, 8].includes(size)) throw new DwarfFormatError('DWARF expression', at, `DW_OP_deref_size of ${size} bytes`);
        const value = context.memory(pop(), size);
        if (value === undefined) return undefined;
        push(value);
        break;
      }
      case DW_OP_dup: { const v = pop(); push(v); push(v); break; }
      case DW_OP_drop: pop(); break;
      case DW_OP_over: { const a = pop(); const b = pop(); push(b); push(a); push(b); break; }
      case DW_OP_pick: {
        const index = c.u8();
        const v = stack[stack.length - 1 - index];
        if (v === undefined) throw new DwarfFormatError('DWARF expression', at, `DW_OP_pick ${index} beyond the stack`);
        push(v);
        break;
      }
      case DW_OP_swap: { const a = pop(); const b = pop(); push(a); push(b); break; }
      case DW_OP_rot: { const a = pop(); const b = pop(); const d = pop(); push(a); push(d); push(b); break; }
      case DW_OP_abs: { const v = s64(pop()); push(v < 0n ? -v : v); break; }
      case DW_OP_neg: push(-s64(pop())); break;
      case DW_OP_not: push(~pop()); break;
      case DW_OP_plus_uconst: push(pop() + c.uleb()); break;
      case DW_OP_and: case DW_OP_or: case DW_OP_xor: case DW_OP_plus: case DW_OP_minus: case DW_OP_mul:
      case DW_OP_div: case DW_OP_mod: case DW_OP_shl: case DW_OP_shr: case DW_OP_shra:
      case DW_OP_eq: case DW_OP_ne: case DW_OP_lt: case DW_OP_le: case DW_OP_gt: case DW_OP_ge: {
        const b = pop();
        const a = pop();
        push(binary(op, a, b, at));
        break;
      }
      case DW_OP_skip: {
        const delta = BigInt.asIntN(16, BigInt(c.u16()));
        c.offset += Number(delta);
        break;
      }
      case DW_OP_bra: {
        const delta = BigInt.asIntN(16, BigInt(c.u16()));
        if (pop() !== 0n) c.offset += Number(delta);
        break;
      }
      case DW_OP_nop: break;
      default:
        throw new DwarfFormatError('DWARF expression', at, `operation 0x${op.toString(16)} is not supported in call frame information`);
    }
    if (c.offset < 0 || c.offset > expression.length) throw new DwarfFormatError('DWARF expression', at, 'branch outside the expression');
  }
  c.check();
  const top = stack.pop();
  if (top === undefined) throw new DwarfFormatError('DWARF expression', 0, 'the expression left an empty stack');
  return top;
}

// Binary operations; comparisons and division are signed (DWARF 5 §2.5.1.4 for generic-type values).
function binary(op: number, a: bigint, b: bigint, at: number): bigint {
  switch (op) {
    case DW_OP_and: return a & b;
    case DW_OP_or: return a | b;
    case DW_OP_xor: return a ^ b;
    case DW_OP_plus: return a + b;
    case DW_OP_minus: return a - b;
    case DW_OP_mul: return a * b;
    case DW_OP_div:
    case DW_OP_mod:
      if (b === 0n) throw new DwarfFormatError('DWARF expression', at, 'division by zero');
      return op === DW_OP_div ? s64(a) / s64(b) : a % b;
    case DW_OP_shl: return b >= 64n ? 0n : a << b;
    case DW_OP_shr: return b >= 64n ? 0n : a >> b;
    case DW_OP_shra: return s64(a) >> (b >= 64n ? 63n : b);
    case DW_OP_eq: return a === b ? 1n : 0n;
    case DW_OP_ne: return a !== b ? 1n : 0n;
    case DW_OP_lt: return s64(a) < s64(b) ? 1n : 0n;
    case DW_OP_le: return s64(a) <= s64(b) ? 1n : 0n;
    case DW_OP_gt: return s64(a) > s64(b) ? 1n : 0n;
    default: return s64(a) >= s64(b) ? 1n : 0n; // DW_OP_ge
  }
}
