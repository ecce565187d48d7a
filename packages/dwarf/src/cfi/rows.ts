// The CFA instruction interpreter (DWARF 5 §6.4.2): runs a CIE's initial instructions, then an FDE's
// instructions, building the rows of the unwind table: for each address range, how to compute the
// CFA (a register plus an offset, or an expression) and how to recover each register (undefined,
// same value, saved at CFA+N, CFA+N itself, in another register, at or as an expression's value).
// A register with no rule in a row is absent from its map; the x86-64 unwinder treats an absent
// callee-saved register as "same value", as gdb and libgcc do.
import { Cursor } from '../cursor.js';
import {
  DW_CFA_advance_loc, DW_CFA_advance_loc1, DW_CFA_advance_loc2, DW_CFA_advance_loc4, DW_CFA_def_cfa,
  DW_CFA_def_cfa_expression, DW_CFA_def_cfa_offset, DW_CFA_def_cfa_offset_sf, DW_CFA_def_cfa_register,
  DW_CFA_def_cfa_sf, DW_CFA_expression, DW_CFA_GNU_args_size, DW_CFA_GNU_negative_offset_extended, DW_CFA_nop,
  DW_CFA_offset, DW_CFA_offset_extended, DW_CFA_offset_extended_sf, DW_CFA_register, DW_CFA_remember_state,
  DW_CFA_restore, DW_CFA_restore_extended, DW_CFA_restore_state, DW_CFA_same_value, DW_CFA_set_loc,
  DW_CFA_undefined, DW_CFA_val_expression, DW_CFA_val_offset, DW_CFA_val_offset_sf, cfaName,
} from './constants.js';
import type { CommonInformationEntry, FrameDescriptionEntry, FrameSection } from './entries.js';
import { readEncodedPointer } from './pointer.js';

/** How to compute the Canonical Frame Address. */
export type CfaRule =
  | { kind: 'register'; register: number; offset: number }
  | { kind: 'expression'; expression: Uint8Array };

/** How to recover one register of the caller. */
export type RegisterRule =
  | { kind: 'undefined' }
  | { kind: 'same-value' }
  /** Saved in memory at CFA + offset. */
  | { kind: 'offset'; offset: number }
  /** Its value is CFA + offset. */
  | { kind: 'val-offset'; offset: number }
  /** Saved in another register. */
  | { kind: 'register'; register: number }
  /** Saved in memory at the address the expression computes (the CFA pushed first). */
  | { kind: 'expression'; expression: Uint8Array }
  /** Its value is what the expression computes (the CFA pushed first). */
  | { kind: 'val-expression'; expression: Uint8Array };

/** One row of the unwind table: the rules for every pc in [start, end). */
export interface UnwindRow {
  start: bigint;
  end: bigint;
  cfa: CfaRule;
  /** Rules by DWARF register number; a register without a rule is absent. */
  registers: ReadonlyMap<number, RegisterRule>;
  /** The DW_CFA_GNU_args_size in effect (bytes of outgoing arguments pushed). */
  argsSize: number;
}

interface State {
  cfa: CfaRule;
  registers: Map<number, RegisterRule>;
}

const copy = (s: State): State => ({ cfa: s.cfa, registers: new Map(s.registers) });

/** Every row of `fde`, in address order (for dumps and tests; the unwinder uses rowAt). */
export function unwindRows(section: FrameSection, fde: FrameDescriptionEntry): UnwindRow[] {
  const rows: UnwindRow[] = [];
  run(section, fde, (row) => {
    rows.push(row);
    return false;
  });
  return rows;
}

/** The row of `fde` that covers `pc`, or undefined when `pc` is outside the FDE. */
export function rowAt(section: FrameSection, fde: FrameDescriptionEntry, pc: bigint): UnwindRow | undefined {
  if (pc < fde.start || pc >= fde.end) return undefined;
  let found: UnwindRow | undefined;
  run(section, fde, (row) => {
    if (pc >= row.start && pc < row.end) {
      found = row;
      return true;
    }
    return false;
  });
  return found;
}

// Runs the CIE's then the FDE's instructions, calling `emit` for each finished row until it returns true.
function run(section: FrameSection, fde: FrameDescriptionEntry, emit: (row: UnwindRow) => boolean): void {
  const cie = fde.cie;
  const initial: State = { cfa: { kind: 'register', register: 7, offset: 0 }, registers: new Map() };
  const machine = new Machine(section, cie, initial, initial);
  machine.execute(cie.instructionsStart, cie.instructionsEnd, undefined);
  const afterCie = copy(machine.state);
  const fdeMachine = new Machine(section, cie, afterCie, copy(afterCie));
  fdeMachine.location = fde.start;
  if (fdeMachine.execute(fde.instructionsStart, fde.instructionsEnd, emit)) return;
  emit(fdeMachine.row(fde.end));
}

class Machine {
  location = 0n;
  argsSize = 0;
  readonly state: State;
  readonly #stack: State[] = [];

  constructor(
    private readonly section: FrameSection,
    private readonly cie: CommonInformationEntry,
    /** The rules after the CIE's initial instructions, for DW_CFA_restore. */
    private readonly initial: State,
    state: State,
  ) {
    this.state = state;
  }

  row(end: bigint): UnwindRow {
    return { start: this.location, end, cfa: this.state.cfa, registers: new Map(this.state.registers), argsSize: this.argsSize };
  }

  // Executes [start, end); returns true when `emit` asked to stop. Without `emit` (the CIE's initial
  // instructions) advancing the location is an error.
  execute(start: number, end: number, emit: ((row: UnwindRow) => boolean) | undefined): boolean {
    const c = new Cursor(this.section.kind, this.section.bytes, start, end);
    const { codeAlignment, dataAlignment } = this.cie;
    const advance = (to: bigint): boolean => {
      if (emit === undefined) {
        c.fail('a CIE\'s initial instructions advance the location');
        return false;
      }
      if (to <= this.location) {
        if (to < this.location) c.fail('DW_CFA location moves backwards');
        return false;
      }
      const stop = emit(this.row(to));
      this.location = to;
      return stop;
    };
    const set = (register: number, rule: RegisterRule): void => {
      this.state.registers.set(register, rule);
    };
    while (c.more) {
      const at = c.offset;
      const byte = c.u8();
      const high = byte & 0xc0;
      const low = byte & 0x3f;
      if (high === DW_CFA_advance_loc) {
        if (advance(this.location + BigInt(low * codeAlignment))) return true;
        continue;
      }
      if (high === DW_CFA_offset) {
        set(low, { kind: 'offset', offset: c.ulebNumber() * dataAlignment });
        continue;
      }
      if (high === DW_CFA_restore) {
        this.#restore(low);
        continue;
      }
      switch (byte) {
        case DW_CFA_nop: break;
        case DW_CFA_set_loc: {
          const to = this.section.kind === '.eh_frame'
            ? readEncodedPointer(c, this.cie.fdeEncoding, this.section.bases).value
            : c.uint(this.cie.addressSize);
          if (advance(to)) return true;
          break;
        }
        case DW_CFA_advance_loc1: if (advance(this.location + BigInt(c.u8() * codeAlignment))) return true; break;
        case DW_CFA_advance_loc2: if (advance(this.location + BigInt(c.u16() * codeAlignment))) return true; break;
        case DW_CFA_advance_loc4: if (advance(this.location + BigInt(c.u32()) * BigInt(codeAlignment))) return true; break;
        case DW_CFA_offset_extended: { const r = c.ulebNumber(); set(r, { kind: 'offset', offset: c.ulebNumber() * dataAlignment }); break; }
        case DW_CFA_offset_extended_sf: { const r = c.ulebNumber(); set(r, { kind: 'offset', offset: Number(c.sleb()) * dataAlignment }); break; }
        case DW_CFA_GNU_negative_offset_extended: { const r = c.ulebNumber(); set(r, { kind: 'offset', offset: -c.ulebNumber() * dataAlignment }); break; }
        case DW_CFA_val_offset: { const r = c.ulebNumber(); set(r, { kind: 'val-offset', offset: c.ulebNumber() * dataAlignment }); break; }
        case DW_CFA_val_offset_sf: { const r = c.ulebNumber(); set(r, { kind: 'val-offset', offset: Number(c.sleb()) * dataAlignment }); break; }
        case DW_CFA_restore_extended: this.#restore(c.ulebNumber()); break;
        case DW_CFA_undefined: set(c.ulebNumber(), { kind: 'undefined' }); break;
        case DW_CFA_same_value: set(c.ulebNumber(), { kind: 'same-value' }); break;
        case DW_CFA_register: { const r = c.ulebNumber(); set(r, { kind: 'register', register: c.ulebNumber() }); break; }
        case DW_CFA_remember_state: this.#stack.push(copy(this.state)); break;
        case DW_CFA_restore_state: {
          const saved = this.#stack.pop();
          if (saved === undefined) {
            c.fail('DW_CFA_restore_state without a remembered state', at);
            break;
          }
          // The CFA rule is part of the remembered row (as readelf, gdb and libgcc treat it): gcc
          // emits remember/def_cfa_offset/restore around an early return in the middle of a function.
          this.state.cfa = saved.cfa;
          this.state.registers.clear();
          for (const [r, rule] of saved.registers) this.state.registers.set(r, rule);
          break;
        }
        case DW_CFA_def_cfa: { const register = c.ulebNumber(); this.state.cfa = { kind: 'register', register, offset: c.ulebNumber() }; break; }
        case DW_CFA_def_cfa_sf: { const register = c.ulebNumber(); this.state.cfa = { kind: 'register', register, offset: Number(c.sleb()) * dataAlignment }; break; }
        case DW_CFA_def_cfa_register: {
          const register = c.ulebNumber();
          if (this.state.cfa.kind !== 'register') c.fail('DW_CFA_def_cfa_register while the CFA is an expression', at);
          else this.state.cfa = { kind: 'register', register, offset: this.state.cfa.offset };
          break;
        }
        case DW_CFA_def_cfa_offset:
        case DW_CFA_def_cfa_offset_sf: {
          const offset = byte === DW_CFA_def_cfa_offset ? c.ulebNumber() : Number(c.sleb()) * dataAlignment;
          if (this.state.cfa.kind !== 'register') c.fail(`${cfaName(byte)} while the CFA is an expression`, at);
          else this.state.cfa = { kind: 'register', register: this.state.cfa.register, offset };
          break;
        }
        case DW_CFA_def_cfa_expression: this.state.cfa = { kind: 'expression', expression: c.bytesOf(c.ulebNumber()) }; break;
        case DW_CFA_expression: { const r = c.ulebNumber(); set(r, { kind: 'expression', expression: c.bytesOf(c.ulebNumber()) }); break; }
        case DW_CFA_val_expression: { const r = c.ulebNumber(); set(r, { kind: 'val-expression', expression: c.bytesOf(c.ulebNumber()) }); break; }
        case DW_CFA_GNU_args_size: this.argsSize = c.ulebNumber(); break;
        default:
          c.fail(`unsupported call frame instruction ${cfaName(byte)}`, at);
      }
    }
    c.check();
    return false;
  }

  #restore(register: number): void {
    const rule = this.initial.registers.get(register);
    if (rule === undefined) this.state.registers.delete(register);
    else this.state.registers.set(register, rule);
  }
}
