/**
 * @module routing/local-training
 * Retrains the agents that changed and their closest neighbours, on copies of their weights (copy on write),
 * published in one step when done: cheap enough to follow every registry change, even in a large registry.
 */
import type { TrainingJob } from './background-trainer.js';
import type { IndexSettings } from './index-settings.js';
import { type AgentWeights, cloneWeights, TrainingRun, type WeightStore } from './linear-reranker.js';
import type { RoutingModel } from './routing-model.js';
import { ExampleCollector } from './training-examples.js';

/** The live weights, with the ones training touched copied aside until commit. */
class Overlay implements WeightStore {
  readonly copies = new Map<number, { weights: AgentWeights; version: number }>();

  constructor(
    private readonly model: RoutingModel,
    private readonly versionOf: (slot: number) => number,
  ) {}

  read(slot: number): AgentWeights | undefined {
    const copy = this.copies.get(slot);
    if (copy !== undefined) return copy.weights;
    // An agent not trained yet scores by its centroid; training starts it from the equivalent weights.
    return this.model.reranker.read(slot) ?? this.copy(slot, this.model.untrainedWeights(slot));
  }

  write(slot: number): AgentWeights {
    const copy = this.copies.get(slot);
    if (copy !== undefined) return copy.weights;
    const live = this.model.reranker.read(slot);
    return live === undefined ? this.read(slot)! : this.copy(slot, cloneWeights(live))!;
  }

  private copy(slot: number, weights: AgentWeights | undefined): AgentWeights | undefined {
    if (weights !== undefined) this.copies.set(slot, { weights, version: this.versionOf(slot) });
    return weights;
  }
}

export class LocalTraining implements TrainingJob {
  private readonly overlay: Overlay;
  private collector: ExampleCollector | undefined;
  private run: TrainingRun | undefined;

  /**
   * @param model the live model (its weights are read, never written before commit)
   * @param changed slots of the agents that changed
   * @param versionOf an agent's current version: a copy of an agent that changed again is not published
   */
  constructor(
    private readonly model: RoutingModel,
    private readonly changed: readonly number[],
    private readonly versionOf: (slot: number) => number,
    private readonly registrySize: number,
    private readonly settings: IndexSettings,
  ) {
    this.overlay = new Overlay(model, versionOf);
  }

  advance(deadline: number): boolean {
    const { model, settings } = this;
    if (this.collector === undefined) {
      const affected = new Set<number>();
      for (const slot of this.changed) {
        const centroid = model.retrieval.centroid(slot);
        if (centroid === undefined) continue;
        affected.add(slot);
        for (const hit of model.nearestAgents(
          centroid,
          settings.neighboursRetrained,
          settings.retrievalTerms,
        )) {
          affected.add(hit.slot);
        }
      }
      this.collector = new ExampleCollector(model, [...affected], settings);
    }
    if (!this.collector.advance(deadline)) return false;
    this.run ??= new TrainingRun(this.collector.examples, this.overlay, {
      ...settings.training,
      epochs: this.collector.epochs(this.registrySize),
    });
    return this.run.advance(deadline);
  }

  commit(): void {
    for (const [slot, { weights, version }] of this.overlay.copies) {
      if (this.model.has(slot) && this.versionOf(slot) === version) this.model.reranker.set(slot, weights);
    }
  }
}
