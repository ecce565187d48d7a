// Numbers that define the Patch Object format on disk (docs/po-format.md is the prose version).

/** SHT_LOUSER+1, the type the Katana paper gives `.unsafe_functions` (Figure 3). */
export const SHT_KATANA_UNSAFE = 0x80000001;

/** Size of one `.unsafe_functions` entry: u32 old symbol, u32 redirect symbol, u64 address, u64 size. */
export const UNSAFE_ENTRY_SIZE = 24;

/** Owner name of the notes in `.note.katana`. */
export const KATANA_NOTE_NAME = 'Katana';

/** Note types of `.note.katana`. */
export const NT_KATANA_VERSION = 1;
export const NT_KATANA_BUILD_ID = 2;
export const NT_KATANA_TARGET_NAME = 3;
export const NT_KATANA_SYMBOL_VALUES = 4;
/** The ids of the patches the target must already have, in order: 32 bytes (a sha256) each. */
export const NT_KATANA_BASE = 5;

/** Bytes of a patch id (sha256 of a PO file). */
export const PATCH_ID_SIZE = 32;

/** Size of one NT_KATANA_SYMBOL_VALUES record: u32 symbol index, u32 reserved, u64 link-time value. */
export const SYMBOL_VALUE_ENTRY_SIZE = 16;

/** The PO format version this code writes and reads. */
export const PO_FORMAT_VERSION = 1;

/** Names of the PO's metadata sections. */
export const UNSAFE_SECTION = '.unsafe_functions';
export const NOTE_SECTION = '.note.katana';
