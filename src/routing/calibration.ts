/**
 * @module routing/calibration
 * Turns stage-1 scores into probabilities that mean what they say for this registry, fitted from the
 * registry's own examples (see `ModelBuild`): held-out examples of registered agents are in-scope samples, the
 * examples of agents held out of a fold's model are out-of-scope ones. Two fits:
 *
 * - P(in scope), a logistic regression on the best hit's evidence (its softmax share, logit, lead over the
 *   runner-up, cosine to its closest example and to its centroid, the share of known words), with both labels
 *   weighted alike (prior odds 1:1);
 * - a softmax temperature, so that P(agent | in scope) matches how often the held-out example's agent wins.
 *
 * The "none fits" threshold is the in-scope probability that rejects `FITTED_REJECTION` of the held-out
 * in-scope samples, for the documented target of at most `TARGET_REJECTION` of in-scope queries.
 */

/** The documented target: at most this share of in-scope queries answered with "none fits". */
export const TARGET_REJECTION = 0.03;
/**
 * The share of held-out in-scope samples the fitted threshold rejects: below the target, as a margin for the
 * difference between fold models and the full one (chosen on the training splits: fitted at 3%, a dev split
 * of them saw 1.6-4.6% of in-scope queries rejected; fitted at 2%, 0.8-3.8%).
 */
export const FITTED_REJECTION = 0.02;

/** What stage 1 says about a query's best agent. */
export interface Evidence {
  /** Softmax share of the best agent over all agents. */
  readonly probability: number;
  readonly logit: number;
  /** Logit lead over the runner-up. */
  readonly gap: number;
  readonly nearest: number;
  readonly similarity: number;
  readonly knownWordRatio: number;
  /** How many content words the query has: a short query is weaker evidence whatever it matches. */
  readonly words: number;
  /** Log of the softmax normaliser over all agents: how much evidence the query gives any agent at all. */
  readonly energy: number;
}

export interface CalibrationSample {
  readonly evidence: Evidence;
  readonly inScope: boolean;
  /** For in-scope samples: the true agent's logit, the best logits and how many agents were scored. */
  readonly trueLogit?: number;
  readonly topLogits?: readonly number[];
  readonly classes?: number;
}

export interface Calibration {
  /** False when the registry is too small to fit (fewer than two agents, or no held-out examples). */
  readonly fitted: boolean;
  /** The fitted "none fits" threshold on the in-scope probability. */
  readonly threshold: number;
  readonly temperature: number;
  /** Samples the fit used. */
  readonly inScopeSamples: number;
  readonly outOfScopeSamples: number;
  /** The fitted coefficients (absent when unfitted). */
  readonly data?: CalibrationData;
  inScope(evidence: Evidence): number;
}

/** Samples needed of each label for a fit. */
const MIN_SAMPLES = 3;
/** Ridge penalty on the standardised coefficients: keeps a fit on a few dozen samples tame. */
const RIDGE = 1;
const NEWTON_STEPS = 12;

/**
 * Without a fit (a registry of one agent, or of agents without examples), the in-scope probability is the
 * cosine to the best agent's closest document, and this is the threshold: a query must share about a third
 * of its weight with something an agent was described or exemplified by.
 */
export const UNFITTED_THRESHOLD = 0.3;

export const UNFITTED: Calibration = {
  fitted: false,
  threshold: UNFITTED_THRESHOLD,
  temperature: 1,
  inScopeSamples: 0,
  outOfScopeSamples: 0,
  inScope: (evidence) => Math.max(evidence.nearest, evidence.similarity),
};

function features(e: Evidence): number[] {
  return [
    Math.log(Math.max(e.probability, 1e-9)),
    e.logit,
    e.gap,
    e.nearest,
    e.similarity,
    e.knownWordRatio,
    e.energy,
    Math.log(1 + e.words),
  ];
}

/** Fits the calibration; `UNFITTED` when there are too few samples of either label. */
export function fitCalibration(samples: readonly CalibrationSample[]): Calibration {
  const fit = calibrationFit(samples);
  for (;;) {
    const step = fit.next();
    if (step.done === true) return step.value;
  }
}

/**
 * The fit in steps (one Newton step or one step of the temperature's search each), so a background build
 * can interleave it with requests: the generator's return value is the calibration.
 */
export function* calibrationFit(samples: readonly CalibrationSample[]): Generator<void, Calibration> {
  const positives = samples.filter((s) => s.inScope);
  const negatives = samples.length - positives.length;
  if (positives.length < MIN_SAMPLES || negatives < MIN_SAMPLES) return UNFITTED;
  const rows = samples.map((s) => features(s.evidence));
  const dims = rows[0]!.length;
  const mean = new Array<number>(dims).fill(0);
  const scale = new Array<number>(dims).fill(0);
  for (const row of rows) for (let i = 0; i < dims; i++) mean[i]! += row[i]! / rows.length;
  for (const row of rows) for (let i = 0; i < dims; i++) scale[i]! += (row[i]! - mean[i]!) ** 2 / rows.length;
  for (let i = 0; i < dims; i++) scale[i] = Math.sqrt(scale[i]!) || 1;
  const x = rows.map((row) => [1, ...row.map((v, i) => (v - mean[i]!) / scale[i]!)]);
  yield;
  const y = samples.map((s) => (s.inScope ? 1 : 0));
  // Both labels weigh the same in total.
  const weightOf = [0.5 / negatives, 0.5 / positives.length];
  const w = yield* newtonLogistic(x, y, (i) => weightOf[y[i]!]!, samples.length);
  const partial = fittedCalibration({
    weights: w,
    mean,
    scale,
    threshold: 0,
    temperature: 1,
    inScopeSamples: positives.length,
    outOfScopeSamples: negatives,
  });
  const accepted = positives.map((s) => partial.inScope(s.evidence)).sort((a, b) => a - b);
  const threshold = accepted[Math.floor(FITTED_REJECTION * accepted.length)]!;
  return fittedCalibration({
    ...partial.data,
    threshold: round(threshold),
    temperature: yield* fitTemperature(positives),
  });
}

/** A fitted calibration as plain data: what a build in another thread sends back with its model. */
export interface CalibrationData {
  /** Coefficients of the logistic regression: the intercept, then one per standardised feature. */
  readonly weights: readonly number[];
  readonly mean: readonly number[];
  readonly scale: readonly number[];
  readonly threshold: number;
  readonly temperature: number;
  readonly inScopeSamples: number;
  readonly outOfScopeSamples: number;
}

/** A calibration as data (`null` for `UNFITTED`), for `postMessage`, which keeps no functions. */
export function calibrationToTransfer(calibration: Calibration): CalibrationData | null {
  return calibration.data ?? null;
}

export function calibrationFromTransfer(data: CalibrationData | null): Calibration {
  return data === null ? UNFITTED : fittedCalibration(data);
}

/** The calibration of fitted coefficients: the one place its in-scope probability is computed. */
function fittedCalibration(data: CalibrationData): Calibration & { readonly data: CalibrationData } {
  const { weights: w, mean, scale } = data;
  const dims = mean.length;
  return {
    fitted: true,
    threshold: data.threshold,
    temperature: data.temperature,
    inScopeSamples: data.inScopeSamples,
    outOfScopeSamples: data.outOfScopeSamples,
    data,
    inScope(evidence: Evidence): number {
      const f = features(evidence);
      let z = w[0]!;
      for (let i = 0; i < dims; i++) z += w[i + 1]! * ((f[i]! - mean[i]!) / scale[i]!);
      return 1 / (1 + Math.exp(-z));
    },
  };
}

/** Weighted, ridge-penalised logistic regression by Newton's method (few features, so exact steps are cheap). */
function* newtonLogistic(
  x: readonly number[][],
  y: readonly number[],
  weight: (i: number) => number,
  n: number,
): Generator<void, number[]> {
  const d = x[0]!.length;
  const w = new Array<number>(d).fill(0);
  const ridge = RIDGE / n;
  for (let step = 0; step < NEWTON_STEPS; step++) {
    const gradient = new Array<number>(d).fill(0);
    const hessian = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < x.length; i++) {
      const row = x[i]!;
      let z = 0;
      for (let a = 0; a < d; a++) z += w[a]! * row[a]!;
      const p = 1 / (1 + Math.exp(-z));
      const c = weight(i);
      for (let a = 0; a < d; a++) {
        gradient[a]! += c * (p - y[i]!) * row[a]!;
        for (let b = 0; b <= a; b++) hessian[a]![b]! += c * p * (1 - p) * row[a]! * row[b]!;
      }
    }
    for (let a = 1; a < d; a++) {
      gradient[a]! += ridge * w[a]!;
      hessian[a]![a]! += ridge;
    }
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) hessian[a]![b] = hessian[b]![a]!;
    hessian[0]![0]! += 1e-9;
    const delta = solve(hessian, gradient);
    let change = 0;
    for (let a = 0; a < d; a++) {
      w[a]! -= delta[a]!;
      change = Math.max(change, Math.abs(delta[a]!));
    }
    if (change < 1e-6) break;
    yield;
  }
  return w;
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and positive definite). */
function solve(matrix: number[][], vector: number[]): number[] {
  const n = vector.length;
  const a = matrix.map((row, i) => [...row, vector[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]! || 1e-12;
    for (let r = col + 1; r < n; r++) {
      const f = a[r]![col]! / p;
      for (let c = col; c <= n; c++) a[r]![c]! -= f * a[col]![c]!;
    }
  }
  const out = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = a[r]![n]!;
    for (let c = r + 1; c < n; c++) sum -= a[r]![c]! * out[c]!;
    out[r] = sum / (a[r]![r]! || 1e-12);
  }
  return out;
}

/** The temperature (0.25..4) that minimises the held-out loss of the true agent, by golden-section search. */
function* fitTemperature(samples: readonly CalibrationSample[]): Generator<void, number> {
  const usable = samples.filter((s) => s.trueLogit !== undefined && s.topLogits !== undefined);
  if (usable.length < MIN_SAMPLES) return 1;
  const loss = (t: number) => {
    let total = 0;
    for (const s of usable) {
      const top = s.topLogits!;
      const max = Math.max(0, ...top) / t;
      let z = Math.max(0, (s.classes ?? top.length) - top.length) * Math.exp(-max);
      for (const logit of top) z += Math.exp(logit / t - max);
      total += Math.log(z) + max - s.trueLogit! / t;
    }
    return total;
  };
  let lo = Math.log(0.25);
  let hi = Math.log(4);
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 30; i++) {
    const a = hi - ratio * (hi - lo);
    const b = lo + ratio * (hi - lo);
    if (loss(Math.exp(a)) < loss(Math.exp(b))) hi = b;
    else lo = a;
    yield;
  }
  return round(Math.exp((lo + hi) / 2));
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
