// The PatchObjects diffBuilds makes are valid: @katana/po writes them, reads them back equal, and
// readelf reads the written file without a warning; its .eh_frame, decoded by readelf, has one FDE
// per function of .text.new covering exactly that function's bytes.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dequal } from 'dequal';
import { type PatchObject, readPatchObject, writePatchObject } from '@katana/po';
import { diffBuilds } from '../src/index.js';
import { build, workspace, type BuildFlags, type Workspace } from './build.js';

const written = suite<{ ws: Workspace }>('diffBuilds output');
written.before.each((ctx) => {
  ctx.ws = workspace();
});
written.after.each((ctx) => ctx.ws.dispose());

const CASES: [string, BuildFlags][] = [
  ['changed_function', {}],
  ['string_literal', { opt: '-O0' }],
  ['string_literal', { opt: '-O2' }],
  ['static_local', {}],
  ['new_global', {}],
  ['libc_call', { opt: '-O2' }],
  ['clone', { opt: '-O2' }],
  ['cold', { opt: '-O2' }],
];

/** The PO with symbol indices replaced by the symbols (the writer may order .symtab differently). */
function resolved(po: PatchObject) {
  const at = (i: number | undefined) => (i === undefined ? undefined : po.symbols[i]);
  return {
    ...po,
    symbols: [...po.symbols].sort((a, b) => `${a.name} ${a.file}`.localeCompare(`${b.name} ${b.file}`)),
    relocations: po.relocations.map((r) => ({ ...r, symbol: at(r.symbol) })),
    functions: po.functions.map((f) => ({ ...f, file: undefined, symbol: at(f.symbol) })),
    unsafe: po.unsafe.map((u) => ({ ...u, redirectTo: at(u.redirectTo) })),
  };
}

/** readelf --debug-dump=frames reads the PO cleanly and shows one FDE per function, at its offset in .text.new. */
function assertFramesCoverFunctions(file: string, po: PatchObject): void {
  const r = spawnSync('readelf', ['-W', '--debug-dump=frames', file], { encoding: 'utf8' });
  assert.is(r.status, 0, 'readelf --debug-dump=frames exit status');
  assert.is(r.stderr, '', 'readelf --debug-dump=frames stderr');
  assert.not.match(r.stdout, /warning/i);
  // With relocations applied, an FDE's pc range is its function's offset in .text.new.
  const ranges = [...r.stdout.matchAll(/FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/g)].map((m) => `${parseInt(m[1]!, 16)}..${parseInt(m[2]!, 16)}`);
  const expected = po.functions.map((f) => {
    const offset = po.symbols[f.symbol]!.defined!.offset;
    return `${offset}..${offset + f.size}`;
  });
  assert.equal(ranges.sort(), expected.sort(), `FDE ranges in:\n${r.stdout}`);
  assert.match(r.stdout, /ZERO terminator/);
}

for (const [fixture, flags] of CASES) {
  written(`${fixture} ${flags.opt ?? ''}: round-trips through the PO writer and reads cleanly with readelf`, ({ ws }) => {
    const v1 = build(ws, fixture, 'v1', flags);
    const v2 = build(ws, fixture, 'v2', flags);
    const { po } = diffBuilds({ old: v1.exe, new: v2.exe, store: ws.store });
    const bytes = writePatchObject(po);
    // The reader may add symbols (the writer names replaced functions); everything made is kept.
    // PatchFunction.file is left out: @katana/po does not carry it for global functions yet.
    const back = resolved(readPatchObject(bytes));
    const made = resolved(po);
    for (const symbol of made.symbols) assert.ok(back.symbols.some((s) => dequal(s, symbol)), `symbol ${symbol.name} survives`);
    assert.equal({ ...back, symbols: [] }, { ...made, symbols: [] });
    const file = join(ws.root, 'fix.po');
    writeFileSync(file, bytes);
    let out: { stderr: string };
    try {
      execFileSync('readelf', ['-W', '-a', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      out = { stderr: '' };
    } catch (cause) {
      out = { stderr: String((cause as { stderr?: Buffer }).stderr ?? cause) };
    }
    assert.is(out.stderr, '', 'readelf -W -a prints no warning');
    assertFramesCoverFunctions(file, po);
  });
}

written.run();
