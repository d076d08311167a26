/**
 * @module routing/training-examples
 * Gathers the reranker's training examples (each document of the agents being trained, with the agents
 * retrieval confuses it with), a few agents at a time, so collecting them fits in time slices too.
 */
import type { IndexSettings } from './index-settings.js';
import type { TrainingExample } from './linear-reranker.js';
import type { RoutingModel } from './routing-model.js';
import type { SparseVector } from './sparse-vector.js';

/** Fewest rivals an example is trained against, whatever the budget. */
const MIN_RIVALS = 6;

export class ExampleCollector {
  readonly examples: TrainingExample[] = [];
  private next = 0;
  /** Position within the current agent's documents. */
  private document = 0;
  private shared: Int32Array | undefined;
  private readonly perExample: boolean;
  /** Rivals per example: the pool, or fewer when even one epoch against the whole pool exceeds the budget. */
  private readonly rivals: number;

  /**
   * @param model where documents and rivals are looked up
   * @param slots the agents whose documents become examples
   */
  constructor(
    private readonly model: RoutingModel,
    private readonly slots: readonly number[],
    private readonly settings: IndexSettings,
  ) {
    let documents = 0;
    for (const slot of slots) documents += model.documents(slot).length;
    // Each example's own rivals are best but cost one search each; past the limit the agent's rivals (one
    // search with its centroid) stand in for its examples', keeping a build of 10,000 agents within seconds.
    this.perExample = documents <= settings.perExampleRivalsLimit;
    this.rivals = Math.max(
      MIN_RIVALS,
      Math.min(settings.poolSize, Math.floor(settings.trainingBudget / Math.max(1, documents))),
    );
  }

  /** Collects until `deadline`; returns true when every agent's examples are in. */
  advance(deadline: number): boolean {
    const { model } = this;
    while (this.next < this.slots.length) {
      const slot = this.slots[this.next]!;
      const documents = model.documents(slot);
      if (this.document === 0 && !this.perExample) {
        const centroid = model.retrieval.centroid(slot);
        this.shared = centroid === undefined ? new Int32Array(0) : this.rivalsOf(centroid);
      }
      // One search per document in per-example mode: check the clock after each, an agent may have thousands.
      for (; this.document < documents.length; this.document++) {
        const vector = documents[this.document]!;
        this.examples.push({ vector, slot, rivals: this.shared ?? this.rivalsOf(vector) });
        if (this.perExample && performance.now() >= deadline) {
          this.document++;
          return false;
        }
      }
      this.next++;
      this.document = 0;
      if (performance.now() >= deadline) break;
    }
    return this.next === this.slots.length;
  }

  private rivalsOf(vector: SparseVector): Int32Array {
    const hits = this.model.nearestAgents(vector, this.rivals, this.settings.retrievalTerms);
    return Int32Array.from(hits, (hit) => hit.slot);
  }

  /** Epochs that fit the training budget for these examples against `registrySize` agents. */
  epochs(registrySize: number): number {
    const { settings } = this;
    const pairs = Math.max(1, this.examples.length * Math.min(this.rivals, registrySize));
    return Math.max(1, Math.min(settings.maxEpochs, Math.floor(settings.trainingBudget / pairs)));
  }
}
