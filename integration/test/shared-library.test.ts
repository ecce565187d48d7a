// A function in a shared library, patched in running programs: libfoo.so is built with katana-cc
// -shared -fPIC (integration/projects/shared_library); `katana diff` of two builds of the library
// gives a PO for the library's build-id; the applier finds the library among the process's mappings,
// in a program linked against it and in one that dlopen()s it, and both switch. The new code calls a
// static function of the library (which calls strlen, an IFUNC the library imports), a global one,
// reads the library's static counter (which carries on), and calls printf, fflush and toupper (a libc
// function the library never called). A process that has not loaded the library is refused.
import { execa } from 'execa';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertToolsReadCleanly, readMaps } from '../lib/checks.js';
import { katana } from '../lib/katana.js';
import { bin, casesDir, projectsDir } from '../lib/paths.js';
import { TempProject } from '../lib/project.js';
import { RunningTarget } from '../lib/target.js';

interface Context {
  project: TempProject;
  deploy: string;
  po: string;
  libraryBuildId: string;
}

const source = join(projectsDir, 'shared_library');
const shared = suite<Context>('a function in a shared library');

shared.before(async (context) => {
  try {
    const project = (context.project = new TempProject('shared-library'));
    const cc = (args: string[]) => execa(bin('katana-cc'), args, { cwd: project.dir, env: project.env });
    for (const file of ['foo.c', 'main.c', 'dlopen.c']) project.copyIn(join(source, file), file);
    context.deploy = join(project.dir, 'deploy');
    mkdirSync(context.deploy);
    await cc(['-O0', '-fPIC', '-c', 'foo.c', '-o', 'foo.o']);
    await cc(['-shared', '-o', 'deploy/libfoo.so', 'foo.o']);
    await cc(['-O0', '-c', 'main.c', '-o', 'main.o']);
    await cc(['-o', 'deploy/prog', 'main.o', '-Ldeploy', '-lfoo', '-Wl,-rpath,$ORIGIN']);
    await cc(['-O0', '-c', 'dlopen.c', '-o', 'dlopen.o']);
    await cc(['-o', 'deploy/loader', 'dlopen.o', '-ldl']);
    await project.patch(join(source, 'fix.patch'));
    await cc(['-O0', '-fPIC', '-c', 'foo.c', '-o', 'foo.o']);
    await cc(['-shared', '-o', 'libfoo-v2.so', 'foo.o']);
    context.po = join(project.dir, 'foo.po');
    const diff = await katana(['diff', '--old', join(context.deploy, 'libfoo.so'), '--new', 'libfoo-v2.so', '-o', context.po, '--json'], project.dir, project.env);
    assert.is(diff.exitCode, 0, `katana diff: ${diff.stderr}`);
    context.libraryBuildId = JSON.parse(diff.stdout).targetBuildId;
    await assertToolsReadCleanly(context.po);
  } catch (error) {
    // uvu swallows errors thrown by hooks; print it so the failure says why.
    console.error('setting up the shared-library test failed:', error);
    throw error;
  }
});

shared.after((context) => {
  context.project?.remove();
});

shared('the PO names the library by its build-id and needs the libc functions by name', async (context) => {
  const { stdout: notes } = await execa('readelf', ['-n', join(context.deploy, 'libfoo.so')]);
  assert.match(notes, new RegExp(`Build ID: ${context.libraryBuildId}`));
  const inspect = await katana(['inspect', '--json', context.po], context.project.dir);
  const description = JSON.parse(inspect.stdout);
  assert.equal(description.target, { name: 'libfoo.so', buildId: context.libraryBuildId });
  assert.equal(description.changed.map((f: { name: string }) => f.name).sort(), ['foo_report', 'foo_score']);
  for (const name of ['toupper', 'printf']) assert.ok(description.externals.some((e: { name: string }) => e.name === name), `external ${name}`);
});

/** Starts `args`, checks it prints `before`, applies the PO, and checks every later line is patched and the counter carries on. */
async function patchRunning(context: Context, args: string[], word: string): Promise<void> {
  const before = new RegExp(`^${word} scores 60 \\(call (\\d+)\\)$`);
  const after = new RegExp(`^${word} scores 601 \\(call (\\d+), ${word[0]!.toUpperCase()}\\)$`);
  const target = new RunningTarget(args[0]!, args.slice(1));
  try {
    await target.waitForLine(before, 3);
    const apply = await katana(['apply', '--pid', String(target.pid), context.po], context.project.dir);
    assert.is(apply.exitCode, 0, apply.stderr);
    const first = await target.waitForLine(after);
    await target.waitForLine(after, first + 10);
    assert.equal(target.lines.slice(first).filter((l) => !after.test(l)), [], 'old output after the switch');
    const last = target.lines.slice(0, first).filter((l) => before.test(l)).pop()!;
    assert.is(Number(after.exec(target.lines[first]!)![1]), Number(before.exec(last)![1]) + 1, `the library's counter carries on (${last} -> ${target.lines[first]})`);
    // The area lies within rel32 reach of the library (its trampolines jump there).
    const listed = JSON.parse((await katana(['list', '--pid', String(target.pid), '--json'], context.project.dir)).stdout).patches;
    const library = readMaps(target.pid).split('\n').filter((l) => l.endsWith('/deploy/libfoo.so')).map((l) => BigInt(`0x${l.split('-')[0]}`));
    const area = BigInt(listed[0].area.start);
    const distance = area > library[0]! ? area - library[0]! : library[0]! - area;
    assert.ok(distance < 1n << 31n, `area 0x${area.toString(16)} near libfoo.so at 0x${library[0]!.toString(16)}`);
    assert.ok(target.alive, 'target survived');
  } finally {
    target.kill();
  }
}

shared('a program linked against the library switches, calling into the library and libc', async (context) => {
  await patchRunning(context, [join(context.deploy, 'prog')], 'katana');
});

shared('a program that dlopen()ed the library switches too', async (context) => {
  await patchRunning(context, [join(context.deploy, 'loader'), join(context.deploy, 'libfoo.so')], 'dlopen');
});

shared('a process that has not loaded the library is refused, naming it, and left untouched', async (context) => {
  const project = new TempProject('shared-library-other');
  let target: RunningTarget | undefined;
  try {
    project.copyIn(join(casesDir, 'pie_aslr', 'main.c'), 'main.c');
    const other = await project.build(['main.c'], 'other', ['-O0'], []);
    copyFileSync(join(context.deploy, 'libfoo.so'), join(project.dir, 'libfoo.so'));
    target = new RunningTarget(other);
    await target.waitForLine(/^tick \d+ status \d$/);
    const maps = readMaps(target.pid);
    const r = await katana(['apply', '--pid', String(target.pid), context.po], context.project.dir);
    assert.is(r.exitCode, 1, r.stderr);
    assert.is(r.stderr, `katana: foo.po is for the library libfoo.so (build-id ${context.libraryBuildId}), which pid ${target.pid} has not loaded`);
    assert.is(readMaps(target.pid), maps);
    assert.ok(target.alive);
  } finally {
    target?.kill();
    project.remove();
  }
});

shared.run();
