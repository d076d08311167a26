/**
 * @module sorted
 * Binary search over sorted string arrays (agent names, a model's classes): the registry file's order, the
 * router's names and a trained model's classes all keep names sorted with `<`.
 */

/** Where `value` is, or would go, in `sorted`. */
export function lowerBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
