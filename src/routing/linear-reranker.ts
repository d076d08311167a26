/**
 * @module routing/linear-reranker
 * The discriminative half of stage 1: one sparse linear scorer per agent over the features of its own
 * documents, trained with a softmax over the candidates retrieval proposes for each example, so the weights
 * learn what separates an agent from the agents it is confused with, not just what it mentions. Weights sit
 * in small open-addressing tables, so scoring a query costs one probe per query feature whatever the
 * agent's size; training advances in bounded steps so it can run in time slices.
 */
import type { SparseVector } from './sparse-vector.js';

/** One agent's scorer: feature id -> weight, in a linear-probing hash table (keys -1 when empty). */
export interface AgentWeights {
  readonly keys: Int32Array;
  readonly values: Float32Array;
  readonly shift: number;
  bias: number;
}

/** One labelled training document: its vector, its agent's slot and the slots it must beat. */
export interface TrainingExample {
  readonly vector: SparseVector;
  readonly slot: number;
  /** Competing slots (the example's own slot may appear; it is skipped). */
  readonly rivals: Int32Array;
}

export interface TrainingOptions {
  epochs: number;
  /** Initial step size; decays as rate / (1 + 0.3 * epoch). */
  rate: number;
  /** L2 shrinkage per update, keeps rare features from dominating a few-shot agent. */
  l2: number;
  /** Seed of the example shuffle, so the same registry always trains to the same model. */
  seed: number;
}

/** Where a training run reads and writes weights: a live reranker, or a copy-on-write overlay of one. */
export interface WeightStore {
  read(slot: number): AgentWeights | undefined;
  /** The weights of `slot` that training may modify. */
  write(slot: number): AgentWeights;
}

const BIAS_RATE = 0.1;
const GOLDEN = 0x9e3779b1;
/** Table slots per feature: most probes are misses (query features the agent never saw), and a sparse table
 * ends a miss after about one probe. */
const LOAD = 2;

/** Weights equal to `scale` times `centroid`: an untrained scorer ranks like cosine retrieval. */
export function weightsFrom(centroid: SparseVector, scale: number): AgentWeights {
  let bits = 2;
  while (1 << bits < centroid.ids.length * LOAD + 1) bits++;
  const keys = new Int32Array(1 << bits).fill(-1);
  const values = new Float32Array(1 << bits);
  const weights = { keys, values, shift: 32 - bits, bias: 0 };
  for (let i = 0; i < centroid.ids.length; i++) {
    let h = Math.imul(centroid.ids[i]!, GOLDEN) >>> weights.shift;
    while (keys[h] !== -1) h = (h + 1) & (keys.length - 1);
    keys[h] = centroid.ids[i]!;
    values[h] = scale * centroid.values[i]!;
  }
  return weights;
}

export function cloneWeights(weights: AgentWeights): AgentWeights {
  return { keys: weights.keys, values: weights.values.slice(), shift: weights.shift, bias: weights.bias };
}

/** The linear score of an agent for a vector: bias plus one probe per feature of the vector. */
export function scoreWith(weights: AgentWeights, vector: SparseVector): number {
  const { keys, values, shift } = weights;
  const mask = keys.length - 1;
  const { ids, values: x } = vector;
  let sum = weights.bias;
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j]!;
    let h = Math.imul(id, GOLDEN) >>> shift;
    for (;;) {
      const key = keys[h]!;
      if (key === id) {
        sum += values[h]! * x[j]!;
        break;
      }
      if (key === -1) break;
      h = (h + 1) & mask;
    }
  }
  return sum;
}

function step(weights: AgentWeights, vector: SparseVector, gradient: number, rate: number, l2: number): void {
  weights.bias -= rate * BIAS_RATE * gradient;
  const { keys, values, shift } = weights;
  const mask = keys.length - 1;
  const { ids, values: x } = vector;
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j]!;
    let h = Math.imul(id, GOLDEN) >>> shift;
    for (;;) {
      const key = keys[h]!;
      if (key === id) {
        values[h] = values[h]! - rate * (gradient * x[j]! + l2 * values[h]!);
        break;
      }
      if (key === -1) break;
      h = (h + 1) & mask;
    }
  }
}

/** Every agent's scorer, by slot. */
export class LinearReranker implements WeightStore {
  private readonly weights: (AgentWeights | undefined)[] = [];

  set(slot: number, weights: AgentWeights): void {
    this.weights[slot] = weights;
  }

  delete(slot: number): void {
    this.weights[slot] = undefined;
  }

  read(slot: number): AgentWeights | undefined {
    return this.weights[slot];
  }

  write(slot: number): AgentWeights {
    return this.weights[slot]!;
  }
}

/**
 * Stochastic gradient descent on the softmax loss of each example against its rivals, resumable: `advance`
 * works until a deadline and picks up where it stopped, so a large build never blocks the event loop long.
 */
export class TrainingRun {
  private readonly order: Int32Array;
  private readonly random: () => number;
  private epoch = 0;
  private position = 0;
  private readonly classes: number[] = [];
  private readonly logits: number[] = [];

  constructor(
    private readonly examples: readonly TrainingExample[],
    private readonly store: WeightStore,
    private readonly options: TrainingOptions,
  ) {
    // A plain loop: Int32Array.from over an iterator costs tens of milliseconds for 100,000 examples.
    this.order = new Int32Array(examples.length);
    for (let i = 0; i < examples.length; i++) this.order[i] = i;
    this.random = seededRandom(options.seed);
    this.shuffle();
  }

  get done(): boolean {
    return this.epoch >= this.options.epochs || this.examples.length === 0;
  }

  /** Trains until `deadline` (a `performance.now()` time) or the end; returns whether it has finished. */
  advance(deadline = Number.POSITIVE_INFINITY): boolean {
    while (!this.done) {
      const end = Math.min(this.order.length, this.position + 8);
      const rate = this.options.rate / (1 + 0.3 * this.epoch);
      for (let p = this.position; p < end; p++) this.learn(this.examples[this.order[p]!]!, rate);
      this.position = end;
      if (this.position === this.order.length) {
        this.epoch++;
        this.position = 0;
        this.shuffle();
      }
      if (performance.now() >= deadline) break;
    }
    return this.done;
  }

  private learn(example: TrainingExample, rate: number): void {
    const { classes, logits, store } = this;
    classes.length = 0;
    logits.length = 0;
    classes.push(example.slot);
    for (const rival of example.rivals) {
      if (rival !== example.slot && store.read(rival) !== undefined) classes.push(rival);
    }
    if (classes.length < 2) return;
    const { vector } = example;
    let max = Number.NEGATIVE_INFINITY;
    for (const slot of classes) {
      const logit = scoreWith(store.read(slot)!, vector);
      logits.push(logit);
      if (logit > max) max = logit;
    }
    let total = 0;
    for (let c = 0; c < logits.length; c++) {
      logits[c] = Math.exp(logits[c]! - max);
      total += logits[c]!;
    }
    for (let c = 0; c < classes.length; c++) {
      const gradient = logits[c]! / total - (c === 0 ? 1 : 0);
      if (Math.abs(gradient) > 1e-4) step(store.write(classes[c]!), vector, gradient, rate, this.options.l2);
    }
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
}

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
