// When may a diff trust the journal, and what does it then compare? A journal restricts the diff of
// OLD → NEW (two outputs linked by katana-cc) to the NEW objects it lists as changed when all hold:
//   1. found:   a journal in the store whose tree holds the NEW output;
//   2. intact:  ready (baseline complete) and no watcher error;
//   3. covers the build: its watcher still runs, or stopped after the NEW output was last written;
//   4. nothing escaped it: every NEW object under the tree that it does not list as changed has the
//      sha256 the baseline holds (else the build began before the watcher was ready, or an event
//      was missed);
//   5. this base build: each of those objects is byte-identical to an object of OLD.
// 4 and 5 cost nothing: the link records already carry every object's sha256. NEW objects the
// journal cannot speak for (outside the tree, or compiled straight from a source without a .o of
// their own) are always compared.
import { realpathSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { LinkRecord, ObjectStore } from '@katana/cc';
import { readJournals, type Journal } from './journal.js';
import { isSameProcessRunning } from './process.js';

/** The outcome of checking the journal for one diff. */
export type JournalVerdict =
  /** No journal covers the NEW output's tree. */
  | { use: false; journal?: undefined; reason: string }
  /** A journal exists but cannot be trusted: the diff compares every object. */
  | { use: false; journal: string; reason: string }
  /** Compare only `compare` (absolute object paths as the NEW link record has them). */
  | { use: true; journal: string; compare: Set<string>; total: number };

/** Decides whether the journal of NEW's tree restricts the diff of `oldLink` → `newLink`. */
export function checkJournal(store: ObjectStore, oldLink: LinkRecord, newLink: LinkRecord, newOutput: string): JournalVerdict {
  const output = realPath(newOutput);
  const found = readJournals(store).filter(({ journal }) => isInside(journal.dir, output));
  if (found.length === 0) return { use: false, reason: `no journal in ${store.dir} watches ${output}` };
  // Nested trees both watched: the innermost one is the most specific.
  const { path, journal } = found.sort((a, b) => b.journal.dir.length - a.journal.dir.length)[0]!;
  const refuse = (reason: string): JournalVerdict => ({ use: false, journal: path, reason });

  if (journal.error !== undefined) return refuse(`its watcher failed (${journal.error})`);
  if (!journal.ready) return refuse('its watcher was not ready yet');
  if (!coversBuild(journal, output)) return refuse(`its watcher (pid ${journal.watcher.pid}) stopped before ${output} was built`);

  const listed = new Set(journal.changed);
  const oldHashes = new Set(oldLink.objects.map((o) => o.hash));
  const compare = new Set<string>();
  for (const object of newLink.objects) {
    const path = realPath(object.path);
    if (!path.endsWith('.o') || !isInside(journal.dir, path)) {
      compare.add(object.path);
      continue;
    }
    const key = relative(journal.dir, path);
    if (listed.has(key)) {
      compare.add(object.path);
    } else if (journal.baseline[key] !== object.hash) {
      return refuse(`${key} changed without the watcher seeing it (was the watcher ready before the build began?)`);
    } else if (!oldHashes.has(object.hash)) {
      return refuse(`its baseline is not the OLD build (${key} differs from every object of OLD)`);
    }
  }
  return { use: true, journal: path, compare, total: newLink.objects.length };
}

function coversBuild(journal: Journal, output: string): boolean {
  if (journal.stoppedAt === undefined) return isSameProcessRunning(journal.watcher.pid, journal.watcher.startTicks);
  return journal.stoppedAt >= statSync(output).mtimeMs;
}

function isInside(dir: string, path: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/** The real path, or the resolved one when the file is gone (a one-step compile's temp object). */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
