// Deciding what every reference of the patched code binds to (kpatch's "include"), and copying in
// what must travel with the code. Walks the relocations of each marked function, then of whatever
// that pulled in, and gives each target a PO symbol:
// - a marked function → its new copy in .text.new; an unchanged one → the target's function;
// - a variable that exists in OLD → the target's storage (global by name, static by file + name,
//   static local by its correlated OLD name), so the process keeps its state; a new one → fresh
//   storage in .data.new / .bss.new / .rodata.new with its initializer and its relocations;
// - a read-only variable whose contents changed, a string or constant section, a jump table → a copy
//   in .rodata.new, addends kept valid against a local object symbol at the start of the copy;
// - anything else → the target's symbol (value from OLD's .symtab; for an IFUNC, its PLT entry) or,
//   undefined there, a dynamic symbol the applier resolves among loaded libraries (refused for a
//   static executable).
// A patch made after earlier patches (targets.afterPatches: OLD is a later build than the target
// executable) binds what OLD has but the executable lacks, a function or variable an earlier patch
// added, to an undefined symbol without a value: the applier finds it in the registry by name (and
// file, for a static), so new code shares the earlier patch's code and storage.
import {
  type ElfSymbol, type Relocation, type Section, equalBytes, relocTypeName, SHF_WRITE, SHN_COMMON, SHT_NOBITS, STB_LOCAL,
  STB_WEAK, STT_FUNC, STT_GNU_IFUNC, STT_OBJECT, STT_TLS,
} from '@katana/elf';
import { demangleName, type PoSectionKind, type PoSymbol, relocationWidth } from '@katana/po';
import { contentKey } from './compare.js';
import type { PoBuilder } from './create.js';
import { FrameTable } from './eh-frame.js';
import { EmitterError, UnsupportedChangeError } from './errors.js';
import type { ObjectDiff } from './mark.js';
import type { Migration, VariableMigration } from './migrate.js';
import { isFunction, isInSection, type ObjectModel } from './objects.js';
import { type Reference, resolveReference } from './reference.js';
import type { DiffReport } from './report.js';
import type { TargetSymbols } from './targets.js';

const TRAMPOLINE_SIZE = 5; // jmp rel32

/** Fills `builder` with the marked functions of `diffs` and everything they reference. */
export function include(diffs: ObjectDiff[], targets: TargetSymbols, builder: PoBuilder, report: DiffReport, migration?: Migration): void {
  new Inclusion(diffs, targets, builder, report, migration ?? { types: [], variables: [], changedTypes: new Map() }).run();
}

/** The allocator functions a PO that follows pointers names, so that the applier can allocate new blocks with them. */
export const ALLOCATOR_FUNCTIONS = ['malloc', 'free'] as const;

class Inclusion {
  /** NEW global definitions by name (the first in link order), so a reference from another object finds them. */
  private readonly globals = new Map<string, { diff: ObjectDiff; symbol: ElfSymbol }>();
  /** Per object, NEW function symbol index → PO symbol of its copy. */
  private readonly copies = new Map<ObjectDiff, Map<number, number>>();
  private readonly pending: (() => void)[] = [];
  private readonly frames = new Map<ObjectModel, FrameTable>();

  constructor(
    private readonly diffs: ObjectDiff[],
    private readonly targets: TargetSymbols,
    private readonly builder: PoBuilder,
    private readonly report: DiffReport,
    private readonly migration: Migration,
  ) {}

  private get migrations(): VariableMigration[] {
    return this.migration.variables;
  }

  run(): void {
    for (const diff of this.diffs) {
      const model = diff.newSide.model;
      // The first definition in link order is the one the linker kept (COMDAT copies, comdat.ts).
      for (const s of [...model.functions, ...model.variables]) {
        if (s.bind !== STB_LOCAL && !this.globals.has(s.name)) this.globals.set(s.name, { diff, symbol: s });
      }
    }
    for (const diff of this.diffs) for (const marked of diff.functions) this.placeFunction(diff, marked.symbol, marked.old, marked.cold);
    for (const diff of this.diffs) for (const old of diff.oldColdParts) this.unsafeColdPart(diff, old);
    this.addTypes();
    for (const m of this.migrations) this.variable(m.diff, m.symbol);
    // Relocations are translated once every function has its PO symbol; copies they pull in queue more.
    for (let job = this.pending.shift(); job; job = this.pending.shift()) job();
  }

  /** The transformed types, in Migration order (follow rows index it), with their transformers' copies. */
  private addTypes(): void {
    for (const t of this.migration.types) {
      const { transformer, ...type } = t;
      let symbol: number | undefined;
      if (transformer) {
        symbol = this.copies.get(transformer.diff)?.get(transformer.symbol.index);
        if (symbol === undefined) throw new EmitterError(`transformer ${transformer.symbol.name} of ${t.name} is not in the patch`);
      }
      this.builder.types.push({ ...type, members: type.members.map((m) => ({ ...m })), ...(symbol === undefined ? {} : { transformer: symbol }) });
    }
    const follows = this.migration.types.some((t) => t.rows.some((r) => r.rule.kind === 'follow') || t.transformer) || this.migrations.some((m) => m.pointer);
    if (follows) for (const name of ALLOCATOR_FUNCTIONS) this.allocatorFunction(name);
  }

  /** The target's `name` (malloc, free), by value when the module links it, else a dynamic symbol. */
  private allocatorFunction(name: string): void {
    const found = this.targets.global(name);
    if (found) {
      this.targetSymbol(found, '');
      return;
    }
    if (this.targets.isStatic) throw new UnsupportedChangeError(`the patch follows pointers into the heap, but ${name} is not linked into the static executable ${this.targets.name}`);
    this.builder.symbol(`dynamic ${name}`, () => ({ name, type: 'func', bind: 'global', size: 0, target: {} }));
  }

  private placeFunction(diff: ObjectDiff, fn: ElfSymbol, old: ElfSymbol | undefined, cold: boolean): void {
    const model = diff.newSide.model;
    const file = model.file;
    const offset = this.builder.place('text', Uint8Array.from(model.bytesOf(fn)), 16, () => `function '${demangleName(fn.name)}'`);
    const index = this.builder.symbol(`function ${file} ${fn.name}`, () => ({
      ...this.naming(fn, file), type: 'func', size: fn.size, defined: { section: 'text', offset },
    }));
    const copies = this.copies.get(diff) ?? new Map<number, number>();
    copies.set(fn.index, index);
    this.copies.set(diff, copies);
    this.pending.push(() => this.relocate(diff, model.relocationsOf(fn), Number(fn.value), 'text', offset, fn));
    this.copyFrame(model, fn, index);

    const replaced = cold ? undefined : this.oldFunction(diff, fn, old);
    if (replaced) {
      if (replaced.size < TRAMPOLINE_SIZE) {
        throw new UnsupportedChangeError(
          `function '${demangleName(fn.name)}' in ${file} is ${replaced.size} bytes long in the target, too short for the 5-byte jump to its new version`,
        );
      }
      const address = replaced.value;
      this.builder.unsafe.push({ name: baseName(replaced), ...fileOf(replaced, file), address, size: replaced.size, redirectTo: index });
      this.report.changed.push({ name: fn.name, file, oldSize: replaced.size, newSize: fn.size });
      this.builder.functions.push({ symbol: index, name: fn.name, file, size: fn.size, replaces: { address, size: replaced.size } });
      return;
    }
    if (old) this.report.changed.push({ name: fn.name, file, oldSize: old.size, newSize: fn.size });
    else this.report.added.push({ name: fn.name, file, size: fn.size });
    this.builder.functions.push({ symbol: index, name: fn.name, file, size: fn.size });
  }

  /** Copies the CFI of `fn` into the patch's .eh_frame, for unwinders; warns when it cannot travel. */
  private copyFrame(model: ObjectModel, fn: ElfSymbol, index: number): void {
    let table = this.frames.get(model);
    if (!table) {
      table = new FrameTable(model);
      this.frames.set(model, table);
    }
    const { record, problem } = table.frameOf(fn);
    if (record) this.builder.addFrame(record, index);
    else if (problem) this.warn(`the CFI of '${fn.name}' in ${model.file} is left out of the patch: ${problem}`);
  }

  /** The target's version of a changed function (also of a global that moved here from another file). */
  private oldFunction(diff: ObjectDiff, fn: ElfSymbol, old: ElfSymbol | undefined): ElfSymbol | undefined {
    if (!old) {
      const moved = fn.bind === STB_LOCAL ? undefined : this.targets.global(fn.name);
      return moved && isFunction(moved) ? moved : undefined;
    }
    return this.replacedInTarget(diff, old);
  }

  private unsafeColdPart(diff: ObjectDiff, old: ElfSymbol): void {
    const found = this.replacedInTarget(diff, old);
    this.builder.unsafe.push({ name: old.name, file: diff.newSide.model.file, address: found.value, size: found.size });
  }

  /** The target's version of OLD function `old`, which the patch replaces. */
  private replacedInTarget(diff: ObjectDiff, old: ElfSymbol): ElfSymbol {
    const found = this.inTarget(diff, old);
    if (found) return found;
    const file = diff.newSide.model.file;
    if (this.targets.afterPatches) {
      // Its code is in an earlier patch's area, which a PO cannot yet name as a trampoline site.
      throw new UnsupportedChangeError(
        `function '${demangleName(old.name)}' in ${file} was added by an earlier patch and changes again; make this patch from ${this.targets.name}'s own build instead`,
      );
    }
    throw new EmitterError(`function '${demangleName(old.name)}' of ${file} is not in the symbol table of ${this.targets.name}`);
  }

  /** The target's symbol for OLD symbol `old` of this object pair. */
  private inTarget(diff: ObjectDiff, old: ElfSymbol): ElfSymbol | undefined {
    if (old.bind !== STB_LOCAL) return this.targets.global(old.name);
    return diff.oldSide ? this.targets.local(diff.oldSide.model, old.name) : undefined;
  }

  private relocate(diff: ObjectDiff, relocations: Relocation[], start: number, kind: PoSectionKind, at: number, fn?: ElfSymbol): void {
    const model = diff.newSide.model;
    for (const r of relocations) {
      if (relocationWidth(r.type) === undefined) {
        const where = fn ? `function '${demangleName(fn.name)}'` : 'data';
        throw new UnsupportedChangeError(`${where} in ${model.file} uses ${relocTypeName(r.type)}, which a patch cannot carry`);
      }
      const { symbol, addend } = this.bind(diff, resolveReference(model, r, fn));
      this.builder.relocations.push({ section: kind, offset: at + Number(r.offset) - start, type: r.type, symbol, addend });
    }
  }

  private bind(diff: ObjectDiff, ref: Reference): { symbol: number; addend: bigint } {
    if (ref.kind !== 'symbol') return { symbol: this.copySection(diff, ref.section), addend: ref.addend };
    const s = ref.symbol;
    if (s.bind !== STB_LOCAL) {
      const definition = this.globals.get(s.name);
      return { symbol: definition ? this.defined(definition.diff, definition.symbol) : this.external(s), addend: ref.addend };
    }
    return { symbol: isInSection(s) ? this.defined(diff, s) : this.external(s), addend: ref.addend };
  }

  /** A symbol NEW defines: a function (copied or the target's) or a variable. */
  private defined(diff: ObjectDiff, s: ElfSymbol): number {
    const model = diff.newSide.model;
    const isCode = isFunction(s) || (isInSection(s) && s.type !== STT_OBJECT && s.type !== STT_TLS && model.isCode(s.shndx));
    if (!isCode) return this.variable(diff, s);
    const copy = this.copies.get(diff)?.get(s.index);
    if (copy !== undefined) return copy;
    const old = diff.correlation.oldOf(s);
    const found = old ? this.inTarget(diff, old) : this.targets.global(s.name);
    if (found) return this.targetSymbol(found, model.file);
    if (old && this.targets.afterPatches) return this.earlierPatchSymbol(old, model.file);
    throw new EmitterError(`function '${demangleName(s.name)}' of ${model.file} is unchanged but not in the symbol table of ${this.targets.name}`);
  }

  private variable(diff: ObjectDiff, s: ElfSymbol): number {
    const model = diff.newSide.model;
    const old = diff.correlation.oldOf(s);
    const found = old ? this.inTarget(diff, old) : s.bind !== STB_LOCAL ? this.targets.global(s.name) : undefined;
    const migration = this.migrations.find((m) => m.symbol === s);
    if (migration && found) return this.migrated(migration, found);
    if (!found && model.isTls(s)) {
      throw new UnsupportedChangeError(`new thread-local variable '${demangleName(s.name)}' in ${model.file} is not supported`);
    }
    // A constant is the target's only when its contents (and what they point at) did not change.
    const sameContent = (): boolean => old !== undefined && diff.oldSide !== undefined && contentKey(diff.oldSide, old, 0) === contentKey(diff.newSide, s, 0);
    if (!found && old && this.targets.afterPatches && (!model.isReadOnly(s) || sameContent())) {
      return this.earlierPatchSymbol(old, model.file);
    }
    if (model.isReadOnly(s)) {
      if (found && sameContent()) return this.targetSymbol(found, model.file);
      // A constant holding addresses (.data.rel.ro, writable in the object) goes to .data.new, where
      // a loader can still relocate it: apply --file of a PIE turns its addresses into RELATIVE relocations.
      return this.copyVariable(diff, s, (model.section(s.shndx).flags & SHF_WRITE) !== 0n ? 'data' : 'rodata', !found);
    }
    if (!found) return this.copyVariable(diff, s, s.shndx === SHN_COMMON || model.section(s.shndx).type === SHT_NOBITS ? 'bss' : 'data', true);
    if (old && diff.oldSide && !equalBytes(diff.oldSide.model.bytesOf(old), model.bytesOf(s))) {
      this.warn(`the initial value of '${demangleName(s.name)}' in ${model.file} changed; the running process keeps its current value`);
    }
    return this.targetSymbol(found, model.file);
  }

  /** New storage for a variable whose type changed (its new initializer), and the transformation from the target's storage; for a variable updated in place, its own storage. */
  private migrated(m: VariableMigration, found: ElfSymbol): number {
    const model = m.diff.newSide.model;
    const known = this.builder.lookup(`variable ${model.file} ${m.symbol.name}`);
    if (known !== undefined) return known;
    const oldSymbol = this.targetSymbol(found, model.file);
    const bss = m.symbol.shndx === SHN_COMMON || model.section(m.symbol.shndx).type === SHT_NOBITS;
    const newSymbol = m.inPlace ? oldSymbol : this.copyVariable(m.diff, m.symbol, bss ? 'bss' : 'data', false);
    if (!this.builder.dataTransforms.some((d) => d.oldSymbol === oldSymbol)) {
      this.builder.dataTransforms.push({
        variable: m.name, file: model.file, type: m.type, oldSymbol, newSymbol, ...(m.elements === undefined ? {} : { elements: m.elements }), count: m.count,
        ...(m.inPlace ? { inPlace: true } : {}), ...(m.pointer ? { pointer: true } : {}),
      });
    }
    return newSymbol;
  }

  private copyVariable(diff: ObjectDiff, s: ElfSymbol, kind: 'rodata' | 'data' | 'bss', isNew: boolean): number {
    const model = diff.newSide.model;
    const key = `variable ${model.file} ${s.name}`;
    const known = this.builder.lookup(key);
    if (known !== undefined) return known;
    const align = s.shndx === SHN_COMMON ? Number(s.value) : model.section(s.shndx).addralign;
    const content = kind === 'bss' ? s.size : Uint8Array.from(model.bytesOf(s));
    const offset = this.builder.place(kind, content, align, () => `variable '${demangleName(s.name)}'`);
    const index = this.builder.symbol(key, () => ({
      ...this.naming(s, model.file), type: 'object', size: s.size, defined: { section: kind, offset },
    }));
    if (isNew) this.report.newVariables.push({ name: s.name, file: model.file, size: s.size, section: kind });
    this.pending.push(() => this.relocate(diff, model.relocationsOf(s), Number(s.value), kind, offset));
    return index;
  }

  /** A copy of a whole section holding no named symbol: strings, constants, a jump table. */
  private copySection(diff: ObjectDiff, section: Section): number {
    const model = diff.newSide.model;
    const key = `section ${model.file} ${section.name}`;
    const known = this.builder.lookup(key);
    if (known !== undefined) return known;
    const writable = (section.flags & SHF_WRITE) !== 0n;
    const kind: PoSectionKind = !writable ? 'rodata' : section.type === SHT_NOBITS ? 'bss' : 'data';
    if (writable) this.warn(`anonymous writable data ${section.name} of ${model.file} is copied into the patch; new code does not share the process's copy`);
    const content = kind === 'bss' ? section.size : Uint8Array.from(section.data());
    const offset = this.builder.place(kind, content, section.addralign, () => section.name);
    const index = this.builder.symbol(key, () => ({
      name: section.name, type: 'object', bind: 'local', file: model.file, size: section.size, defined: { section: kind, offset },
    }));
    this.pending.push(() => this.relocate(diff, model.relocationsIn(section.index, 0, section.size), 0, kind, offset));
    return index;
  }

  /**
   * A symbol of the target module with its link-time value; `file` is used for locals. An IFUNC's
   * value is the module's PLT entry for it, since calling its value would call the resolver.
   */
  private targetSymbol(found: ElfSymbol, file: string): number {
    const name = baseName(found);
    const local = found.bind === STB_LOCAL;
    return this.builder.symbol(`target ${local ? file : ''} ${name}`, () => {
      const value = found.type === STT_GNU_IFUNC ? this.targets.ifuncEntry(found) : found.value;
      if (value === undefined) {
        throw new UnsupportedChangeError(
          `'${demangleName(name)}' is an IFUNC that ${this.targets.name} never calls through a PLT entry, so the patch has no address to call it at`,
        );
      }
      this.report.externals.push(name);
      return { name, type: poType(found), bind: poBind(found), ...(local ? { file } : {}), size: found.size, target: { value } };
    });
  }

  /** A function or variable of OLD that an earlier patch added to the process (no value: the applier looks it up in the registry). */
  private earlierPatchSymbol(old: ElfSymbol, file: string): number {
    const name = baseName(old);
    const local = old.bind === STB_LOCAL;
    return this.builder.symbol(`patch ${local ? file : ''} ${name}`, () => {
      this.report.externals.push(name);
      return { name, type: poType(old), bind: poBind(old), ...(local ? { file } : {}), size: old.size, target: {} };
    });
  }

  /** A symbol NEW does not define: in the target's .symtab, or in a library the process loaded. */
  private external(s: ElfSymbol): number {
    const found = this.targets.global(s.name);
    if (found) return this.targetSymbol(found, '');
    if (this.targets.isStatic) {
      throw new UnsupportedChangeError(
        `'${demangleName(s.name)}' is not linked into the static executable ${this.targets.name}, so the patch cannot call it`,
      );
    }
    return this.builder.symbol(`dynamic ${s.name}`, () => {
      this.report.externals.push(s.name);
      return { name: s.name, type: poType(s), bind: s.bind === STB_WEAK ? 'weak' : 'global', size: s.size, target: {} };
    });
  }

  private naming(s: ElfSymbol, file: string): Pick<PoSymbol, 'name' | 'bind' | 'file'> {
    return { name: s.name, bind: poBind(s), ...(s.bind === STB_LOCAL ? { file } : {}) };
  }

  private warn(message: string): void {
    if (!this.report.warnings.includes(message)) this.report.warnings.push(message);
  }
}

function poType(s: ElfSymbol): PoSymbol['type'] {
  if (s.type === STT_FUNC || s.type === STT_GNU_IFUNC) return 'func';
  if (s.type === STT_OBJECT) return 'object';
  if (s.type === STT_TLS) return 'tls';
  return 'notype';
}

function poBind(s: ElfSymbol): PoSymbol['bind'] {
  return s.bind === STB_LOCAL ? 'local' : s.bind === STB_WEAK ? 'weak' : 'global';
}

/** `stderr@GLIBC_2.2.5` → `stderr`. */
function baseName(s: ElfSymbol): string {
  return s.name.replace(/@.*$/, '');
}

function fileOf(s: ElfSymbol, file: string): { file?: string } {
  return s.bind === STB_LOCAL ? { file } : {};
}

