// @katana/emitter: diff two builds into a Patch Object. The pipeline, named after kpatch's verbs:
// inputs (find and pair the objects of OLD and NEW) → correlate (pair their symbols) → compare
// (decide which functions changed) → mark (choose the functions of the patch) → migrate (plan the
// transformation of variables whose type changed, refuse what cannot be moved) → markDataUsers (their
// users join the patch) → include (bind every reference, copy what travels with the code) →
// create (the PatchObject value).
import { basename } from 'node:path';
import { ObjectStore } from '@katana/cc';
import type { PatchObject } from '@katana/po';
import { PoBuilder } from './create.js';
import { NothingToPatchError } from './errors.js';
import { include } from './include.js';
import { loadInputs } from './inputs.js';
import { mark } from './mark.js';
import { markDataUsers } from './mark-users.js';
import { planMigration } from './migrate.js';
import type { DiffReport } from './report.js';
import { TargetSymbols } from './targets.js';

export { EmitterError, NothingToPatchError, UnsupportedChangeError } from './errors.js';
export type { DiffReport } from './report.js';

/** What to diff. */
export interface DiffOptions {
  /** An executable or shared library linked by katana-cc, or a folder of .o files. */
  old: string;
  /** Likewise. */
  new: string;
  /**
   * The executable the running process runs (build-id and symbol values): required when `old` is a
   * folder; with a linked `old` of another build, the original build under the earlier patches
   * `basePatches` (then OLD is the build those patches turned it into).
   */
  target?: string;
  /** Default: ObjectStore.locate({ cwd: process.cwd() }). */
  store?: ObjectStore;
  /** Ids of the patches the running target will already have, oldest first (default: none). */
  basePatches?: string[];
  /**
   * NEW's objects to compare (paths as NEW's link record has them), when something vouches that
   * every other object of NEW is byte-identical to one of OLD (a tracker journal): those are not
   * read at all. Only for linked builds.
   */
  compareOnly?: ReadonlySet<string>;
}

/** Diffs OLD against NEW and returns the Patch Object turning a running OLD into NEW, with a report. */
export function diffBuilds(options: DiffOptions): { po: PatchObject; report: DiffReport } {
  const store = options.store ?? ObjectStore.locate({ cwd: process.cwd() });
  const inputs = loadInputs(options.old, options.new, store, options.target, options.compareOnly);
  const diffs = mark(inputs.pairs);
  const report: DiffReport = { changed: [], added: [], newVariables: [], externals: [], warnings: [] };
  // A changed variable type is a change even when no function's bytes changed: its users join the patch.
  const migration = planMigration(diffs, report.warnings);
  markDataUsers(diffs, migration);
  if (!diffs.some((d) => d.functions.length > 0)) throw new NothingToPatchError();
  const targetName = basename(inputs.target.path ?? options.target ?? options.old);
  const builder = new PoBuilder();
  include(diffs, new TargetSymbols(inputs.target, targetName, inputs.afterPatches), builder, report, migration);
  report.warnings.push(...builder.warnings);
  return { po: builder.build(inputs.targetBuildId, targetName, options.basePatches ?? []), report };
}
