/**
 * @module routing/centroid-index
 * Candidate retrieval: an inverted index over each agent's centroid (the mean direction of its documents),
 * so a query only touches the agents that share a feature with it. Slots are small integers owned by the caller.
 */
import { dot, type SparseVector } from './sparse-vector.js';

export interface ScoredSlot {
  slot: number;
  score: number;
}

/** One feature's postings: parallel growable arrays of slots and centroid weights. */
class Posting {
  slots = new Int32Array(4);
  weights = new Float32Array(4);
  length = 0;

  push(slot: number, weight: number): void {
    if (this.length === this.slots.length) {
      const slots = new Int32Array(this.length * 2);
      slots.set(this.slots);
      this.slots = slots;
      const weights = new Float32Array(this.length * 2);
      weights.set(this.weights);
      this.weights = weights;
    }
    this.slots[this.length] = slot;
    this.weights[this.length] = weight;
    this.length++;
  }

  /** Removes `slot` by moving the last entry into its place (order does not matter). */
  delete(slot: number): void {
    for (let i = 0; i < this.length; i++) {
      if (this.slots[i] !== slot) continue;
      this.length--;
      this.slots[i] = this.slots[this.length]!;
      this.weights[i] = this.weights[this.length]!;
      return;
    }
  }
}

/** Postings longer than this share of the agents (and this floor) are skipped by search. */
const LONG_POSTING_SHARE = 0.1;
const MIN_LONG_POSTING = 1000;
/** Up to this many agents, search scores every centroid exactly instead of using the postings. */
const EXHAUSTIVE_SIZE = 64;

export class CentroidIndex {
  private readonly postings = new Map<number, Posting>();
  private readonly centroids: (SparseVector | undefined)[] = [];
  /** The features each slot is posted under. */
  private readonly posted: (Int32Array | undefined)[] = [];
  private size = 0;
  /** Per feature, how many centroids have it: what is common across agents says nothing about any one. */
  private readonly agentFrequency = new Map<number, number>();
  // Scratch reused by every search: the query path allocates only its result.
  private scores = new Float32Array(64);
  private seen = new Uint8Array(64);
  private touched = new Int32Array(64);
  private touchedCount = 0;
  private readonly selection = new Selection();

  /**
   * @param postedTerms each centroid is posted under its this many heaviest features only (static pruning):
   *   light features are the frequent ones, whose postings would hold nearly every agent and add little to any
   *   score. Scores become a lower bound of the cosine, used to propose candidates, not to judge them.
   */
  constructor(private readonly postedTerms = Number.POSITIVE_INFINITY) {}

  /** Sets (or replaces) the centroid stored in `slot`. */
  set(slot: number, centroid: SparseVector): void {
    this.delete(slot);
    this.centroids[slot] = centroid;
    const count = this.selection.heaviest(centroid.values, this.postedTerms);
    const posted = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const i = this.selection.positions[k]!;
      const id = centroid.ids[i]!;
      posted[k] = id;
      let posting = this.postings.get(id);
      if (posting === undefined) {
        posting = new Posting();
        this.postings.set(id, posting);
      }
      posting.push(slot, centroid.values[i]!);
    }
    this.posted[slot] = posted;
    this.size++;
    for (const id of centroid.ids) this.agentFrequency.set(id, (this.agentFrequency.get(id) ?? 0) + 1);
    if (slot >= this.scores.length) {
      const size = Math.max(slot + 1, this.scores.length * 2);
      this.scores = new Float32Array(size);
      this.seen = new Uint8Array(size);
      this.touched = new Int32Array(size);
    }
  }

  delete(slot: number): void {
    const posted = this.posted[slot];
    const centroid = this.centroids[slot];
    if (posted === undefined || centroid === undefined) return;
    for (const id of centroid.ids) {
      const count = this.agentFrequency.get(id)! - 1;
      if (count === 0) this.agentFrequency.delete(id);
      else this.agentFrequency.set(id, count);
    }
    this.centroids[slot] = undefined;
    this.posted[slot] = undefined;
    this.size--;
    for (const id of posted) {
      const posting = this.postings.get(id)!;
      posting.delete(slot);
      if (posting.length === 0) this.postings.delete(id);
    }
  }

  centroid(slot: number): SparseVector | undefined {
    return this.centroids[slot];
  }

  /**
   * Cosine of two centroids with each feature weighed by its rarity among agents (log of agents over agents
   * having it): near intents share rare words ("pending"); agents of distinct domains share only common ones.
   */
  distinctiveCosine(a: number, b: number): number {
    const x = this.centroids[a]!;
    const y = this.centroids[b]!;
    const weight = (id: number) => Math.log(this.size / (this.agentFrequency.get(id) ?? this.size));
    let shared = 0;
    let normX = 0;
    let normY = 0;
    for (let i = 0; i < x.ids.length; i++) normX += (x.values[i]! * weight(x.ids[i]!)) ** 2;
    for (let j = 0; j < y.ids.length; j++) normY += (y.values[j]! * weight(y.ids[j]!)) ** 2;
    for (let i = 0, j = 0; i < x.ids.length && j < y.ids.length; ) {
      const id = x.ids[i]!;
      if (id === y.ids[j]) {
        shared += x.values[i++]! * y.values[j++]! * weight(id) ** 2;
      } else if (id < y.ids[j]!) i++;
      else j++;
    }
    return normX > 0 && normY > 0 ? shared / Math.sqrt(normX * normY) : 0;
  }

  /**
   * The `limit` slots whose centroids have the highest cosine with `query` (a unit vector), best first.
   * Only the query's `maxTerms` heaviest features are looked up: light ones are frequent, so their postings are
   * long and their contribution small (impact-ordered pruning keeps search fast with thousands of agents).
   */
  search(query: SparseVector, limit: number, maxTerms = Number.POSITIVE_INFINITY): ScoredSlot[] {
    if (this.size <= EXHAUSTIVE_SIZE) return this.scan(query, limit);
    const best = this.accumulate(
      query,
      limit,
      maxTerms,
      Math.max(MIN_LONG_POSTING, LONG_POSTING_SHARE * this.size),
    );
    // A query made only of features nearly every agent has still gets candidates.
    return best.length > 0 ? best : this.accumulate(query, limit, maxTerms, Number.POSITIVE_INFINITY);
  }

  /** Exact cosine with every centroid, for a registry too small for pruning to pay. */
  private scan(query: SparseVector, limit: number): ScoredSlot[] {
    const { scores, touched } = this;
    for (let slot = 0; slot < this.centroids.length; slot++) {
      const centroid = this.centroids[slot];
      if (centroid === undefined) continue;
      const score = dot(centroid, query);
      if (score <= 0) continue;
      scores[slot] = score;
      touched[this.touchedCount++] = slot;
    }
    return this.collect(limit);
  }

  private accumulate(query: SparseVector, limit: number, maxTerms: number, longest: number): ScoredSlot[] {
    const { scores, seen, touched, selection } = this;
    const terms = selection.heaviest(query.values, maxTerms);
    for (let k = 0; k < terms; k++) {
      const i = selection.positions[k]!;
      const posting = this.postings.get(query.ids[i]!);
      // A feature most agents share barely reorders them, yet would cost a pass over all of them.
      if (posting === undefined || posting.length > longest) continue;
      const q = query.values[i]!;
      const { slots, weights, length } = posting;
      for (let j = 0; j < length; j++) {
        const slot = slots[j]!;
        if (seen[slot] === 0) {
          seen[slot] = 1;
          touched[this.touchedCount++] = slot;
        }
        scores[slot]! += q * weights[j]!;
      }
    }
    return this.collect(limit);
  }

  /** The best `limit` touched slots, best first (ties by slot); clears the scratch. */
  private collect(limit: number): ScoredSlot[] {
    const { scores, seen, touched } = this;
    const best = this.selection.top(touched, this.touchedCount, scores, limit);
    for (let k = 0; k < this.touchedCount; k++) {
      const slot = touched[k]!;
      scores[slot] = 0;
      seen[slot] = 0;
    }
    this.touchedCount = 0;
    return best;
  }
}

/** Selection helpers over reusable buffers: the heaviest positions of a vector, the best slots by score. */
class Selection {
  positions = new Int32Array(64);
  private sorted = new Float32Array(64);
  private heapSlots = new Int32Array(64);
  private heapScores = new Float32Array(64);

  /** Writes the positions of the `count` largest values (all when fewer) to `positions`; returns how many. */
  heaviest(values: Float32Array, count: number): number {
    const n = values.length;
    if (n > this.positions.length) {
      this.positions = new Int32Array(n * 2);
      this.sorted = new Float32Array(n * 2);
    }
    const { positions } = this;
    if (n <= count) {
      for (let i = 0; i < n; i++) positions[i] = i;
      return n;
    }
    const sorted = this.sorted.subarray(0, n);
    sorted.set(values);
    sorted.sort();
    const threshold = sorted[n - count]!;
    let ties = count;
    for (let i = 0; i < n; i++) if (values[i]! > threshold) ties--;
    let k = 0;
    for (let i = 0; i < n && k < count; i++) {
      if (values[i]! > threshold) positions[k++] = i;
      else if (values[i] === threshold && ties > 0) {
        positions[k++] = i;
        ties--;
      }
    }
    return k;
  }

  /** The `limit` highest-scoring of the first `length` slots, best first (ties by slot): a bounded min-heap. */
  top(slots: Int32Array, length: number, scores: Float32Array, limit: number): ScoredSlot[] {
    if (limit > this.heapSlots.length) {
      this.heapSlots = new Int32Array(limit);
      this.heapScores = new Float32Array(limit);
    }
    const { heapSlots, heapScores } = this;
    let size = 0;
    for (let k = 0; k < length; k++) {
      const slot = slots[k]!;
      const score = scores[slot]!;
      if (size < limit) {
        heapSlots[size] = slot;
        heapScores[size] = score;
        for (let i = size++; i > 0; ) {
          const parent = (i - 1) >> 1;
          if (!worse(heapSlots, heapScores, i, parent)) break;
          swap(heapSlots, heapScores, i, parent);
          i = parent;
        }
        continue;
      }
      if (score < heapScores[0]! || (score === heapScores[0] && slot > heapSlots[0]!)) continue;
      heapSlots[0] = slot;
      heapScores[0] = score;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let worst = i;
        if (left < size && worse(heapSlots, heapScores, left, worst)) worst = left;
        if (right < size && worse(heapSlots, heapScores, right, worst)) worst = right;
        if (worst === i) break;
        swap(heapSlots, heapScores, i, worst);
        i = worst;
      }
    }
    const best: ScoredSlot[] = [];
    for (let i = 0; i < size; i++) best.push({ slot: heapSlots[i]!, score: heapScores[i]! });
    return best.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }
}

/** In the min-heap, "worse" is a lower score, or the same score and a higher slot: the root is the worst kept. */
function worse(slots: Int32Array, scores: Float32Array, a: number, b: number): boolean {
  return scores[a]! < scores[b]! || (scores[a] === scores[b] && slots[a]! > slots[b]!);
}

function swap(slots: Int32Array, scores: Float32Array, a: number, b: number): void {
  const slot = slots[a]!;
  const score = scores[a]!;
  slots[a] = slots[b]!;
  scores[a] = scores[b]!;
  slots[b] = slot;
  scores[b] = score;
}
