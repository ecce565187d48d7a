// A patch's identity: the sha256 of its PO file's bytes, so that the same file always has the same
// id and any change to it (even one byte) gives another. The registry in the target and a PO's base
// note (NT_KATANA_BASE) hold the full 32 bytes; people see the first 12 hex digits, as git shows
// commits.
import { createHash } from 'node:crypto';

/** Hex digits of a short id, as `katana list` prints it. */
export const SHORT_PATCH_ID_LENGTH = 12;

/** The id of a PO file: sha256 of its bytes, 64 lowercase hex digits. */
export function patchObjectId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The first 12 hex digits of an id. */
export function shortPatchId(id: string): string {
  return id.slice(0, SHORT_PATCH_ID_LENGTH);
}
