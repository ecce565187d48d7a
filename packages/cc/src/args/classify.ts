// Reads a gcc-style argument list the way the gcc driver does and says what the call will do:
// answer a probe (--version, -print-*), only preprocess (-E, -M), only emit assembly (-S), compile
// to objects (-c), or compile and/or link. It also lists the inputs in order (sources with their
// language, other files, -l libraries) and where -o and -x sit, so that katana-cc can rewrite a
// one-step compile-and-link. Pure: response files must be expanded beforehand (response.ts).
//
// Precedence follows gcc: a probe wins over everything, then -E/-M, -fsyntax-only, -S, -c.

/** The driver that received the arguments: gcc treats `.c` and `.i` as C++ under g++. */
export type Driver = 'c' | 'c++';
/** A source language katana-cc records objects for. */
export type Language = 'c' | 'c++' | 'asm';

/** What the compiler call does; only 'compile' and 'link' produce something katana-cc records. */
export type Action = 'probe' | 'preprocess' | 'assemble-only' | 'compile' | 'link' | 'none';

/** A source file: compiled to an object by this call. `at` is its index in the argument list. */
export interface SourceInput {
  kind: 'source';
  path: string;
  language: Language;
  /** the `-x` language in effect for it (e.g. 'c'), undefined when taken from its extension */
  forced: string | undefined;
  at: number;
}
/** A non-source input file given to the linker: object, archive, shared library, linker script. */
export interface FileInput { kind: 'file'; path: string; at: number }
/** A `-lname` or `-l name` library; `at` holds the index of each argument it spans. */
export interface LibraryInput { kind: 'library'; arg: string; at: number[] }
export type Input = SourceInput | FileInput | LibraryInput;

export interface Classification {
  action: Action;
  /** why the call is not compile/link (e.g. '--version', 'no input files'), '' otherwise */
  reason: string;
  /** every input in command-line order */
  inputs: Input[];
  sources: SourceInput[];
  /** the `-o` target as written, undefined when absent */
  output: string | undefined;
  /** indexes of the `-o` option and its value */
  outputAt: number[];
  /** indexes of every `-x` option and its value */
  languageAt: number[];
  linkKind: 'executable' | 'shared' | 'relocatable';
  /** the `-L` folders, in order (where the linker looks for `-l` libraries before its own) */
  libraryDirs: string[];
  /** `-static`: `-l` libraries resolve to archives only */
  staticLink: boolean;
}

// Options whose value is the next argument when written alone (gcc `Separate` options).
const SEPARATE = new Set([
  '-o', '--output', '-x', '-l', '-MF', '-MT', '-MQ', '-I', '-D', '-U', '-include', '-imacros',
  '-idirafter', '-iprefix', '-iwithprefix', '-iwithprefixbefore', '-isystem', '-isysroot',
  '-iquote', '-imultilib', '-imultiarch', '-L', '-Xlinker', '-Xassembler', '-Xpreprocessor',
  '-T', '-u', '-z', '-e', '--entry', '-aux-info', '--param', '-A', '-B', '-dumpbase',
  '-dumpbase-ext', '-dumpdir', '--sysroot', '-wrapper',
]);

const PROBES = new Set([
  '--version', '-dumpversion', '-dumpfullversion', '-dumpmachine', '-dumpspecs', '--help',
  '--target-help', '-###',
]);

type Kind = Language | 'header' | 'unsupported';

// gcc -x names (gcc/doc/invoke.texi, "Options Controlling the Kind of Output").
const X_LANGUAGES: Record<string, Kind> = {
  c: 'c', 'cpp-output': 'c', 'c++': 'c++', 'c++-cpp-output': 'c++',
  assembler: 'asm', 'assembler-with-cpp': 'asm', 'c-header': 'header', 'c++-header': 'header',
};

/** The language gcc infers from a file name, undefined for linker inputs. */
export function languageOfPath(path: string, driver: Driver): Kind | undefined {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return undefined;
  const ext = path.slice(dot);
  switch (ext) {
    case '.c': case '.i':
      return driver === 'c++' ? 'c++' : 'c';
    case '.cc': case '.cp': case '.cxx': case '.cpp': case '.CPP': case '.c++': case '.C': case '.ii':
      return 'c++';
    case '.s': case '.S': case '.sx':
      return 'asm';
    case '.h': case '.hh': case '.H': case '.hp': case '.hxx': case '.hpp': case '.HPP': case '.h++':
      return 'header';
    default:
      return undefined;
  }
}

function isProbe(arg: string): boolean {
  return PROBES.has(arg) || arg.startsWith('--help=') || arg.startsWith('-print-') ||
    arg.startsWith('--print-');
}

/** Classifies an (already response-file-expanded) argument list as the gcc driver would read it. */
export function classifyArgs(args: readonly string[], driver: Driver): Classification {
  const inputs: Input[] = [];
  const outputAt: number[] = [];
  const languageAt: number[] = [];
  let output: string | undefined;
  let forced: string | undefined;
  let probe = '';
  let verbose = false;
  let preprocess = '';
  let syntaxOnly = false;
  let assembleOnly = false;
  let compileOnly = false;
  let unsupported = '';
  let linkKind: Classification['linkKind'] = 'executable';
  const libraryDirs: string[] = [];
  let staticLink = false;

  const addFile = (path: string, at: number): void => {
    const kind = forced !== undefined ? X_LANGUAGES[forced] ?? 'unsupported' : languageOfPath(path, driver);
    if (path === '-') unsupported ||= 'source read from standard input';
    if (kind === 'header') unsupported ||= `precompiled header ${path}`;
    else if (kind === 'unsupported') unsupported ||= `language ${forced} of ${path}`;
    else if (kind !== undefined) {
      inputs.push({ kind: 'source', path, language: kind, forced, at });
      return;
    }
    inputs.push({ kind: 'file', path, at });
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const hasNext = i + 1 < args.length;
    if (!arg.startsWith('-') || arg === '-') {
      addFile(arg, i);
      continue;
    }
    if (isProbe(arg)) probe ||= arg;
    else if (arg === '-v') verbose = true;
    else if (arg === '-E' || arg === '-M' || arg === '-MM') preprocess ||= arg;
    else if (arg === '-fsyntax-only') syntaxOnly = true;
    else if (arg === '-S') assembleOnly = true;
    else if (arg === '-c') compileOnly = true;
    else if (arg === '-shared') linkKind = 'shared';
    else if (arg === '-r') linkKind = 'relocatable';
    else if (arg === '-static' || arg === '-static-pie') staticLink = true;
    else if (arg === '-L' && hasNext) libraryDirs.push(args[i + 1]!);
    else if (arg.startsWith('-L') && arg !== '-L') libraryDirs.push(arg.slice(2));
    if (arg === '-o' || arg === '--output') {
      if (hasNext) { output = args[i + 1]; outputAt.push(i, i + 1); }
    } else if (arg.startsWith('--output=')) {
      output = arg.slice('--output='.length); outputAt.push(i);
    } else if (arg.startsWith('-o')) {
      output = arg.slice(2); outputAt.push(i);
    } else if (arg === '-x') {
      if (hasNext) { forced = args[i + 1] === 'none' ? undefined : args[i + 1]; languageAt.push(i, i + 1); }
    } else if (arg.startsWith('-x')) {
      forced = arg === '-xnone' ? undefined : arg.slice(2); languageAt.push(i);
    } else if (arg === '-l') {
      if (hasNext) inputs.push({ kind: 'library', arg: `-l${args[i + 1]}`, at: [i, i + 1] });
    } else if (arg.startsWith('-l')) {
      inputs.push({ kind: 'library', arg, at: [i] });
    }
    if (SEPARATE.has(arg)) i++;
  }

  const sources = inputs.filter((x): x is SourceInput => x.kind === 'source');
  const result = (action: Action, reason: string): Classification =>
    ({ action, reason, inputs, sources, output, outputAt, languageAt, linkKind, libraryDirs, staticLink });
  if (probe) return result('probe', probe);
  if (inputs.length === 0) return result(verbose ? 'probe' : 'none', verbose ? '-v' : 'no input files');
  if (preprocess) return result('preprocess', preprocess);
  if (syntaxOnly) return result('none', '-fsyntax-only');
  if (assembleOnly) return result('assemble-only', '-S');
  if (unsupported) return result('none', unsupported);
  if (compileOnly) return sources.length ? result('compile', '') : result('none', 'no source to compile');
  return result('link', '');
}
