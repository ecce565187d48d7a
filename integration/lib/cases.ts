// Reads the case folders under integration/cases: the sources of v1 (main.c, or the `sources` and
// headers of a C++ case), fix.patch (v1 -> v2), desc, case.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { casesDir } from './paths.js';

export interface CaseSpec {
  name: string;
  dir: string;
  desc: string;
  /** The files compiled and linked into the program, in link order (default: main.c). */
  sources: string[];
  /** Every file of v1 copied into the project: the sources and the headers they include. */
  files: string[];
  cflags: string[];
  ldflags: string[];
  /** 'strip': deploy a stripped copy, as the blog post does. */
  deploy?: 'strip';
  before: string;
  after?: string;
  /** A pattern the first patched line must match (e.g. a new struct member at its initializer's value). */
  firstAfter?: string;
  /**
   * Variables the PO moves to new storage through a transformation (`katana inspect`'s `transformed`,
   * named by the apply report); [] when it must move none. Cases with this field are data-patching
   * cases, whose POs po-readable.test.ts reads with readelf, dwarfdump and llvm-dwarfdump.
   */
  transformed?: string[];
  /** The first capture group of `before`/`after` is a counter that must carry on across the patch. */
  counterCarries?: boolean;
  /** Lines the patch does not touch, which may appear before and after it. */
  unaffected?: string;
  /** Changed functions, as `katana inspect` shows them (C++ names demangled). */
  changed?: string[];
  /** The patch carries no data: no new variable, nothing in .rodata.new/.data.new/.bss.new (vtables, typeinfo stay the target's). */
  codeOnly?: boolean;
  added?: string[];
  newVariables?: string[];
  externals?: string[];
  diffExit?: number;
  diffError?: string;
  /** Set for cases where apply must refuse: its exit code and a pattern of its message. */
  applyExit?: number;
  applyError?: string;
  /** A regex the output of a successful `katana apply` must match (what moved, for data patches). */
  applyOutput?: string;
}

// The files that describe a case rather than make up its program.
const CASE_FILES = new Set(['case.json', 'desc', 'fix.patch']);

/** Every case, sorted by name. */
export function loadCases(): CaseSpec[] {
  return readdirSync(casesDir)
    .filter((name) => existsSync(join(casesDir, name, 'case.json')))
    .sort()
    .map((name) => {
      const dir = join(casesDir, name);
      const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
      const files = readdirSync(dir).filter((f) => !CASE_FILES.has(f)).sort();
      return { name, dir, desc: readFileSync(join(dir, 'desc'), 'utf8').trim(), sources: ['main.c'], files, ...spec };
    });
}
