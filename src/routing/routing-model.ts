/**
 * @module routing/routing-model
 * One trained state of stage 1: a multinomial linear model over every agent (softmax regression on word,
 * word-pair and character n-gram features), stored feature by feature so one pass over a query's features
 * scores every agent at once, plus each agent's documents for a nearest-example vote. Built by
 * `ModelTrainer`; immutable once built, so the router can swap a new one in whole.
 */
import { lowerBound } from '../sorted.js';
import type { FeatureSettings, TermCounts } from './feature-extractor.js';
import { weighTerms } from './feature-extractor.js';
import { PackedVectors, type SparseVector } from './sparse-vector.js';

/** Scoring settings a model keeps with it. */
export interface ScoringSettings {
  readonly features: FeatureSettings;
  /** Hits whose nearest document is computed; lower hits keep their linear score. */
  readonly nearestHits: number;
  /** Weight of the cosine to an agent's closest document, added to its linear score. */
  readonly nearestWeight: number;
}

/** One agent's score for a query. */
export interface ModelHit {
  /** Index of the agent in `RoutingModel.classes`. */
  readonly cls: number;
  /** Linear score plus the nearest-document vote (log-odds scale, comparable within one query). */
  logit: number;
  /** Cosine between the query and the agent's closest document (0 below the best `nearestHits`). */
  nearest: number;
}

export interface ModelSearch {
  /** The best agents, best first (ties by class index). */
  readonly hits: ModelHit[];
  /** Logarithm of the softmax normaliser over every agent of the model. */
  readonly logNormaliser: number;
  /** Share of the query's content words that some agent's documents use (0 for a query of no words). */
  readonly knownWordRatio: number;
  /** The query's vector in the model's feature space (unknown features left out, but counted in its norm). */
  readonly vector: SparseVector;
}

export interface ModelParts {
  /** Agent names, sorted: a class is its index. */
  readonly classes: readonly string[];
  /** Feature id -> row. */
  readonly rows: FeatureRows;
  readonly idf: Float32Array;
  readonly unknownIdf: number;
  /** Postings of row r: `postStart[r]` to `postStart[r + 1]` in `postClass` / `postWeight`, by class. */
  readonly postStart: Int32Array;
  readonly postClass: Int32Array;
  readonly postWeight: Float32Array;
  /** Every document's vector (rows space); class c's are `firstDocument[c]` to `firstDocument[c + 1]`. */
  readonly documents: PackedVectors;
  readonly firstDocument: Int32Array;
  /** Each class's centroid (unit mean of its documents). */
  readonly centroids: PackedVectors;
  readonly settings: ScoringSettings;
}

/**
 * Feature id -> row, as an open-addressing hash table over two typed arrays: a large registry has hundreds of
 * thousands of features, and a `Map` of them could neither be transferred between threads nor rebuilt on the
 * receiving side in less than tens of milliseconds. Rows are numbered in insertion order.
 */
export class FeatureRows {
  private keys: Int32Array;
  /** Row + 1 per slot; 0 marks an empty slot. */
  private slots: Int32Array;
  private count: number;

  constructor(capacity = 1024, data?: FeatureRowsData) {
    if (data !== undefined) {
      this.keys = data.keys;
      this.slots = data.slots;
      this.count = data.count;
      return;
    }
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.keys = new Int32Array(size);
    this.slots = new Int32Array(size);
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }

  get(id: number): number | undefined {
    const { keys, slots } = this;
    const mask = slots.length - 1;
    for (let i = slotOf(id, mask); ; i = (i + 1) & mask) {
      const slot = slots[i]!;
      if (slot === 0) return undefined;
      if (keys[i] === id) return slot - 1;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** The row of `id`, numbered next if it is new. */
  add(id: number): number {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const { keys, slots } = this;
    const mask = slots.length - 1;
    let i = slotOf(id, mask);
    for (; slots[i] !== 0; i = (i + 1) & mask) if (keys[i] === id) return slots[i]! - 1;
    keys[i] = id;
    slots[i] = ++this.count;
    return this.count - 1;
  }

  toTransfer(): FeatureRowsData {
    return { keys: this.keys, slots: this.slots, count: this.count };
  }

  static fromTransfer(data: FeatureRowsData): FeatureRows {
    return new FeatureRows(0, data);
  }

  private grow(): void {
    const { keys, slots } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.slots = new Int32Array(slots.length * 2);
    const mask = this.slots.length - 1;
    for (let j = 0; j < slots.length; j++) {
      if (slots[j] === 0) continue;
      let i = slotOf(keys[j]!, mask);
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = keys[j]!;
      this.slots[i] = slots[j]!;
    }
  }
}

export interface FeatureRowsData {
  readonly keys: Int32Array;
  readonly slots: Int32Array;
  readonly count: number;
}

/** Mixes the id first: feature ids are hashes, but other views may bring small consecutive ids. */
function slotOf(id: number, mask: number): number {
  let h = Math.imul(id ^ (id >>> 16), 0x45d9f3b);
  h ^= h >>> 16;
  return h & mask;
}

/**
 * A model as plain data over typed arrays, for `postMessage`: structured cloning keeps no class prototype,
 * so the receiving thread rebuilds the model with `RoutingModel.fromTransfer`. The arrays are moved, not
 * copied, when their buffers are in the transfer list.
 */
export interface ModelTransfer {
  readonly classes: readonly string[];
  readonly rows: FeatureRowsData;
  readonly idf: Float32Array;
  readonly unknownIdf: number;
  readonly postStart: Int32Array;
  readonly postClass: Int32Array;
  readonly postWeight: Float32Array;
  readonly documents: readonly [Int32Array, Int32Array, Float32Array];
  readonly firstDocument: Int32Array;
  readonly centroids: readonly [Int32Array, Int32Array, Float32Array];
  readonly settings: ScoringSettings;
}

export class RoutingModel {
  readonly classes: readonly string[];
  private readonly parts: ModelParts;
  // Scratch reused by every search.
  private readonly scores: Float64Array;
  private readonly marked: Uint8Array;
  private readonly touched: Int32Array;

  constructor(parts: ModelParts) {
    this.parts = parts;
    this.classes = parts.classes;
    this.scores = new Float64Array(parts.classes.length);
    this.marked = new Uint8Array(parts.classes.length);
    this.touched = new Int32Array(parts.classes.length);
  }

  get size(): number {
    return this.classes.length;
  }

  /**
   * The model as transferable data, and the buffers to move with it. The model must not be used after its
   * buffers are transferred.
   */
  toTransfer(): { data: ModelTransfer; transfer: ArrayBuffer[] } {
    const p = this.parts;
    const data: ModelTransfer = {
      classes: p.classes,
      rows: p.rows.toTransfer(),
      idf: p.idf,
      unknownIdf: p.unknownIdf,
      postStart: p.postStart,
      postClass: p.postClass,
      postWeight: p.postWeight,
      documents: [p.documents.start, p.documents.ids, p.documents.values],
      firstDocument: p.firstDocument,
      centroids: [p.centroids.start, p.centroids.ids, p.centroids.values],
      settings: p.settings,
    };
    const arrays = [
      data.rows.keys,
      data.rows.slots,
      data.idf,
      data.postStart,
      data.postClass,
      data.postWeight,
      ...data.documents,
      data.firstDocument,
      ...data.centroids,
    ];
    return { data, transfer: buffersOf(arrays) };
  }

  static fromTransfer(data: ModelTransfer): RoutingModel {
    return new RoutingModel({
      classes: data.classes,
      rows: FeatureRows.fromTransfer(data.rows),
      idf: data.idf,
      unknownIdf: data.unknownIdf,
      postStart: data.postStart,
      postClass: data.postClass,
      postWeight: data.postWeight,
      documents: new PackedVectors(...data.documents),
      firstDocument: data.firstDocument,
      centroids: new PackedVectors(...data.centroids),
      settings: data.settings,
    });
  }

  get settings(): ScoringSettings {
    return this.parts.settings;
  }

  /**
   * The class of `name`, by binary search of the sorted names: no map of them is built, so a model of
   * 10,000 agents received from a worker is adopted without a pass over its names.
   */
  indexOf(name: string): number | undefined {
    const at = lowerBound(this.classes, name);
    return this.classes[at] === name ? at : undefined;
  }

  /** The query's unit vector over the model's rows. */
  vectorOf(terms: TermCounts): SparseVector {
    const { rows, idf, unknownIdf, settings } = this.parts;
    return weighTerms(terms, rows, idf, unknownIdf, settings.features);
  }

  /** Share of the query's content words some document uses; 0 for a query of no words. */
  knownWordRatio(terms: TermCounts): number {
    const words = terms.contentWords;
    if (words.length === 0) return 0;
    let known = 0;
    for (const id of words) if (this.parts.rows.has(id)) known++;
    return known / words.length;
  }

  /** Cosine between `vector` and the class's centroid. */
  similarity(cls: number, vector: SparseVector): number {
    return this.parts.centroids.dot(cls, vector);
  }

  /**
   * How much two agents are about the same thing: the cosine of their centroids, and the same with each
   * feature weighed by its rarity among agents (near intents share rare words such as "pending"; agents of
   * distinct domains share at most common ones).
   */
  affinity(a: number, b: number): { cosine: number; distinctive: number } {
    const x = this.parts.centroids.vector(a);
    const y = this.parts.centroids.vector(b);
    const { postStart } = this.parts;
    const classes = this.classes.length;
    const weight = (row: number) => {
      const agents = postStart[row + 1]! - postStart[row]!;
      return agents === 0 ? 0 : Math.log(classes / agents);
    };
    let shared = 0;
    let normX = 0;
    let normY = 0;
    for (let i = 0; i < x.ids.length; i++) normX += (x.values[i]! * weight(x.ids[i]!)) ** 2;
    for (let j = 0; j < y.ids.length; j++) normY += (y.values[j]! * weight(y.ids[j]!)) ** 2;
    for (let i = 0, j = 0; i < x.ids.length && j < y.ids.length; ) {
      const id = x.ids[i]!;
      if (id === y.ids[j]) shared += x.values[i++]! * y.values[j++]! * weight(id) ** 2;
      else if (id < y.ids[j]!) i++;
      else j++;
    }
    return {
      cosine: this.parts.centroids.dot(a, y),
      distinctive: normX > 0 && normY > 0 ? shared / Math.sqrt(normX * normY) : 0,
    };
  }

  /** Cosine between `vector` and the closest of the class's documents. */
  nearestDocument(cls: number, vector: SparseVector): number {
    const { documents, firstDocument } = this.parts;
    let best = 0;
    for (let d = firstDocument[cls]!; d < firstDocument[cls + 1]!; d++) {
      const similarity = documents.dot(d, vector);
      if (similarity > best) best = similarity;
    }
    return best;
  }

  /**
   * Scores every agent for `terms` (one pass over the query's postings) and returns the best `limit`, with
   * the nearest-document vote added to the best few.
   */
  search(terms: TermCounts, limit: number): ModelSearch {
    const vector = this.vectorOf(terms);
    const knownWordRatio = this.knownWordRatio(terms);
    const { postStart, postClass, postWeight, settings } = this.parts;
    const { scores, marked, touched } = this;
    const classes = this.classes.length;
    let count = 0;
    for (let j = 0; j < vector.ids.length; j++) {
      const row = vector.ids[j]!;
      const x = vector.values[j]!;
      for (let p = postStart[row]!, end = postStart[row + 1]!; p < end; p++) {
        const cls = postClass[p]!;
        if (marked[cls] === 0) {
          marked[cls] = 1;
          touched[count++] = cls;
        }
        scores[cls]! += postWeight[p]! * x;
      }
    }
    const hits = topHits(scores, touched, count, Math.max(limit, settings.nearestHits));
    // Every class sharing no feature with the query scores 0.
    let max = count < classes ? 0 : Number.NEGATIVE_INFINITY;
    for (let k = 0; k < count; k++) max = Math.max(max, scores[touched[k]!]!);
    let total = (classes - count) * Math.exp(-max);
    for (let k = 0; k < count; k++) {
      const cls = touched[k]!;
      total += Math.exp(scores[cls]! - max);
      scores[cls] = 0;
      marked[cls] = 0;
    }
    // The nearest-document vote of the best few: it changes their share of the normaliser too.
    for (let rank = 0; rank < hits.length && rank < settings.nearestHits; rank++) {
      const hit = hits[rank]!;
      hit.nearest = this.nearestDocument(hit.cls, vector);
      const raised = hit.logit + settings.nearestWeight * hit.nearest;
      total += Math.exp(raised - max) - Math.exp(hit.logit - max);
      hit.logit = raised;
    }
    hits.sort((a, b) => b.logit - a.logit || a.cls - b.cls);
    if (hits.length > limit) hits.length = limit;
    return { hits, logNormaliser: max + Math.log(total), knownWordRatio, vector };
  }
}

/** The `limit` touched classes of highest score, best first (ties by class). */
function topHits(scores: Float64Array, touched: Int32Array, count: number, limit: number): ModelHit[] {
  const hits: ModelHit[] = [];
  if (count <= limit * 4) {
    for (let k = 0; k < count; k++) {
      const cls = touched[k]!;
      hits.push({ cls, logit: scores[cls]!, nearest: 0 });
    }
    hits.sort((a, b) => b.logit - a.logit || a.cls - b.cls);
    if (hits.length > limit) hits.length = limit;
    return hits;
  }
  // A bounded selection: keep a sorted window of the best `limit`.
  for (let k = 0; k < count; k++) {
    const cls = touched[k]!;
    const logit = scores[cls]!;
    if (hits.length === limit) {
      const worst = hits[limit - 1]!;
      if (logit < worst.logit || (logit === worst.logit && cls > worst.cls)) continue;
      hits.pop();
    }
    let i = hits.length;
    hits.push({ cls, logit, nearest: 0 });
    while (
      i > 0 &&
      (hits[i - 1]!.logit < logit || (hits[i - 1]!.logit === logit && hits[i - 1]!.cls > cls))
    ) {
      hits[i] = hits[i - 1]!;
      i--;
    }
    hits[i] = { cls, logit, nearest: 0 };
  }
  return hits;
}

/** The distinct buffers under `arrays` (a buffer may be listed only once for transfer). */
export function buffersOf(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) if (array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
  return [...buffers];
}
