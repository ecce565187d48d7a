// katana-cc / katana-c++: a drop-in `cc` / `c++` that records every object it builds; also a
// launcher (`katana-cc gcc -c a.c`, see launcher.ts).
//   probe, -E/-M, -S, nothing to record  -> the real compiler with the arguments untouched
//   compile only (-c)                    -> real compiler + compile flags; record each object
//   link only (no sources)               -> real compiler + -Wl,--build-id; record the link
//   compile and link (sources, no -c)    -> compile each source into a private temp folder with
//                                           -c, link those objects in place of the sources, then
//                                           record the objects and the link
// The real compiler's output and exit status are katana-cc's; nothing is recorded if it fails.
// A failure of katana-cc itself prints one line `katana-cc: ...` and exits 1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { isKatanaError } from '@katana/errors';
import { classifyArgs, type Classification, type Driver, type SourceInput } from '../args/classify.js';
import { expandResponseFiles } from '../args/response.js';
import { ObjectStore } from '../store.js';
import { compileFlags, LINK_FLAGS, prefixRoots } from './flags.js';
import { detectLauncher } from './launcher.js';
import { recordLink, recordObject, type LinkInput, type RecordContext } from './record.js';
import { runCompiler } from './run.js';

/** Runs katana-cc (driver 'c') or katana-c++ (driver 'c++') on argv and returns the exit status. */
export async function runWrapper(driver: Driver, argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  const name = driver === 'c' ? 'katana-cc' : 'katana-c++';
  const verbose = Boolean(env['KATANA_VERBOSE']) && env['KATANA_VERBOSE'] !== '0';
  const log = (message: string): void => {
    if (verbose) process.stderr.write(`${name}: ${message}\n`);
  };
  try {
    const launch = detectLauncher(argv, cwd, env);
    const compiler = launch?.compiler ??
      ((driver === 'c' ? env['KATANA_REAL_CC'] : env['KATANA_REAL_CXX']) || (driver === 'c' ? 'cc' : 'c++'));
    const args = launch?.args ?? argv;
    if (launch) log(`launcher mode: running ${launch.compiler}`);
    const expanded = expandResponseFiles(args, cwd);
    const cls = classifyArgs(expanded, launch?.driver ?? driver);
    if ((cls.action !== 'compile' && cls.action !== 'link') || isSpecialOutput(cls.output)) {
      log(`passing through (${cls.reason || `output ${cls.output}`})`);
      return runCompiler(compiler, args, cwd);
    }
    const ctx: RecordContext = { store: ObjectStore.locate({ cwd, env }), compiler, args, cwd, log };
    const flags = compileFlags(expanded, prefixRoots(cwd, env));
    if (cls.action === 'compile') return compileOnly(ctx, cls, flags);
    if (cls.sources.length === 0) return await linkOnly(ctx, cls);
    return await compileAndLink(ctx, cls, expanded, flags);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${name}: ${isKatanaError(error) ? '' : 'internal error: '}${message}\n`);
    return 1;
  }
}

// Outputs that are not files katana-cc could record: -o /dev/null, -o - (stdout).
function isSpecialOutput(output: string | undefined): boolean {
  return output !== undefined && (output === '-' || output.startsWith('/dev/'));
}

// The object gcc writes for a source under -c without -o: its base name with .o, in the cwd.
function defaultObject(source: string): string {
  return `${basename(source, extname(source))}.o`;
}

function compileOnly(ctx: RecordContext, cls: Classification, flags: string[]): number {
  ctx.log(`added ${flags.join(' ')}`);
  const status = runCompiler(ctx.compiler, [...flags, ...ctx.args], ctx.cwd);
  if (status !== 0) return status;
  for (const source of cls.sources) {
    const object = cls.output !== undefined && cls.sources.length === 1 ? cls.output : defaultObject(source.path);
    recordObject(ctx, source, resolve(ctx.cwd, object), object);
  }
  return 0;
}

async function linkOnly(ctx: RecordContext, cls: Classification): Promise<number> {
  ctx.log(`added ${LINK_FLAGS.join(' ')}`);
  const status = runCompiler(ctx.compiler, [...LINK_FLAGS, ...ctx.args], ctx.cwd);
  if (status !== 0) return status;
  await recordLink(ctx, cls.output ?? 'a.out', cls.linkKind, cls.inputs, cls);
  return 0;
}

// The arguments that compile one source of a compile-and-link call: every option of the call,
// without the inputs, -o and -x, then the source (with its -x language, if any) and -c -o object.
function compileArgs(expanded: string[], cls: Classification, source: SourceInput, object: string): string[] {
  const drop = new Set([...cls.outputAt, ...cls.languageAt, ...cls.inputs.flatMap((x) => x.at)]);
  const options = expanded.filter((_, i) => !drop.has(i));
  const language = source.forced !== undefined ? ['-x', source.forced] : [];
  return [...options, ...language, source.path, '-c', '-o', object];
}

// The link arguments: the call's own, each source replaced by its object and -x dropped (it
// would make the driver read the objects as source text), input order preserved.
function linkArgs(expanded: string[], cls: Classification, objects: Map<number, string>): string[] {
  const drop = new Set(cls.languageAt);
  return expanded.flatMap((arg, i) => (drop.has(i) ? [] : [objects.get(i) ?? arg]));
}

async function compileAndLink(ctx: RecordContext, cls: Classification, expanded: string[], flags: string[]): Promise<number> {
  const temp = mkdtempSync(join(tmpdir(), 'katana-cc-'));
  try {
    const objects = new Map<number, string>();
    for (const [n, source] of cls.sources.entries()) {
      const object = join(temp, `${n}-${defaultObject(source.path)}`);
      const args = [...flags, ...compileArgs(expanded, cls, source, object)];
      ctx.log(`compiling ${source.path}: ${ctx.compiler} ${args.join(' ')}`);
      const status = runCompiler(ctx.compiler, args, ctx.cwd);
      if (status !== 0) return status;
      objects.set(source.at, object);
    }
    const args = [...LINK_FLAGS, ...linkArgs(expanded, cls, objects)];
    ctx.log(`linking: ${ctx.compiler} ${args.join(' ')}`);
    const status = runCompiler(ctx.compiler, args, ctx.cwd);
    if (status !== 0) return status;
    const output = cls.output ?? 'a.out';
    const inputs: LinkInput[] = [];
    for (const input of cls.inputs) {
      const hash = input.kind === 'source' ? recordObject(ctx, input, objects.get(input.at)!, output) : undefined;
      inputs.push(input.kind === 'source' && hash !== undefined ? { kind: 'compiled', source: input.path, hash } : input);
    }
    await recordLink(ctx, output, cls.linkKind, inputs, cls);
    return 0;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
