/**
 * @module routing/model-trainer
 * Trains one `RoutingModel` from labelled documents, resumably: every phase (feature rows and document
 * frequencies, weighting, class supports, postings, stochastic gradient epochs) advances until a deadline
 * and picks up where it stopped, so a build of any size runs in short slices between requests.
 *
 * The model is softmax regression over every agent. An agent's weights live on the features of its own
 * documents (its support): softmax is unchanged by adding a constant per feature, so an agent needs no weight
 * on a feature it never saw, and a query touches only the agents that share a feature with it. Each gradient
 * step scores the example against all agents (those it touches exactly, the rest at 0), so every agent learns
 * against every other, not only against the ones retrieval finds closest. Weights start at the agent's scaled
 * centroid (a prototype scorer) and are shrunk by L2; epochs are bounded by a budget of posting visits, so
 * large registries train in bounded time.
 */
import { DEFAULT_FEATURES, type TermCounts, weighTermsInto } from './feature-extractor.js';
import { FeatureRows, RoutingModel, type ScoringSettings } from './routing-model.js';
import { PackedVectors } from './sparse-vector.js';

export interface TrainingSettings extends ScoringSettings {
  readonly maxEpochs: number;
  readonly minEpochs: number;
  /** Posting visits (scoring and update) one training may spend; more data gets fewer epochs. */
  readonly budget: number;
  /** Initial step size; decays as rate / (1 + decay * epoch). */
  readonly rate: number;
  readonly decay: number;
  /** L2 shrinkage per update. */
  readonly l2: number;
  /** Initial weights: this times the agent's centroid. */
  readonly initialScale: number;
  /** Seed of the example shuffle: the same documents always train the same model. */
  readonly seed: number;
  /**
   * A feature supported by more agents than this share (and than `minCommonCount`) gets no weights: in a
   * large registry such words ("my", "the") tell no agent apart, and their postings would dominate the cost
   * of every query and every training step. Small registries keep every feature.
   */
  readonly commonShare: number;
  readonly minCommonCount: number;
}

/**
 * Chosen on the training splits: the nearest-document vote changed top-1 by less than half a point either
 * way, so it only informs the calibration (for the best hit) and costs one agent's documents per query.
 */
export const DEFAULT_TRAINING: TrainingSettings = {
  features: DEFAULT_FEATURES,
  nearestHits: 1,
  nearestWeight: 0,
  maxEpochs: 12,
  minEpochs: 2,
  budget: 100_000_000,
  rate: 2,
  decay: 0.3,
  l2: 1e-5,
  initialScale: 8,
  seed: 7,
  commonShare: 0.01,
  minCommonCount: 200,
};

/** Labelled documents as parallel arrays (no object per document: a large registry has 100,000 of them). */
export interface LabelledDocuments {
  /** Each document's class, ascending (documents come grouped by class). */
  readonly classes: readonly number[];
  readonly terms: readonly TermCounts[];
}

/** How often to look at the clock inside loops over documents. */
const CHECK_EVERY = 4;

type Phase = 'rows' | 'idf' | 'weigh' | 'support' | 'count' | 'offsets' | 'fill' | 'cost' | 'train' | 'done';

export class ModelTrainer {
  private phase: Phase = 'rows';
  private cursor = 0;
  private readonly rows = new FeatureRows();
  private df: number[] = [];
  private idf = new Float32Array(0);
  private unknownIdf = 1;
  /** Every document's vector over rows, packed; then every class's centroid (its support), packed. */
  private features = 0;
  private docStart = new Int32Array(0);
  private docIds = new Int32Array(0);
  private docValues = new Float32Array(0);
  private centStart = new Int32Array(0);
  private centIds = new Int32Array(0);
  private centValues = new Float32Array(0);
  private counts = new Int32Array(0);
  private postStart = new Int32Array(0);
  private postClass = new Int32Array(0);
  private postWeight = new Float32Array(0);
  private fillAt = new Int32Array(0);
  private cost = 0;
  private epochs = 0;
  private epoch = 0;
  private order = new Int32Array(0);
  private readonly random: () => number;
  private model: RoutingModel | undefined;
  // Training scratch.
  private scores = new Float64Array(0);
  private marked = new Uint8Array(0);
  private touched = new Int32Array(0);
  /** Per-class start of its documents in `documents` (documents come grouped by class). */
  private readonly firstDocument: Int32Array;

  /**
   * @param classes agent names, sorted (a document's `cls` indexes them)
   * @param documents grouped by class, classes ascending
   */
  constructor(
    private readonly classes: readonly string[],
    private readonly documents: LabelledDocuments,
    private readonly settings: TrainingSettings = DEFAULT_TRAINING,
  ) {
    this.random = seededRandom(settings.seed);
    this.firstDocument = new Int32Array(classes.length + 1);
    let d = 0;
    for (let cls = 0; cls <= classes.length; cls++) {
      while (d < documents.classes.length && documents.classes[d]! < cls) d++;
      this.firstDocument[cls] = d;
    }
  }

  /** The trained model, once `advance` has returned true. */
  get result(): RoutingModel {
    if (this.model === undefined) throw new Error('the model is not trained yet');
    return this.model;
  }

  /** Works until `deadline` (`performance.now()` time); returns true once the model is built. */
  advance(deadline = Number.POSITIVE_INFINITY): boolean {
    for (;;) {
      if (this.phase === 'done') return true;
      const finished = this.step(deadline);
      if (finished) {
        this.cursor = 0;
        this.phase = NEXT[this.phase];
        if (this.phase === 'done') this.finish();
      }
      if (performance.now() >= deadline) return this.phase === 'done';
    }
  }

  /** Advances the current phase; returns true when the phase is complete. */
  private step(deadline: number): boolean {
    switch (this.phase) {
      case 'rows':
        return this.loop(this.documents.terms.length, deadline, (d) => {
          this.features += this.documents.terms[d]!.ids.length;
          for (const id of this.documents.terms[d]!.ids) {
            const row = this.rows.add(id);
            if (row === this.df.length) this.df.push(0);
            this.df[row]! += 1;
          }
        });
      case 'idf': {
        const n = this.documents.terms.length;
        this.idf = new Float32Array(this.df.length);
        for (let r = 0; r < this.df.length; r++) this.idf[r] = Math.log((1 + n) / (1 + this.df[r]!)) + 1;
        this.unknownIdf = Math.log(1 + n) + 1;
        this.df = [];
        return true;
      }
      case 'weigh':
        if (this.cursor === 0) {
          this.docStart = new Int32Array(this.documents.terms.length + 1);
          this.docIds = new Int32Array(this.features);
          this.docValues = new Float32Array(this.features);
        }
        return this.loop(this.documents.terms.length, deadline, (d) => {
          const { docStart } = this;
          const written = weighTermsInto(
            this.documents.terms[d]!,
            this.rows,
            this.idf,
            this.unknownIdf,
            this.settings.features,
            this.docIds,
            this.docValues,
            docStart[d]!,
          );
          docStart[d + 1] = docStart[d]! + written;
        });
      case 'support':
        if (this.cursor === 0) {
          // A centroid has at most the features of its documents together.
          this.centStart = new Int32Array(this.classes.length + 1);
          this.centIds = new Int32Array(this.features);
          this.centValues = new Float32Array(this.features);
        }
        return this.loop(this.classes.length, deadline, (cls) => {
          const written = this.centroidInto(this.firstDocument[cls]!, this.firstDocument[cls + 1]!, cls);
          this.centStart[cls + 1] = this.centStart[cls]! + written;
        });
      case 'count':
        if (this.cursor === 0) this.counts = new Int32Array(this.idf.length);
        return this.loop(this.classes.length, deadline, (cls) => {
          for (let p = this.centStart[cls]!; p < this.centStart[cls + 1]!; p++)
            this.counts[this.centIds[p]!]! += 1;
        });
      case 'offsets': {
        const rows = this.idf.length;
        const common = Math.max(
          this.settings.minCommonCount,
          this.settings.commonShare * this.classes.length,
        );
        this.postStart = new Int32Array(rows + 1);
        for (let r = 0; r < rows; r++) {
          this.postStart[r + 1] = this.postStart[r]! + (this.counts[r]! > common ? 0 : this.counts[r]!);
        }
        this.fillAt = this.postStart.slice(0, rows);
        const total = this.postStart[rows]!;
        this.postClass = new Int32Array(total);
        this.postWeight = new Float32Array(total);
        this.counts = new Int32Array(0);
        return true;
      }
      case 'fill':
        // Classes ascending: each row's postings come out sorted by class.
        return this.loop(this.classes.length, deadline, (cls) => {
          for (let i = this.centStart[cls]!; i < this.centStart[cls + 1]!; i++) {
            const row = this.centIds[i]!;
            if (this.postStart[row] === this.postStart[row + 1]) continue;
            const p = this.fillAt[row]!++;
            this.postClass[p] = cls;
            this.postWeight[p] = this.settings.initialScale * this.centValues[i]!;
          }
        });
      case 'cost':
        return this.loop(this.documents.terms.length, deadline, (d) => {
          for (let i = this.docStart[d]!; i < this.docStart[d + 1]!; i++) {
            const row = this.docIds[i]!;
            this.cost += this.postStart[row + 1]! - this.postStart[row]!;
          }
          if (d === this.documents.terms.length - 1) this.planEpochs();
        });
      case 'train':
        return this.train(deadline);
      case 'done':
        return true;
    }
  }

  /** Runs `body` for cursor..count-1 until the deadline; returns true when the cursor reached `count`. */
  private loop(count: number, deadline: number, body: (i: number) => void): boolean {
    while (this.cursor < count) {
      body(this.cursor++);
      if (this.cursor % CHECK_EVERY === 0 && performance.now() >= deadline) break;
    }
    return this.cursor >= count;
  }

  private planEpochs(): void {
    const { maxEpochs, minEpochs, budget } = this.settings;
    // Each visit is paid twice: scoring, then the update.
    const perEpoch = Math.max(1, 2 * this.cost);
    this.epochs = Math.max(minEpochs, Math.min(maxEpochs, Math.floor(budget / perEpoch)));
    const n = this.documents.terms.length;
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.scores = new Float64Array(this.classes.length);
    this.marked = new Uint8Array(this.classes.length);
    this.touched = new Int32Array(this.classes.length);
    this.shuffle();
  }

  private train(deadline: number): boolean {
    if (this.classes.length < 2 || this.documents.terms.length === 0) return true;
    const { rate, decay } = this.settings;
    while (this.epoch < this.epochs) {
      this.learn(this.order[this.cursor++]!, rate / (1 + decay * this.epoch));
      if (this.cursor === this.order.length) {
        this.epoch++;

        this.cursor = 0;
        this.shuffle();
      }
      if (performance.now() >= deadline) return this.epoch >= this.epochs;
    }
    return true;
  }

  /** One gradient step of the softmax loss over all agents for document `d`. */
  private learn(d: number, lr: number): void {
    const {
      postStart,
      postClass,
      postWeight,
      scores,
      marked,
      touched,
      docIds: ids,
      docValues: values,
    } = this;
    const own = this.documents.classes[d]!;
    const from = this.docStart[d]!;
    const to = this.docStart[d + 1]!;
    let count = 0;
    for (let j = from; j < to; j++) {
      const row = ids[j]!;
      const x = values[j]!;
      for (let p = postStart[row]!, end = postStart[row + 1]!; p < end; p++) {
        const cls = postClass[p]!;
        if (marked[cls] === 0) {
          marked[cls] = 1;
          touched[count++] = cls;
        }
        scores[cls]! += postWeight[p]! * x;
      }
    }
    const classes = this.classes.length;
    let max = count < classes ? 0 : Number.NEGATIVE_INFINITY;
    for (let k = 0; k < count; k++) max = Math.max(max, scores[touched[k]!]!);
    let total = (classes - count) * Math.exp(-max);
    for (let k = 0; k < count; k++) {
      const cls = touched[k]!;
      const e = Math.exp(scores[cls]! - max);
      scores[cls] = e;
      total += e;
    }
    // scores now hold the gradient coefficient of each touched class.
    for (let k = 0; k < count; k++) {
      const cls = touched[k]!;
      scores[cls] = scores[cls]! / total - (cls === own ? 1 : 0);
    }
    const { l2 } = this.settings;
    for (let j = from; j < to; j++) {
      const row = ids[j]!;
      const x = values[j]!;
      for (let p = postStart[row]!, end = postStart[row + 1]!; p < end; p++) {
        const g = scores[postClass[p]!]!;
        if (g > 1e-5 || g < -1e-5) postWeight[p] = postWeight[p]! - lr * (g * x + l2 * postWeight[p]!);
      }
    }
    for (let k = 0; k < count; k++) {
      const cls = touched[k]!;
      scores[cls] = 0;
      marked[cls] = 0;
    }
  }

  /**
   * Writes the unit mean of documents `from..to` (rows ascending) as centroid `cls`; returns its length. A class
   * without documents gets an empty one.
   */
  private centroidInto(from: number, to: number, cls: number): number {
    const { docStart, docIds, docValues, centIds, centValues } = this;
    const rows = this.idf.length;
    if (accumulator.length < rows) accumulator = new Float64Array(Math.max(rows, accumulator.length * 2));
    let count = 0;
    for (let p = docStart[from]!; p < docStart[to]!; p++) {
      const id = docIds[p]!;
      if (accumulator[id] === 0) {
        if (count === seen.length) {
          const grown = new Int32Array(seen.length * 2);
          grown.set(seen);
          seen = grown;
        }
        seen[count++] = id;
      }
      accumulator[id]! += docValues[p]!;
    }
    const ids = seen.subarray(0, count).sort();
    const at = this.centStart[cls]!;
    let norm = 0;
    for (let i = 0; i < count; i++) {
      const value = accumulator[ids[i]!]!;
      norm += value * value;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < count; i++) {
      centIds[at + i] = ids[i]!;
      centValues[at + i] = accumulator[ids[i]!]! * scale;
      accumulator[ids[i]!] = 0;
    }
    return count;
  }

  private shuffle(): void {
    const { order, random } = this;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const swap = order[i]!;
      order[i] = order[j]!;
      order[j] = swap;
    }
  }

  private finish(): void {
    const used = this.centStart[this.classes.length]!;
    this.model = new RoutingModel({
      classes: this.classes,
      rows: this.rows,
      idf: this.idf,
      unknownIdf: this.unknownIdf,
      postStart: this.postStart,
      postClass: this.postClass,
      postWeight: this.postWeight,
      documents: new PackedVectors(this.docStart, this.docIds, this.docValues),
      firstDocument: this.firstDocument,
      centroids: new PackedVectors(
        this.centStart,
        this.centIds.slice(0, used),
        this.centValues.slice(0, used),
      ),
      settings: this.settings,
    });
    this.centIds = new Int32Array(0);
    this.centValues = new Float32Array(0);
    this.fillAt = new Int32Array(0);
  }
}

const NEXT: Record<Phase, Phase> = {
  rows: 'idf',
  idf: 'weigh',
  weigh: 'support',
  support: 'count',
  count: 'offsets',
  offsets: 'fill',
  fill: 'cost',
  cost: 'train',
  train: 'done',
  done: 'done',
};

/** Dense scratch reused by `centroidInto`. */
let accumulator = new Float64Array(1024);
let seen = new Int32Array(1024);

/** A small deterministic PRNG (mulberry32): training must not depend on Math.random. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
