// loadInputs through diffBuilds: folders of objects instead of linked files.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffBuilds, EmitterError } from '../src/index.js';
import { build, workspace, type Workspace } from './build.js';

const folders = suite<{ ws: Workspace }>('loadInputs (folders)');
folders.before.each((ctx) => {
  ctx.ws = workspace();
});
folders.after.each((ctx) => ctx.ws.dispose());

folders('pairs the .o files of two folders by path and takes symbols from the target', ({ ws }) => {
  const v1 = build(ws, 'changed_function', 'v1');
  const v2 = build(ws, 'changed_function', 'v2');
  const fromFolders = diffBuilds({ old: v1.dir, new: v2.dir, target: v1.exe, store: ws.store });
  const fromLinks = diffBuilds({ old: v1.exe, new: v2.exe, store: ws.store });
  assert.equal(fromFolders.po, fromLinks.po);
  assert.equal(fromFolders.report.changed.map((c) => c.file), ['util.c']);
});

folders('requires the old executable when OLD is a folder', ({ ws }) => {
  const v1 = build(ws, 'changed_function', 'v1');
  const v2 = build(ws, 'changed_function', 'v2');
  assert.throws(() => diffBuilds({ old: v1.dir, new: v2.dir, store: ws.store }), (e: unknown) => e instanceof EmitterError && e.code === 'E_EMITTER_INPUT' && e.message.includes('target'));
});

folders('refuses a path that is not ELF', ({ ws }) => {
  const v1 = build(ws, 'changed_function', 'v1');
  assert.throws(() => diffBuilds({ old: `${v1.dir}/main.c`, new: v1.exe, store: ws.store }), (e: unknown) => e instanceof EmitterError && e.message.includes('main.c'));
});

folders.run();
