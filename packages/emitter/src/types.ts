// Refusing changed variable types. New code must use the target's storage of every variable that
// still exists; if the variable's type changed (a field added to `struct config`), the old storage
// has the old layout and new code would read garbage. Transforming the data is not supported yet,
// so any writable variable present in OLD and NEW with a different size is refused.
import { UnsupportedChangeError } from './errors.js';
import type { ObjectDiff } from './mark.js';

/** Throws UnsupportedChangeError naming the first variable whose type changed between OLD and NEW. */
export function checkVariableTypes(diffs: ObjectDiff[]): void {
  for (const diff of diffs) {
    const model = diff.newSide.model;
    for (const v of model.variables) {
      const old = diff.correlation.oldOf(v);
      if (!old || model.isReadOnly(v) || old.size === v.size) continue;
      throw new UnsupportedChangeError(
        `variable '${v.name}' in ${model.file} changed type (${old.size} → ${v.size} bytes); data patching of changed types is not supported yet`,
      );
    }
  }
}
