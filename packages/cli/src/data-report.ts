// The parts of a data report that `katana apply` and `katana rollback` print alike.
import type { DataReport } from '@katana/applier';

/** " [stage 1]" after what a composed patch transformed (`staged`: it has stages), nothing otherwise. */
export function stageTag(staged: boolean, stage: number): string {
  return staged ? ` [stage ${stage}]` : '';
}

/** Heap blocks moved per type, "struct node: 10000", with the stage when there were several ("struct node [stage 1]: 10000"). */
export function describeMovedBlocks(d: DataReport): string {
  return d.moved.map((m) => `${m.type}${stageTag(d.stages > 1, m.stage)}: ${m.blocks}`).join(', ');
}

/** "N intermediate block(s) (B bytes) freed", for a staged transformation that had some; undefined otherwise. */
export function describeIntermediate(d: DataReport): string | undefined {
  const { blocks, bytes, freed } = d.intermediate;
  if (blocks === 0) return undefined;
  return `${blocks} intermediate block(s) (${bytes} bytes, allocated in this stop and moved again) ${freed ? 'freed' : 'left allocated'}`;
}

/** "N pointer(s) left alone (head -> 0x7ffd...: not a global the patch moves; ...)", or undefined when none was. */
export function describeLeftAlone(d: DataReport): string | undefined {
  if (d.leftAlone.count === 0) return undefined;
  const examples = d.leftAlone.examples.map((p) => `${p.from} -> 0x${p.value.toString(16)}: ${p.reason}`).join('; ');
  return `${d.leftAlone.count} pointer(s) left alone (${examples}${d.leftAlone.count > d.leftAlone.examples.length ? '; ...' : ''})`;
}
