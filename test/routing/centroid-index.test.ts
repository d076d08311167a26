import { describe, expect, it } from 'vitest';
import { CentroidIndex } from '../../src/routing/centroid-index.js';
import type { SparseVector } from '../../src/routing/sparse-vector.js';

function vector(entries: Record<number, number>): SparseVector {
  const ids = Int32Array.from(Object.keys(entries).map(Number)).sort();
  const values = Float32Array.from(ids, (id) => entries[id]!);
  const norm = Math.hypot(...values);
  return { ids, values: values.map((v) => v / norm) };
}

describe('CentroidIndex', () => {
  it('scores a small registry exactly, best first, ties by slot, skipping agents that share nothing', () => {
    const index = new CentroidIndex();
    index.set(0, vector({ 1: 1, 2: 1 }));
    index.set(1, vector({ 1: 1, 2: 1 }));
    index.set(2, vector({ 1: 1 }));
    index.set(3, vector({ 9: 1 }));
    const hits = index.search(vector({ 1: 1 }), 10);
    expect(hits.map((hit) => hit.slot)).toEqual([2, 0, 1]);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    index.delete(2);
    index.delete(2);
    expect(index.centroid(2)).toBeUndefined();
    expect(index.search(vector({ 1: 1 }), 1).map((hit) => hit.slot)).toEqual([0]);
  });

  it('uses postings of the heaviest features in a large registry, skipping features nearly all agents share', () => {
    const index = new CentroidIndex(2);
    // 1,500 agents share feature 1; each also has its own feature and a light one it is not posted under.
    for (let slot = 0; slot < 1500; slot++) index.set(slot, vector({ 1: 1, [10 + slot]: 2, 100000: 0.1 }));
    const hits = index.search(vector({ 1: 1, 17: 1 }), 3);
    expect(hits[0]!.slot).toBe(7);
    // Only the shared feature: its posting is skipped at first, then searched as the fallback.
    expect(index.search(vector({ 1: 1 }), 3)).toHaveLength(3);
    // The light feature was not posted at all (static pruning).
    expect(index.search(vector({ 100000: 1 }), 3)).toEqual([]);
    // Only the heaviest query terms are looked up.
    expect(index.search(vector({ 17: 1, 18: 0.5 }), 5, 1).map((hit) => hit.slot)).toEqual([7]);
    index.delete(7);
    expect(index.search(vector({ 17: 1 }), 3)).toEqual([]);
  });
});
