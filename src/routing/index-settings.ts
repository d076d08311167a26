/**
 * @module routing/index-settings
 * Every tunable of stage 1 in one place, with the values chosen on the training splits of BANKING77 and
 * HWU64 (never their test splits). One configuration serves every registry.
 */
import { DEFAULT_FEATURES, type FeatureSettings } from './feature-extractor.js';
import type { TrainingOptions } from './linear-reranker.js';

export interface IndexSettings {
  readonly features: FeatureSettings;
  /** How many agents retrieval hands to the reranker (and each training example is contrasted with). */
  readonly poolSize: number;
  /** Query features used for retrieval; the rest still count in reranking (see CentroidIndex.search). */
  readonly retrievalTerms: number;
  /** Features each agent's centroid is posted under in retrieval (its heaviest ones). */
  readonly postedTerms: number;
  /** Hits whose nearest document is computed; lower hits use their centroid cosine instead. */
  readonly nearestHits: number;
  /** Weight of the cosine to an agent's closest document, added to its reranker score. */
  readonly nearestWeight: number;
  /** An untrained scorer is this times the centroid: on the scale of trained logits. */
  readonly untrainedScale: number;
  /** Neighbours of a changed agent retrained with it, so they learn to tell it apart. */
  readonly neighboursRetrained: number;
  /** Rebuild everything once this share of the documents changed since the last build (IDF drift). */
  readonly rebuildFraction: number;
  /** Beyond this many documents in one training run, rivals are looked up per agent, not per example. */
  readonly perExampleRivalsLimit: number;
  /** Example-rival pairs one build may spend; more agents get fewer epochs (bounded build time). */
  readonly trainingBudget: number;
  readonly maxEpochs: number;
  readonly training: Omit<TrainingOptions, 'epochs'>;
  /** Longest stretch of background training between two turns of the event loop. */
  readonly sliceMs: number;
}

export const DEFAULT_SETTINGS: IndexSettings = {
  features: DEFAULT_FEATURES,
  poolSize: 16,
  retrievalTerms: 24,
  postedTerms: 128,
  nearestHits: 5,
  nearestWeight: 3,
  untrainedScale: 10,
  neighboursRetrained: 8,
  rebuildFraction: 0.25,
  perExampleRivalsLimit: 20_000,
  trainingBudget: 1_000_000,
  maxEpochs: 10,
  training: { rate: 0.5, l2: 1e-4, seed: 7 },
  sliceMs: 3,
};
