// The human-facing summary of a diff: what `katana diff` prints next to the PO it writes.

/** What diffBuilds found and put into the patch. */
export interface DiffReport {
  /** Functions of OLD replaced by a new version (sizes in bytes). */
  changed: { name: string; file: string; oldSize: number; newSize: number }[];
  /** Functions with no OLD counterpart. */
  added: { name: string; file: string; size: number }[];
  /** Variables with fresh storage in the patch. */
  newVariables: { name: string; file: string; size: number; section: 'data' | 'bss' | 'rodata' }[];
  /** Symbols resolved in the target or its libraries. */
  externals: string[];
  warnings: string[];
}
