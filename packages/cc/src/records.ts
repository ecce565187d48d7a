// The records katana-cc keeps beside each stored object: a manifest per object (how it was compiled),
// a link record per build-id (which objects the linked file was made of) and an output record per
// linked path (which build-id the file there had when katana-cc last linked it). The emitter reads
// them to find, for an executable's build-id, the objects of the build that produced it.

/** How one stored object was compiled; stored as manifests/<hash>.json. */
export interface ObjectManifest {
  /** sha256 hex of the object's bytes (its name in the store) */
  hash: string;
  /** the source file, relative to the project root when inside it, else absolute */
  source: string;
  /** the object path the build asked for (absolute) */
  output: string;
  /** folder the compiler ran in (absolute) */
  cwd: string;
  /** the compiler arguments as katana-cc received them */
  args: string[];
  /** the real compiler that ran (KATANA_REAL_CC / KATANA_REAL_CXX) */
  compiler: string;
  language: 'c' | 'c++' | 'asm';
}

/** What one linked output was made of; stored as links/<buildId>.json. */
export interface LinkRecord {
  /** NT_GNU_BUILD_ID of the output, lowercase hex */
  buildId: string;
  /** absolute path of the linked file at link time */
  output: string;
  kind: 'executable' | 'shared' | 'relocatable';
  cwd: string;
  args: string[];
  /**
   * Every input object found in the store, in link order. `path` is the input's absolute path; for
   * a source compiled by a one-step compile-and-link (no object file of its own) it is the source's.
   */
  objects: { path: string; hash: string }[];
  /** inputs not in the store (foreign .o, .a, shared libraries, -l libraries as written) */
  untracked: string[];
}

/**
 * The build-id a path had when katana-cc last linked it; stored as outputs/<sha256 of the path>.json.
 * Two byte-identical links (the same helper program built in two checkouts) share one build-id and
 * so one link record, but each path keeps its own output record.
 */
export interface OutputRecord {
  /** absolute path of the linked file */
  output: string;
  /** NT_GNU_BUILD_ID of the file linked there, lowercase hex (a key of links/) */
  buildId: string;
}
