// The tracker journal as katana diff and katana-make use it: when `katana watch` journaled the
// build of NEW and the journal can be trusted (@katana/tracker checkJournal), the diff compares only
// the objects it lists; otherwise every object, with one line on stderr saying why when a journal
// exists but cannot be used.
import { statSync } from 'node:fs';
import type { ObjectStore } from '@katana/cc';

/** What the journal did for one diff, as --json reports it. */
export interface JournalUse {
  used: boolean;
  journal?: string;
  reason?: string;
  compared?: number;
  total?: number;
}

/** The objects to compare for OLD → NEW (undefined: all of them), and what to report. */
export async function journalRestriction(
  store: ObjectStore,
  oldPath: string,
  newPath: string,
  say: (line: string) => void,
): Promise<{ compareOnly?: ReadonlySet<string>; use: JournalUse }> {
  if (!statSync(oldPath, { throwIfNoEntry: false })?.isFile() || !statSync(newPath, { throwIfNoEntry: false })?.isFile()) {
    return { use: { used: false, reason: 'OLD or NEW is not a linked file' } };
  }
  const [{ readBuildId }, { checkJournal }] = await Promise.all([import('@katana/elf'), import('@katana/tracker')]);
  const link = (path: string) => {
    const id = readBuildId(path);
    return id === undefined ? undefined : store.readLink(id);
  };
  const oldLink = link(oldPath);
  const newLink = link(newPath);
  // Without link records the emitter reports the real problem; the journal has nothing to add.
  if (!oldLink || !newLink) return { use: { used: false, reason: 'OLD or NEW was not linked by katana-cc' } };
  const verdict = checkJournal(store, oldLink, newLink, newPath);
  if (!verdict.use) {
    if (verdict.journal) say(`journal ${verdict.journal} not used: ${verdict.reason}; comparing every object`);
    return { use: { used: false, ...(verdict.journal ? { journal: verdict.journal } : {}), reason: verdict.reason } };
  }
  say(`journal ${verdict.journal}: comparing ${verdict.compare.size} of ${verdict.total} objects`);
  return { compareOnly: verdict.compare, use: { used: true, journal: verdict.journal, compared: verdict.compare.size, total: verdict.total } };
}
