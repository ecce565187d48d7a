// Builds one case of integration/cases the way a user would: v1 with katana-cc, deployed (a stripped
// copy when the case says so), v2 from fix.patch, then `katana diff --old v1 --new v2 -o fix.po`.
// Shared by the test that runs each case (cases.test.ts) and the one that reads each PO with other
// tools (po-readable.test.ts).
import { execa } from 'execa';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseSpec } from './cases.js';
import { katana, type CliResult } from './katana.js';
import { TempProject } from './project.js';

/** A built case: its project (the caller removes it), the executables, the PO path and how diff went. */
export interface CaseBuild {
  project: TempProject;
  v1: string;
  v2: string;
  /** The file to run: v1, or its stripped copy. */
  deployed: string;
  /** Where `katana diff` wrote (or would have written) the PO. */
  po: string;
  diff: CliResult;
}

/** Builds v1 and v2 of `spec` in a fresh TempProject and runs katana diff; removes the project if a step throws. */
export async function buildCase(spec: CaseSpec): Promise<CaseBuild> {
  const project = new TempProject(spec.name);
  try {
    for (const file of spec.files) project.copyIn(join(spec.dir, file), file);
    const v1 = await project.build(spec.sources, 'prog', spec.cflags, spec.ldflags);
    const deployed = join(project.dir, 'deployed');
    if (spec.deploy === 'strip') await execa('strip', ['-o', deployed, v1]);
    else copyFileSync(v1, deployed);
    await project.patch(join(spec.dir, 'fix.patch'));
    const v2 = await project.build(spec.sources, 'prog-v2', spec.cflags, spec.ldflags);
    const po = join(project.dir, 'fix.po');
    const diff = await katana(['diff', '--old', v1, '--new', v2, '-o', po], project.dir, project.env);
    return { project, v1, v2, deployed, po, diff };
  } catch (error) {
    project.remove();
    throw error;
  }
}
