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
  /**
   * With training in a worker: the rest before a build that follows another at once, as a multiple of that
   * build's duration, and at most how long (see `WorkerTrainer`); during a bulk registration training then
   * takes about a quarter of a core (up to half for builds over 3 s), leaving the rest to the requests that
   * make the changes.
   */
  readonly restRatio: number;
  readonly maxRestMs: number;
}

export const DEFAULT_SETTINGS: IndexSettings = {
  training: DEFAULT_TRAINING,
  folds: 5,
  foldDocuments: 3000,
  samplesPerFold: 2000,
  poolSize: 16,
  sliceMs: 3,
  busyPauseMs: 27,
  restRatio: 3,
  maxRestMs: 10_000,
};

/**
 * How much worker threads lower their scheduling priority (nice, relative to the event loop's, at most 19) on
 * Linux, where it is per thread. When the event loop and a worker want the same core, the scheduler then gives
 * the worker about a tenth of it (CFS weights 110 against 1024), so training and shadow routing take the
 * cores the event loop leaves idle and barely slow a request on a busy machine. Elsewhere the priority is the
 * whole process's: left alone.
 */
export const WORKER_NICE = 10;
