// The parts of a data report that `katana apply` and `katana rollback` print alike.
import type { DataReport } from '@katana/applier';

/** "N pointer(s) left alone (head -> 0x7ffd...: not a global the patch moves; ...)", or undefined when none was. */
export function describeLeftAlone(d: DataReport): string | undefined {
  if (d.leftAlone.count === 0) return undefined;
  const examples = d.leftAlone.examples.map((p) => `${p.from} -> 0x${p.value.toString(16)}: ${p.reason}`).join('; ');
  return `${d.leftAlone.count} pointer(s) left alone (${examples}${d.leftAlone.count > d.leftAlone.examples.length ? '; ...' : ''})`;
}
