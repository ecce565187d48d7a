// The transformers a NEW object provides: C functions the user marked with KATANA_TRANSFORM
// (packages/cc/include/katana/transform.h) to convert objects of a changed type that katana cannot
// convert alone (a changed union, a `void *`). The macro leaves one 16-byte record per transformer
// in the object's `.katana_transform` section: a pointer to the type's spelling ("union value") and
// a pointer to the function, both as R_X86_64_64 relocations.
import { R_X86_64_64, type ElfSymbol } from '@katana/elf';
import { UnsupportedChangeError } from './errors.js';
import { isFunction, type ObjectModel } from './objects.js';
import { resolveReference } from './reference.js';

/** The section KATANA_TRANSFORM records live in. */
export const TRANSFORM_SECTION = '.katana_transform';
const RECORD_SIZE = 16;

/** Transformer function per type spelling ('struct node', 'union value'), from `model`'s records. */
export function findTransformers(model: ObjectModel): Map<string, ElfSymbol> {
  const found = new Map<string, ElfSymbol>();
  const elf = model.object.elf;
  const section = elf.section(TRANSFORM_SECTION);
  if (!section) return found;
  const relocations = [...elf.relocationsFor(section)];
  const at = (offset: number) => relocations.find((r) => Number(r.offset) === offset && r.type === R_X86_64_64);
  const bad = (detail: string): never => {
    throw new UnsupportedChangeError(`the ${TRANSFORM_SECTION} section of ${model.file} ${detail}; declare transformers only with KATANA_TRANSFORM`);
  };
  if (section.size % RECORD_SIZE !== 0) bad(`is ${section.size} bytes, not a whole number of ${RECORD_SIZE}-byte records`);
  for (let offset = 0; offset < section.size; offset += RECORD_SIZE) {
    const nameRef = resolveReference(model, at(offset) ?? bad(`has no type name at offset ${offset}`));
    const fnRef = resolveReference(model, at(offset + 8) ?? bad(`has no function at offset ${offset + 8}`));
    if (nameRef.kind === 'symbol') return bad(`names its type through symbol ${nameRef.symbol.name}, not a string`);
    const bytes = nameRef.section.data();
    const end = bytes.indexOf(0, nameRef.offset);
    const name = new TextDecoder().decode(bytes.subarray(nameRef.offset, end < 0 ? undefined : end)).trim().replace(/\s+/g, ' ');
    if (fnRef.kind !== 'symbol' || !isFunction(fnRef.symbol) || fnRef.addend !== 0n) bad(`does not point at a function for ${name}`);
    const fn = (fnRef as { symbol: ElfSymbol }).symbol;
    const earlier = found.get(name);
    if (earlier && earlier !== fn) throw new UnsupportedChangeError(`${model.file} declares two transformers for ${name}: ${earlier.name} and ${fn.name}`);
    found.set(name, fn);
  }
  return found;
}
