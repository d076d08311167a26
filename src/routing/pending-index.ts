/**
 * @module routing/pending-index
 * The untrained scorer of agents added or changed since the last build: the cosine between the query and the
 * agent's centroid (over feature ids, unweighted by rarity), from an inverted index so a query touches only
 * the pending agents that share a feature with it, even when thousands are pending before the first build.
 */
import type { SparseVector } from './sparse-vector.js';

export interface PendingHit {
  readonly name: string;
  readonly similarity: number;
}

/** Postings longer than this share of the pending agents (and this count) are skipped by search. */
const COMMON_SHARE = 0.02;
const COMMON_COUNT = 200;

export class PendingIndex {
  private readonly slotOf = new Map<string, number>();
  private names: (string | undefined)[] = [];
  private readonly postings = new Map<number, { slots: number[]; weights: number[] }>();
  private scores = new Float64Array(64);
  private live = 0;

  get size(): number {
    return this.live;
  }

  has(name: string): boolean {
    return this.slotOf.has(name);
  }

  /** Adds or replaces the pending agent `name`. */
  set(name: string, centroid: SparseVector): void {
    this.delete(name);
    const slot = this.names.length;
    this.names.push(name);
    this.slotOf.set(name, slot);
    this.live++;
    for (let i = 0; i < centroid.ids.length; i++) {
      const id = centroid.ids[i]!;
      let posting = this.postings.get(id);
      if (posting === undefined) {
        posting = { slots: [], weights: [] };
        this.postings.set(id, posting);
      }
      posting.slots.push(slot);
      posting.weights.push(centroid.values[i]!);
    }
    if (slot >= this.scores.length) {
      const grown = new Float64Array(this.scores.length * 2);
      grown.set(this.scores);
      this.scores = grown;
    }
  }

  /** Forgets `name` (its postings are skipped until the index is replaced by a new one after a build). */
  delete(name: string): void {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return;
    this.slotOf.delete(name);
    this.names[slot] = undefined;
    this.live--;
  }

  /**
   * Every pending agent sharing a feature with `vector` (a unit vector over feature ids), unsorted. As in the
   * trained model, a feature most of many agents share is skipped: it tells none apart, and would make every
   * query before the first build of a large registry cost a pass over all of them.
   */
  search(vector: SparseVector): PendingHit[] {
    if (this.live === 0) return [];
    const { scores } = this;
    const touched: number[] = [];
    const common = Math.max(COMMON_COUNT, COMMON_SHARE * this.names.length);
    for (let j = 0; j < vector.ids.length; j++) {
      const posting = this.postings.get(vector.ids[j]!);
      if (posting === undefined || posting.slots.length > common) continue;
      const x = vector.values[j]!;
      const { slots, weights } = posting;
      for (let k = 0; k < slots.length; k++) {
        const slot = slots[k]!;
        if (scores[slot] === 0) touched.push(slot);
        scores[slot]! += weights[k]! * x;
      }
    }
    const hits: PendingHit[] = [];
    for (const slot of touched) {
      const name = this.names[slot];
      if (name !== undefined && scores[slot]! > 0) hits.push({ name, similarity: scores[slot]! });
      scores[slot] = 0;
    }
    return hits;
  }
}
