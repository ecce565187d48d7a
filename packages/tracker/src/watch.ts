// The watcher behind `katana watch`: chokidar on a tree, journaling every *.o added, changed or
// unlinked (node_modules, .git and .katana are not watched). Startup order matters: chokidar is
// ready first, then the baseline hashes every object present, so a write racing the baseline is
// both hashed and journaled (journaled means "compare it", which is always safe). Only paths are
// journaled, never contents: awaitWriteFinish is not needed, katana diff reads the objects from the
// store by the hashes of the link record.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { ObjectStore } from '@katana/cc';
import { TrackerError } from './errors.js';
import { JOURNAL_VERSION, journalPath, readJournal, writeJournal, type Journal } from './journal.js';
import { isSameProcessRunning, processStartTicks } from './process.js';

const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.katana']);
/** Journal writes are batched: a make -j burst of 300 objects is one write, not 300. */
const FLUSH_DELAY_MS = 20;

/** A running watcher. */
export interface TreeWatcher {
  /** The journal file. */
  readonly journalFile: string;
  /** The current journal (ready once start() resolved). */
  readonly journal: Journal;
  /** Stops watching and marks the journal stopped. */
  close(): Promise<void>;
}

/** Starts watching `dir`; resolves once the journal is ready (baseline written). */
export async function startWatcher(dir: string, store: ObjectStore): Promise<TreeWatcher> {
  let root: string;
  try {
    root = realpathSync(dir);
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new TrackerError(`cannot watch ${dir}: it is not a folder`, { cause });
  }
  const journalFile = journalPath(store, root);
  const previous = readJournal(journalFile);
  if (previous && previous.stoppedAt === undefined && previous.watcher.pid !== process.pid && isSameProcessRunning(previous.watcher.pid, previous.watcher.startTicks)) {
    throw new TrackerError(`${root} is already watched by pid ${previous.watcher.pid} (journal ${journalFile})`);
  }
  const journal: Journal = {
    version: JOURNAL_VERSION,
    dir: root,
    watcher: { pid: process.pid, startTicks: processStartTicks(process.pid)! },
    ready: false,
    baseline: {},
    changed: [],
  };
  // Overwrite any previous journal at once: until this one is ready, nothing vouches for the tree.
  writeJournal(journalFile, journal);

  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    journal.changed = [...changed].sort();
    writeJournal(journalFile, journal);
  };
  const note = (path: string) => {
    if (!path.endsWith('.o')) return;
    changed.add(relative(root, path));
    if (journal.ready && !timer) timer = setTimeout(flush, FLUSH_DELAY_MS);
  };
  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    ignored: (path, stats) => isSkipped(root, path) || (stats?.isFile() === true && !path.endsWith('.o')),
  });
  watcher.on('add', note).on('change', note).on('unlink', note);
  watcher.on('error', (error) => {
    journal.error ??= error instanceof Error ? error.message : String(error);
    flush();
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  journal.baseline = hashObjects(watcher, root);
  journal.ready = true;
  journal.readyAt = Date.now();
  flush();
  return {
    journalFile,
    journal,
    async close() {
      await watcher.close();
      if (timer) clearTimeout(timer);
      journal.stoppedAt = Date.now();
      flush();
    },
  };
}

function isSkipped(root: string, path: string): boolean {
  return relative(root, path).split(sep).some((part) => SKIPPED_FOLDERS.has(part));
}

/** sha256 of every *.o chokidar found, by path relative to the root. */
function hashObjects(watcher: FSWatcher, root: string): Record<string, string> {
  const baseline: Record<string, string> = {};
  for (const [folder, names] of Object.entries(watcher.getWatched())) {
    for (const name of names) {
      if (!name.endsWith('.o')) continue;
      const path = `${folder}${sep}${name}`;
      try {
        baseline[relative(root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
      } catch {
        // A folder named *.o, or an object removed meanwhile (its unlink event journals it).
      }
    }
  }
  return baseline;
}
