// katana-make patch-since with the object store inside the project root (the default .katana/) and a
// helper program built identically by both revisions, as dash's mkinit and mksyntax are: the
// summary lists the helper as unchanged (both builds linked the same build-id, in two paths), the
// changed program as patched, and nothing from katana's own worktree under .katana/.
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bin } from '../lib/paths.js';

const files = (greeting: string): Record<string, string> => ({
  '.gitignore': '.katana/\n*.o\ngen\nprog\ncount.h\n',
  'gen.c': '#include <stdio.h>\nint main(void) { printf("#define COUNT %d\\n", 3); return 0; }\n',
  'prog.c': [
    '#include <stdio.h>',
    '#include "count.h"',
    `const char *greeting(void) { return "${greeting}"; }`,
    'int main(void) { for (int i = 0; i < COUNT; i++) puts(greeting()); return 0; }',
    '',
  ].join('\n'),
  Makefile: [
    'all: prog',
    'gen: gen.o',
    '\t$(CC) -o $@ gen.o',
    'count.h: gen',
    '\t./gen > $@',
    'prog.o: prog.c count.h',
    '\t$(CC) -O2 -c prog.c -o $@',
    'prog: prog.o',
    '\t$(CC) -o $@ prog.o',
    '%.o: %.c',
    '\t$(CC) -O2 -c $< -o $@',
    '',
  ].join('\n'),
});

const outputs = suite('katana-make patch-since: the outputs of each tree');

outputs('an identical helper is unchanged, the changed program patched, the store\'s worktree not listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'katana-outputs-'));
  try {
    const write = (f: Record<string, string>) => { for (const [name, text] of Object.entries(f)) writeFileSync(join(dir, name), text); };
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=katana', '-c', 'user.email=katana@example.invalid', ...args], { cwd: dir });
    await git('init', '-q');
    write(files('hello'));
    await git('add', '.');
    await git('commit', '-qm', 'v1');
    await git('tag', 'v1');
    write(files('bonjour'));

    const made = await execa(bin('katana-make'), ['patch-since', 'v1', '--json'], { cwd: dir, reject: false });
    assert.is(made.exitCode, 0, made.stderr);
    const report = JSON.parse(made.stdout) as { outputs: { output: string; status: string }[] };
    const summary = report.outputs.map((o) => `${o.status} ${o.output}`).sort();
    assert.equal(summary, ['patched prog', 'unchanged gen'], made.stdout);

    // A second run reuses v1's worktree build (nothing relinked there) and sees the same outputs.
    const again = await execa(bin('katana-make'), ['patch-since', 'v1', '--json'], { cwd: dir, reject: false });
    assert.is(again.exitCode, 0, again.stderr);
    const second = (JSON.parse(again.stdout) as typeof report).outputs.map((o) => `${o.status} ${o.output}`).sort();
    assert.equal(second, ['patched prog', 'unchanged gen'], again.stdout);
  } finally {
    if (process.env.KATANA_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  }
});

outputs.run();
