// Where things are, from a compiled file under integration/dist/.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** integration/cases: one folder per case. */
export const casesDir = join(repoRoot, 'integration', 'cases');
/** The katana binaries as npm links them. */
export const bin = (name: 'katana' | 'katana-cc' | 'katana-c++' | 'katana-make') => join(repoRoot, 'node_modules', '.bin', name);
/** integration/projects: multi-file projects for tests that need more than one main.c. */
export const projectsDir = join(repoRoot, 'integration', 'projects');
