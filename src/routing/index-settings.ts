/**
 * @module routing/index-settings
 * Every tunable of stage 1 in one place, with the values chosen on the training splits of BANKING77 and
 * HWU64 (never their test splits). One configuration serves every registry.
 */
import type { BuildSettings } from './model-build.js';
import { DEFAULT_TRAINING } from './model-trainer.js';

export interface IndexSettings extends BuildSettings {
  /** How many hits a search returns by default. */
  readonly poolSize: number;
  /** Longest stretch of background training between two turns of the event loop. */
  readonly sliceMs: number;
  /**
   * Pause before a training slice while the registry keeps changing (see `BackgroundTrainer`): with 3 ms
   * slices, training takes about a tenth of the thread during a bulk registration.
   */
  readonly busyPauseMs: number;
}

export const DEFAULT_SETTINGS: IndexSettings = {
  training: DEFAULT_TRAINING,
  folds: 5,
  foldDocuments: 3000,
  samplesPerFold: 2000,
  poolSize: 16,
  sliceMs: 3,
  busyPauseMs: 27,
};
