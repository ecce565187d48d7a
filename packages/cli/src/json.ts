// JSON output for --json: bigints (addresses) become 0x-prefixed hex strings.

/** Serialises a value for --json output, one line. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}
