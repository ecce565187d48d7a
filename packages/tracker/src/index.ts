// @katana/tracker: `katana watch` journals the objects that change while the developer builds, so
// that `katana diff` and katana-make compare only those (the paper's §2: inotify instead of a full
// comparison). See README.md for when a journal is trusted.
export { startWatcher, type TreeWatcher } from './watch.js';
export { checkJournal, type JournalVerdict } from './restrict.js';
export { journalPath, readJournal, readJournals, type Journal } from './journal.js';
export { TrackerError } from './errors.js';
