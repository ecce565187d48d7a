// Reads the case folders under integration/cases: main.c (v1), fix.patch (v1 -> v2), desc, case.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { casesDir } from './paths.js';

export interface CaseSpec {
  name: string;
  dir: string;
  desc: string;
  cflags: string[];
  ldflags: string[];
  /** 'strip': deploy a stripped copy, as the blog post does. */
  deploy?: 'strip';
  before: string;
  after?: string;
  /** The first capture group of `before`/`after` is a counter that must carry on across the patch. */
  counterCarries?: boolean;
  /** Lines the patch does not touch, which may appear before and after it. */
  unaffected?: string;
  changed?: string[];
  added?: string[];
  newVariables?: string[];
  externals?: string[];
  diffExit?: number;
  diffError?: string;
  /** Set for cases where apply must refuse: its exit code and a pattern of its message. */
  applyExit?: number;
  applyError?: string;
}

/** Every case, sorted by name. */
export function loadCases(): CaseSpec[] {
  return readdirSync(casesDir)
    .filter((name) => existsSync(join(casesDir, name, 'case.json')))
    .sort()
    .map((name) => {
      const dir = join(casesDir, name);
      const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
      return { name, dir, desc: readFileSync(join(dir, 'desc'), 'utf8').trim(), ...spec };
    });
}
