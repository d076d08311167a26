/**
 * @module routing/model-build
 * A full build of stage 1 as a background job: re-weighs every document under frozen document frequencies,
 * indexes the centroids, collects examples and trains the reranker, all into a new model that the router
 * adopts in one step when the build is done.
 */
import type { TrainingJob } from './background-trainer.js';
import type { TermCounts } from './feature-extractor.js';
import type { IndexSettings } from './index-settings.js';
import { TrainingRun } from './linear-reranker.js';
import { RoutingModel } from './routing-model.js';
import type { SparseVector } from './sparse-vector.js';
import { ExampleCollector } from './training-examples.js';

/** An agent as the build saw it: `version` tells the index whether it changed while the build ran. */
export interface BuildItem {
  readonly slot: number;
  readonly version: number;
  readonly terms: readonly TermCounts[];
}

export class ModelBuild implements TrainingJob {
  readonly model: RoutingModel;
  /** Documents the build covers, for the index's drift accounting. */
  readonly documents: number;
  readonly startedAt = performance.now();
  private placed = 0;
  private collector: ExampleCollector | undefined;
  private run: TrainingRun | undefined;

  constructor(
    readonly items: readonly BuildItem[],
    private readonly weigh: (terms: TermCounts) => SparseVector,
    private readonly settings: IndexSettings,
    private readonly onCommit: (build: ModelBuild) => void,
  ) {
    this.model = new RoutingModel(settings.untrainedScale, settings.postedTerms);
    let documents = 0;
    for (const item of items) documents += item.terms.length;
    this.documents = documents;
  }

  advance(deadline: number): boolean {
    const { items, model, settings } = this;
    while (this.placed < items.length) {
      const item = items[this.placed++]!;
      model.place(item.slot, item.terms.map(this.weigh), true);
      if (performance.now() >= deadline) return false;
    }
    this.collector ??= new ExampleCollector(
      model,
      items.map((item) => item.slot),
      settings,
    );
    if (!this.collector.advance(deadline)) return false;
    this.run ??= new TrainingRun(this.collector.examples, model.reranker, {
      ...settings.training,
      epochs: this.collector.epochs(items.length),
    });
    return this.run.advance(deadline);
  }

  commit(): void {
    this.onCommit(this);
  }
}
