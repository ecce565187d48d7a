// The OLD module's .symtab, where every symbol the patch uses gets its link-time value. Globals are
// found by name (versioned names such as `stderr@GLIBC_2.2.5` by their base name). Locals are found
// in the STT_FILE group of their object: .symtab lists each object's locals after an STT_FILE symbol
// holding the source's basename; when several objects share a basename (two `util.c`), the group
// whose locals include every local of the object is the one. A global the objects defined with
// STV_HIDDEN is turned into a local by the link (gABI "Symbol Visibility"); ld lists those after an
// STT_FILE with an empty name, so that group is searched as globals too: in a static PIE, libc.a's
// hidden functions (fflush, strlen, ...) are found there. An STT_GNU_IFUNC's value is its resolver;
// callers reach the implementation through the PLT entry whose GOT slot the R_X86_64_IRELATIVE of
// that resolver fills at start-up (ifuncEntry).
import { basename } from 'node:path';
import {
  type ElfFile, type ElfSymbol, R_X86_64_IRELATIVE, SHN_UNDEF, SHT_RELA, STB_GLOBAL, STB_LOCAL, STT_FILE, STT_SECTION, pltEntry,
} from '@katana/elf';
import { EmitterError } from './errors.js';
import type { ObjectModel } from './objects.js';

interface FileGroup {
  file: string;
  locals: Map<string, ElfSymbol>;
}

/** Symbol lookup in the module being patched. */
export class TargetSymbols {
  /**
   * True when the module imports no symbol (no undefined .dynsym entry: a static executable or a
   * static PIE): every function it can call is linked in.
   */
  readonly isStatic: boolean;
  private readonly globals = new Map<string, ElfSymbol>();
  private readonly groups: FileGroup[] = [];
  private readonly groupOf = new Map<ObjectModel, FileGroup | undefined>();

  /**
   * @param afterPatches true when the patch goes on top of earlier patches made from this module:
   *   a symbol of OLD that the module lacks is then defined by one of them (include.ts).
   */
  constructor(readonly elf: ElfFile, readonly name: string, readonly afterPatches = false) {
    this.isStatic = !elf.dynamicSymbols().some((s) => s.index !== 0 && s.shndx === SHN_UNDEF);
    let group: FileGroup | undefined;
    for (const s of elf.symbols()) {
      if (s.type === STT_FILE) {
        group = { file: s.name, locals: new Map() };
        this.groups.push(group);
      } else if (s.bind === STB_LOCAL) {
        if (group && s.type !== STT_SECTION && s.name !== '') group.locals.set(s.name, s);
      } else if (s.shndx !== SHN_UNDEF) {
        const base = s.name.replace(/@.*$/, '');
        if (!this.globals.has(base) || !s.name.includes('@')) this.globals.set(base, s);
      }
    }
  }

  /** The defined global or weak symbol `name` (one the link made local included, as STB_GLOBAL), if the module has one. */
  global(name: string): ElfSymbol | undefined {
    const found = this.globals.get(name);
    if (found !== undefined) return found;
    const hidden = this.groups.find((g) => g.file === '')?.locals.get(name);
    return hidden && { ...hidden, bind: STB_GLOBAL };
  }

  /**
   * The link-time address of the PLT entry through which the module calls the STT_GNU_IFUNC `s`
   * (the entry jumping through the GOT slot of the R_X86_64_IRELATIVE whose addend is s's
   * resolver), or undefined when the module never calls it through a PLT.
   */
  ifuncEntry(s: ElfSymbol): bigint | undefined {
    for (const rela of this.elf.sections) {
      if (rela.type !== SHT_RELA) continue;
      for (const r of this.elf.relocations(rela)) {
        const entry = r.type === R_X86_64_IRELATIVE && r.addend === s.value ? pltEntry(this.elf, r.offset) : undefined;
        if (entry !== undefined) return entry;
      }
    }
    return undefined;
  }

  /** The local symbol `name` of the object `model` (an OLD object), if the module has one. */
  local(model: ObjectModel, name: string): ElfSymbol | undefined {
    return this.groupFor(model)?.locals.get(name);
  }

  private groupFor(model: ObjectModel): FileGroup | undefined {
    if (this.groupOf.has(model)) return this.groupOf.get(model);
    const file = model.sttFile;
    let candidates = file === undefined ? [] : this.groups.filter((g) => basename(g.file) === basename(file));
    if (candidates.length > 1) {
      const names = model.localNames();
      candidates = candidates.filter((g) => names.every((n) => g.locals.has(n)));
      if (candidates.length !== 1) {
        throw new EmitterError(
          `cannot tell which of the ${file} symbol groups of ${this.name} belongs to ${model.object.file}: ${candidates.length} match its local symbols`,
        );
      }
    }
    const group = candidates[0];
    this.groupOf.set(model, group);
    return group;
  }
}
