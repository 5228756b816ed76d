// Whether two attribute sets are the same, key order included: lets a stage reuse what it built
// for the previous span's resource (its encoded bytes, its metric instruments) without building
// a key text per span. Pure.
import type { DraftAttributes } from '../mapping/span-draft.js';

/** The same keys in the same order with the same values (array values compared element-wise). */
export function sameAttributes(a: DraftAttributes, b: DraftAttributes): boolean {
  const keys = Object.keys(a);
  let count = 0;
  for (const key in b) {
    if (keys[count++] !== key) return false;
    const x = a[key];
    const y = b[key];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length || x.some((item, i) => item !== y[i])) return false;
  }
  return count === keys.length;
}
