// @katana/cc: the object store that katana-cc / katana-c++ fill (for the emitter and the CLI),
// and the argument classifier behind the wrappers.
export { findProjectRoot } from './root.js';
export type { ObjectManifest, LinkRecord } from './records.js';
export { ObjectStore } from './store.js';
export { StoreError, WrapperError } from './errors.js';
export { classifyArgs, languageOfPath } from './args/classify.js';
export type { Action, Classification, Driver, Input, Language, SourceInput, FileInput, LibraryInput } from './args/classify.js';
export { expandResponseFiles, splitResponseFile } from './args/response.js';
export { runWrapper } from './wrapper/main.js';
