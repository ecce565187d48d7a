// The OLD module's .symtab, where every symbol the patch uses gets its link-time value. Globals are
// found by name (versioned names such as `stderr@GLIBC_2.2.5` by their base name). Locals are found
// in the STT_FILE group of their object: .symtab lists each object's locals after an STT_FILE symbol
// holding the source's basename; when several objects share a basename (two `util.c`), the group
// whose locals include every local of the object is the one.
import { basename } from 'node:path';
import { type ElfFile, type ElfSymbol, PT_DYNAMIC, PT_INTERP, SHN_UNDEF, STB_LOCAL, STT_FILE, STT_SECTION } from '@katana/elf';
import { EmitterError } from './errors.js';
import type { ObjectModel } from './objects.js';

interface FileGroup {
  file: string;
  locals: Map<string, ElfSymbol>;
}

/** Symbol lookup in the module being patched. */
export class TargetSymbols {
  /** True when the module loads no shared library: every function it can call is linked in. */
  readonly isStatic: boolean;
  private readonly globals = new Map<string, ElfSymbol>();
  private readonly groups: FileGroup[] = [];
  private readonly groupOf = new Map<ObjectModel, FileGroup | undefined>();

  /**
   * @param afterPatches true when the patch goes on top of earlier patches made from this module:
   *   a symbol of OLD that the module lacks is then defined by one of them (include.ts).
   */
  constructor(readonly elf: ElfFile, readonly name: string, readonly afterPatches = false) {
    this.isStatic = !elf.segments.some((s) => s.type === PT_INTERP || s.type === PT_DYNAMIC);
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

  /** The defined global or weak symbol `name`, if the module has one. */
  global(name: string): ElfSymbol | undefined {
    return this.globals.get(name);
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
