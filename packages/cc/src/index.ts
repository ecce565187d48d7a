// @katana/cc: the object store that katana-cc / katana-c++ fill (for the emitter and the CLI),
// the argument classifier behind the wrappers and the static-archive reader.
export { findProjectRoot } from './root.js';
export type { ObjectManifest, LinkRecord, OutputRecord } from './records.js';
export { ObjectStore } from './store.js';
export { writeFileAtomic } from './atomic.js';
export { ArchiveError, StoreError, WrapperError } from './errors.js';
export { readArchive, type ArchiveMember } from './archive.js';
export { classifyArgs, languageOfPath } from './args/classify.js';
export type { Action, Classification, Driver, Input, Language, SourceInput, FileInput, LibraryInput } from './args/classify.js';
export { expandResponseFiles, splitResponseFile } from './args/response.js';
export { runWrapper } from './wrapper/main.js';
export { KATANA_INCLUDE_DIR } from './wrapper/flags.js';
