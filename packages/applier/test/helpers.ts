// Test helpers: a fresh temp dir per suite, gcc with a clear failure when it is missing, a target
// program run as a child whose stdout we watch, and a Patch Object built by hand from one function
// section of a real object file (what the emitter would produce for a one-function change).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElfFile, SHN_UNDEF, STT_SECTION, readBuildId } from '@katana/elf';
import type { PatchObject, PoSymbol } from '@katana/po';

/** packages/applier/ */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
/** packages/applier/test/fixtures/<name> */
export function fixture(name: string): string {
  return join(packageRoot, 'test', 'fixtures', name);
}

/** A fresh temp dir and its cleanup (kept with KATANA_KEEP_TMP=1). */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'katana-applier-'));
  return { dir, remove: () => (process.env.KATANA_KEEP_TMP === '1' ? undefined : rmSync(dir, { recursive: true, force: true })) };
}

/** Runs gcc with `args`; throws with gcc's stderr on failure. */
export function gcc(args: string[]): void {
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`gcc is needed by this test and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A running target program whose stdout is collected. */
export class Target {
  readonly child: ChildProcess;
  output = '';

  constructor(path: string) {
    this.child = spawn(path, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => (this.output += chunk));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once the output (after `from` characters) matches `pattern`; fails after a generous deadline. */
  async waitFor(pattern: RegExp, from = 0): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!pattern.test(this.output.slice(from))) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`target ${this.pid} ended (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}; it printed:\n${this.output.slice(-500)}`);
      }
      if (Date.now() > deadline) throw new Error(`target ${this.pid} never printed ${pattern}; it printed:\n${this.output.slice(-500)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** True while the process exists and has not exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/**
 * A PatchObject replacing function `fn` of the executable `oldExe` with the code of section
 * `.text.<fn>` of the object `objPath`. String literals (.rodata*) come along; undefined symbols
 * defined in the old executable get its link-time value, the others are left to dynamic lookup.
 */
export function patchFromObject(objPath: string, fn: string, oldExe: string): PatchObject {
  const obj = ElfFile.open(objPath);
  const old = ElfFile.open(oldExe);
  const text = obj.section(`.text.${fn}`);
  if (text === undefined) throw new Error(`${objPath} has no .text.${fn}`);
  const rodataOffset = new Map<number, number>();
  let rodataSize = 0;
  for (const s of obj.sections) {
    if (!s.name.startsWith('.rodata')) continue;
    const align = Math.max(s.addralign, 1);
    rodataSize = Math.ceil(rodataSize / align) * align;
    rodataOffset.set(s.index, rodataSize);
    rodataSize += s.size;
  }
  const rodata = new Uint8Array(rodataSize);
  for (const [index, offset] of rodataOffset) rodata.set(obj.sections[index]!.data(), offset);
  const objSymbols = obj.symbols();
  const oldSymbols = old.symbols();
  const fnSym = objSymbols.find((s) => s.name === fn && s.shndx === text.index)!;
  const oldFn = oldSymbols.find((s) => s.name === fn && s.shndx !== SHN_UNDEF)!;
  const symbols: PoSymbol[] = [{ name: fn, type: 'func', bind: 'global', size: fnSym.size, defined: { section: 'text', offset: Number(fnSym.value) } }];
  const poIndex = new Map<number, number>([[fnSym.index, 0]]);
  const symbolFor = (index: number): number => {
    const known = poIndex.get(index);
    if (known !== undefined) return known;
    const s = objSymbols[index]!;
    let sym: PoSymbol;
    if (s.type === STT_SECTION && rodataOffset.has(s.shndx)) {
      sym = { name: obj.sections[s.shndx]!.name, type: 'section', bind: 'local', size: 0, defined: { section: 'rodata', offset: rodataOffset.get(s.shndx)! } };
    } else if (s.shndx === SHN_UNDEF) {
      const inOld = oldSymbols.find((o) => o.name === s.name && o.shndx !== SHN_UNDEF && o.value !== 0n);
      sym = { name: s.name, type: 'notype', bind: 'global', size: 0, target: inOld === undefined ? {} : { value: inOld.value } };
    } else {
      throw new Error(`patchFromObject does not handle symbol ${s.name} of ${objPath}`);
    }
    symbols.push(sym);
    poIndex.set(index, symbols.length - 1);
    return symbols.length - 1;
  };
  const relocations = obj.relocationsFor(text).map((r) => ({
    section: 'text' as const, offset: Number(r.offset), type: r.type, symbol: symbolFor(r.symbolIndex), addend: r.addend,
  }));
  return {
    targetBuildId: readBuildId(oldExe)!,
    targetName: 'value',
    text: text.data().slice(),
    rodata,
    data: new Uint8Array(0),
    bssSize: 0,
    symbols,
    relocations,
    functions: [{ symbol: 0, name: fn, file: 'value.c', size: text.size, replaces: { address: oldFn.value, size: oldFn.size } }],
    unsafe: [],
  };
}
