/**
 * @module routing/model-build
 * A full build of stage 1 as a background job: the model over every agent, and its calibration fitted on
 * held-out folds of the same registry (fold models trained without some agents and some examples, whose
 * held-out examples are scored as in-scope or out-of-scope samples). Everything is a function of the agents'
 * documents taken in name order, so the same registry builds the same model whatever order it was filled in.
 */
import type { TrainingJob } from './background-trainer.js';
import {
  type Calibration,
  type CalibrationData,
  type CalibrationSample,
  calibrationFit,
  calibrationFromTransfer,
  calibrationToTransfer,
} from './calibration.js';
import type { TermCounts } from './feature-extractor.js';
import { ModelTrainer, seededRandom, type TrainingSettings } from './model-trainer.js';
import { buffersOf, type ModelTransfer, RoutingModel } from './routing-model.js';

/** An agent as the build saw it: `version` tells the index whether it changed while the build ran. */
export interface BuildItem {
  readonly name: string;
  readonly version: number;
  /** The profile's terms first, then each example's. */
  readonly terms: readonly TermCounts[];
}

export interface BuiltModel {
  readonly model: RoutingModel;
  readonly calibration: Calibration;
  /** Each agent's version as built, by class (`model.classes` order). */
  readonly versions: Float64Array;
}

/** A built model as transferable data (see `RoutingModel.toTransfer`). */
export interface BuiltTransfer {
  readonly model: ModelTransfer;
  readonly calibration: CalibrationData | null;
  readonly versions: Float64Array;
}

export function builtToTransfer(built: BuiltModel): { data: BuiltTransfer; transfer: ArrayBuffer[] } {
  const model = built.model.toTransfer();
  return {
    data: {
      model: model.data,
      calibration: calibrationToTransfer(built.calibration),
      versions: built.versions,
    },
    transfer: [...model.transfer, ...buffersOf([built.versions])],
  };
}

export function builtFromTransfer(data: BuiltTransfer): BuiltModel {
  return {
    model: RoutingModel.fromTransfer(data.model),
    calibration: calibrationFromTransfer(data.calibration),
    versions: data.versions,
  };
}

/** A whole build at once, blocking: what a training worker runs (or a caller that cannot wait). */
export function buildModel(items: readonly BuildItem[], settings: BuildSettings): BuiltModel {
  let built: BuiltModel | undefined;
  const build = new ModelBuild(items, settings, (result) => {
    built = result;
  });
  while (!build.advance(Number.POSITIVE_INFINITY));
  build.commit();
  return built!;
}

export interface BuildSettings {
  readonly training: TrainingSettings;
  /** Folds of held-out agents and examples the calibration is fitted on (fewer for large registries). */
  readonly folds: number;
  /** A registry with more documents than this gets a single calibration fold (bounded build time): one fold
   * of a large registry already holds out thousands of samples. */
  readonly foldDocuments: number;
  /** Samples scored per fold at most. */
  readonly samplesPerFold: number;
}

/** Each fold holds out one in this many agents, and one in this many examples of the others. */
const FOLD_SHARE = 5;
/** A finished fold, let go of (its model is no longer needed). */
const EMPTY_FOLD: Fold = {
  trainer: new ModelTrainer([], { classes: [], terms: [] }),
  heldOut: [],
};

/** Best logits kept per sample for fitting the temperature. */
const TOP_LOGITS = 10;

interface Fold {
  readonly trainer: ModelTrainer;
  readonly heldOut: { readonly terms: TermCounts; readonly cls: number; readonly inScope: boolean }[];
}

export class ModelBuild implements TrainingJob {
  readonly startedAt = performance.now();
  private main: ModelTrainer | undefined;
  private readonly documents = { classes: [] as number[], terms: [] as TermCounts[] };
  private collected = 0;
  private readonly folds: Fold[] = [];
  private readonly foldCount: number;
  private foldIndex = 0;
  private sampleIndex = 0;
  private readonly samples: CalibrationSample[] = [];
  private planning: Generator<void, Fold> | undefined;
  private fit: Generator<void, Calibration> | undefined;
  private built: BuiltModel | undefined;

  /** @param items the registry's agents, sorted by name */
  constructor(
    readonly items: readonly BuildItem[],
    private readonly settings: BuildSettings,
    private readonly onCommit: (built: BuiltModel, startedAt: number) => void,
  ) {
    let total = 0;
    for (const item of items) total += item.terms.length;
    this.foldCount = items.length < 2 ? 0 : total > settings.foldDocuments ? 1 : settings.folds;
  }

  /**
   * The agents held out of fold `k`: one in five, by a seeded shuffle of their names (never all of them). In
   * steps of a few hundred agents, so a large registry's fold is planned between requests too.
   */
  private *fold(k: number, folds: number): Generator<void, Fold> {
    const { items, settings } = this;
    const random = seededRandom(settings.training.seed + 101 * k);
    const rank = items.map((_, i) => i);
    for (let i = rank.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rank[i], rank[j]] = [rank[j]!, rank[i]!];
    }
    const position = new Int32Array(items.length);
    rank.forEach((item, at) => {
      position[item] = at;
    });
    // With fewer than five agents per fold, folds take turns holding out one agent each.
    const held = items.map((_, i) =>
      items.length < FOLD_SHARE * folds
        ? position[i]! % folds === k
        : position[i]! % FOLD_SHARE === k % FOLD_SHARE,
    );
    if (held.every(Boolean)) held[rank[0]!] = false;
    const names: string[] = [];
    const documents = { classes: [] as number[], terms: [] as TermCounts[] };
    const heldOut: Fold['heldOut'] = [];
    for (let i = 0; i < items.length; i++) {
      if (i % 256 === 255) yield;
      const item = items[i]!;
      const examples = item.terms.length - 1;
      if (held[i]) {
        for (let e = 1; e <= examples; e++) heldOut.push({ terms: item.terms[e]!, cls: -1, inScope: false });
        continue;
      }
      const cls = names.length;
      names.push(item.name);
      item.terms.forEach((terms, e) => {
        if (e > 0 && examples >= 2 && (e + position[i]!) % FOLD_SHARE === k % FOLD_SHARE) {
          heldOut.push({ terms, cls, inScope: true });
        } else {
          documents.classes.push(cls);
          documents.terms.push(terms);
        }
      });
    }
    const step = Math.max(1, Math.ceil(heldOut.length / settings.samplesPerFold));
    return {
      trainer: new ModelTrainer(names, documents, settings.training),
      heldOut: heldOut.filter((_, i) => i % step === 0),
    };
  }

  advance(deadline: number): boolean {
    // Every step below checks the clock: a build of any size runs in slices.
    const { items } = this;
    while (this.collected < items.length) {
      const item = items[this.collected]!;
      for (const terms of item.terms) {
        this.documents.classes.push(this.collected);
        this.documents.terms.push(terms);
      }
      this.collected++;
      if (this.collected % 64 === 0 && performance.now() >= deadline) return false;
    }
    this.main ??= new ModelTrainer(
      items.map((item) => item.name),
      this.documents,
      this.settings.training,
    );
    if (!this.main.advance(deadline)) return false;
    while (this.foldIndex < this.foldCount) {
      while (this.folds.length === this.foldIndex) {
        this.planning ??= this.fold(this.foldIndex, this.foldCount);
        const step = this.planning.next();
        if (step.done === true) {
          this.folds.push(step.value);
          this.planning = undefined;
        }
        if (performance.now() >= deadline) return false;
      }
      const fold = this.folds[this.foldIndex]!;
      if (!fold.trainer.advance(deadline)) return false;
      const model = fold.trainer.result;
      while (this.sampleIndex < fold.heldOut.length) {
        const sample = fold.heldOut[this.sampleIndex++]!;
        this.samples.push(sampleOf(model, sample.terms, sample.cls, sample.inScope));
        if (performance.now() >= deadline) return false;
      }
      this.folds[this.foldIndex] = EMPTY_FOLD;
      this.foldIndex++;
      this.sampleIndex = 0;
      // Back to the trainer, which checks the clock: letting a fold's model go and the next step's setup are
      // each a few milliseconds, better not both in one slice.
      return false;
    }
    this.fit ??= calibrationFit(this.samples);
    for (;;) {
      const step = this.fit.next();
      if (step.done === true) {
        this.built = {
          model: this.main.result,
          calibration: step.value,
          versions: Float64Array.from(items, (item) => item.version),
        };
        return true;
      }
      if (performance.now() >= deadline) return false;
    }
  }

  commit(): void {
    if (this.built !== undefined) this.onCommit(this.built, this.startedAt);
  }
}

/** The evidence a model gives for its best hit on `terms`. */
export function evidenceOf(model: RoutingModel, terms: TermCounts): ReturnType<typeof searchEvidence> {
  return searchEvidence(model, model.search(terms, TOP_LOGITS), terms.contentWords.length);
}

function searchEvidence(model: RoutingModel, search: ReturnType<RoutingModel['search']>, words: number) {
  const top = search.hits[0];
  if (top === undefined) {
    return {
      evidence: {
        probability: 0,
        logit: 0,
        gap: 0,
        nearest: 0,
        similarity: 0,
        knownWordRatio: search.knownWordRatio,
        energy: search.logNormaliser,
        words,
      },
      search,
    };
  }
  const second = search.hits[1]?.logit ?? 0;
  return {
    evidence: {
      probability: Math.exp(top.logit - search.logNormaliser),
      logit: top.logit,
      gap: top.logit - second,
      nearest: top.nearest,
      similarity: model.similarity(top.cls, search.vector),
      knownWordRatio: search.knownWordRatio,
      energy: search.logNormaliser,
      words,
    },
    search,
  };
}

function sampleOf(model: RoutingModel, terms: TermCounts, cls: number, inScope: boolean): CalibrationSample {
  const { evidence, search } = evidenceOf(model, terms);
  if (!inScope) return { evidence, inScope };
  const hit = search.hits.find((h) => h.cls === cls);
  return {
    evidence,
    inScope,
    trueLogit: hit?.logit ?? 0,
    topLogits: search.hits.map((h) => h.logit),
    classes: model.size,
  };
}
