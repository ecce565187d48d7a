// Type descriptions. describeType gives a canonical layout string: two variables have the same
// type exactly when their strings are equal, e.g.
//   struct point{x@0:int(4);y@4:int(4)}(8)
//   struct flags{a@0.0/3:unsigned int(4);b@0.3/5:unsigned int(4)}(4)   (bit fields: byte.bit/bits)
//   struct node{value@0:int(4);next@8:struct node *(8)}(16)
//   const(const char *(8))          (a const pointer to const char; qualifiers wrap what they qualify)
// It recurses into members, array elements, typedef targets and qualified types, but describes a
// pointer by its pointee's name only, so self-referential types stay finite. typeName spells a type
// the C way for messages: `struct point`, `int *`, `const char [16]`, `int (*)(int)`.
import { DwarfFormatError } from './errors.js';
import type { DwarfType } from './model.js';
import { tagName } from './constants.js';

/** Nesting depth beyond which a type is taken to be cyclic through non-pointer links (corrupt DWARF). */
const MAX_DEPTH = 256;

const layouts = new WeakMap<DwarfType, string>();

function tooDeep(type: DwarfType): never {
  throw new DwarfFormatError('.debug_info', type.offset, 'type refers to itself other than through a pointer');
}

/** The canonical recursive layout string of a type (`void` for undefined). */
export function describeType(type: DwarfType | undefined): string {
  return describe(type, 0);
}

function describe(type: DwarfType | undefined, depth: number): string {
  if (!type) return 'void';
  const known = layouts.get(type);
  if (known !== undefined) return known;
  if (depth > MAX_DEPTH) tooDeep(type);
  const inner = (t: DwarfType | undefined): string => describe(t, depth + 1);
  const size = (n: number | undefined): string => `(${n ?? '?'})`;
  let s: string;
  switch (type.kind) {
    case 'base':
      s = `${type.name ?? '?'}${size(type.byteSize)}`;
      break;
    case 'structure':
    case 'union':
    case 'class': {
      const head = `${type.kind === 'structure' ? 'struct' : type.kind}${type.name ? ` ${type.name}` : ''}`;
      if (type.declaration) {
        s = `${head}{?}`;
        break;
      }
      const members = type.members.map((m) => {
        const at = m.bitSize !== undefined && m.bitOffset !== undefined
          ? `${Math.floor(m.bitOffset / 8)}.${m.bitOffset % 8}/${m.bitSize}`
          : `${m.offset ?? '?'}`;
        return `${m.name ?? ''}@${at}:${inner(m.type)}`;
      });
      s = `${head}{${members.join(';')}}${size(type.byteSize)}`;
      break;
    }
    case 'enumeration': {
      const values = type.enumerators.map((e) => `${e.name}=${e.value}`).join(';');
      s = `enum${type.name ? ` ${type.name}` : ''}{${type.declaration ? '?' : values}}${size(type.byteSize)}`;
      break;
    }
    case 'typedef':
      s = `${type.name ?? '?'}=${inner(type.type)}`;
      break;
    case 'pointer':
    case 'reference':
    case 'rvalue-reference':
      s = `${typeName(type)}${size(type.byteSize)}`;
      break;
    case 'const':
    case 'volatile':
    case 'restrict':
    case 'atomic':
      s = `${type.kind === 'atomic' ? '_Atomic' : type.kind}(${inner(type.type)})`;
      break;
    case 'array':
      s = `${inner(type.type)}${type.dimensions.map((d) => `[${d.lowerBound ? `${d.lowerBound}..` : ''}${d.count ?? ''}]`).join('')}`;
      break;
    case 'subroutine':
      s = `fn(${type.parameters.map(inner).concat(type.variadic ? ['...'] : []).join(',')})->${inner(type.returnType)}`;
      break;
    case 'other':
      s = `${type.name ?? tagName(type.tag)}${size(type.byteSize)}`;
      break;
  }
  layouts.set(type, s);
  return s;
}

/** The C spelling of a type for messages: `struct point`, `int *`, `const char [16]`. */
export function typeName(type: DwarfType | undefined): string {
  return declare(type, '', 0);
}

/** Spells `type` around the declarator `decl` (C's inside-out declarator syntax). */
function declare(type: DwarfType | undefined, decl: string, depth: number): string {
  const around = (base: string): string => (decl ? `${base} ${decl}` : base);
  if (!type) return around('void');
  if (depth > MAX_DEPTH) tooDeep(type);
  switch (type.kind) {
    case 'base':
    case 'typedef':
    case 'other':
      return around(type.name ?? (type.kind === 'other' ? tagName(type.tag) : '?'));
    case 'structure':
    case 'union':
    case 'class':
      return around(`${type.kind === 'structure' ? 'struct' : type.kind} ${type.name ?? '<anonymous>'}`);
    case 'enumeration':
      return around(`enum ${type.name ?? '<anonymous>'}`);
    case 'pointer':
    case 'reference':
    case 'rvalue-reference': {
      const sigil = type.kind === 'pointer' ? '*' : type.kind === 'reference' ? '&' : '&&';
      const wrapped = type.type && (type.type.kind === 'array' || type.type.kind === 'subroutine');
      const d = `${sigil}${decl}`;
      return declare(type.type, wrapped ? `(${d})` : d, depth + 1);
    }
    case 'const':
    case 'volatile':
    case 'restrict':
    case 'atomic': {
      const word = type.kind === 'atomic' ? '_Atomic' : type.kind;
      // A qualified pointer puts the qualifier after the star: `char *const p`.
      if (type.type?.kind === 'pointer') return declare(type.type, `${word}${decl ? ` ${decl}` : ''}`, depth + 1);
      const spelled = declare(type.type, decl, depth + 1);
      // gcc qualifies both an array and its elements (`const char name[16]`); C spells it once.
      return type.type?.kind === 'array' && spelled.startsWith(`${word} `) ? spelled : `${word} ${spelled}`;
    }
    case 'array':
      return declare(type.type, `${decl}${type.dimensions.map((d) => `[${d.count ?? ''}]`).join('')}`, depth + 1);
    case 'subroutine': {
      const params = type.parameters.map((p) => declare(p, '', depth + 1));
      if (type.variadic) params.push('...');
      if (params.length === 0 && type.prototyped) params.push('void');
      return declare(type.returnType, `${decl}(${params.join(', ')})`, depth + 1);
    }
  }
}
