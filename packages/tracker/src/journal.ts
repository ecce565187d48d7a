// The journal `katana watch` keeps: for one tree, the sha256 of every object (*.o) present when the
// watcher became ready (the baseline) and the objects added, changed or removed since then. It
// lives in the object store, journals/<sha256 of the tree's path, 16 hex>.json, rewritten atomically
// after every burst of events, so a reader sees the latest complete state.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type ObjectStore } from '@katana/cc';
import { TrackerError } from './errors.js';

export const JOURNAL_VERSION = 1;

/** The content of a journal file. */
export interface Journal {
  version: number;
  /** The watched tree, an absolute real path; object paths below are relative to it. */
  dir: string;
  /** The watching process: its pid and its start time in clock ticks (/proc/PID/stat field 22). */
  watcher: { pid: number; startTicks: string };
  /** False until the baseline is complete; a journal that is not ready vouches for nothing. */
  ready: boolean;
  /** When the watcher became ready (ms since the epoch). */
  readyAt?: number;
  /** When the watcher stopped cleanly (ms since the epoch); absent while it runs. */
  stoppedAt?: number;
  /** The first watcher error; a journal with an error vouches for nothing. */
  error?: string;
  /** sha256 of every *.o present when the watcher became ready, by relative path. */
  baseline: Record<string, string>;
  /** Relative paths of the *.o added, changed or unlinked after that, sorted. */
  changed: string[];
}

/** journals/<16 hex>.json of the store for the tree `dir` (an absolute real path). */
export function journalPath(store: ObjectStore, dir: string): string {
  return join(store.dir, 'journals', `${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.json`);
}

/** Every journal in the store (unreadable or foreign files are skipped). */
export function readJournals(store: ObjectStore): { path: string; journal: Journal }[] {
  const folder = join(store.dir, 'journals');
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => /^[0-9a-f]{16}\.json$/.test(name));
  } catch {
    return [];
  }
  const found: { path: string; journal: Journal }[] = [];
  for (const name of names) {
    const journal = readJournal(join(folder, name));
    if (journal) found.push({ path: join(folder, name), journal });
  }
  return found;
}

/** The journal at `path`, undefined when missing or not a journal of this version. */
export function readJournal(path: string): Journal | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Journal;
    return value.version === JOURNAL_VERSION && typeof value.dir === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the journal atomically. */
export function writeJournal(path: string, journal: Journal): void {
  try {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileAtomic(path, `${JSON.stringify(journal)}\n`);
  } catch (cause) {
    throw new TrackerError(`cannot write the journal ${path}: ${(cause as Error).message}`, { cause });
  }
}
