import { describe, expect, it } from 'vitest';
import {
  type CalibrationSample,
  type Evidence,
  fitCalibration,
  TARGET_REJECTION,
  UNFITTED,
} from '../../src/routing/calibration.js';
import { seededRandom } from '../../src/routing/model-trainer.js';

function evidence(strength: number): Evidence {
  return {
    probability: Math.min(0.99, 0.2 + strength / 2),
    logit: 8 * strength,
    gap: 4 * strength,
    nearest: strength,
    similarity: strength / 2,
    knownWordRatio: Math.min(1, 0.4 + strength),
    energy: 6 * strength,
    words: 3,
  };
}

/** In-scope samples are stronger on average than out-of-scope ones, with overlap. */
function samples(count: number, seed: number): CalibrationSample[] {
  const random = seededRandom(seed);
  const out: CalibrationSample[] = [];
  for (let i = 0; i < count; i++) {
    const inScope = i % 2 === 0;
    const strength = (inScope ? 0.55 : 0.25) + 0.35 * (random() - 0.5);
    out.push({
      evidence: evidence(strength),
      inScope,
      ...(inScope && { trueLogit: 8 * strength, topLogits: [8 * strength, 2], classes: 10 }),
    });
  }
  return out;
}

describe('fitCalibration', () => {
  it('fits an in-scope probability that ranks in-scope samples higher, and a threshold to the target', () => {
    const data = samples(400, 3);
    const calibration = fitCalibration(data);
    expect(calibration).toMatchObject({ fitted: true, inScopeSamples: 200, outOfScopeSamples: 200 });
    expect(calibration.inScope(evidence(0.8))).toBeGreaterThan(calibration.inScope(evidence(0.2)));
    const positives = data.filter((s) => s.inScope);
    const rejected = positives.filter((s) => calibration.inScope(s.evidence) < calibration.threshold);
    expect(rejected.length / positives.length).toBeLessThanOrEqual(TARGET_REJECTION);
    // The threshold does reject something out of scope, or it would be no threshold at all.
    const negatives = data.filter((s) => !s.inScope);
    expect(negatives.some((s) => calibration.inScope(s.evidence) < calibration.threshold)).toBe(true);
    expect(calibration.temperature).toBeGreaterThanOrEqual(0.25);
    expect(calibration.temperature).toBeLessThanOrEqual(4);
  });

  it("learns from the query's length: with all else alike, the length in-scope samples had scores higher", () => {
    const random = seededRandom(11);
    const data: CalibrationSample[] = [];
    for (let i = 0; i < 300; i++) {
      const inScope = i % 2 === 0;
      const base = evidence(0.4 + 0.3 * (random() - 0.5));
      data.push({ evidence: { ...base, words: inScope ? 6 : 1 }, inScope });
    }
    const calibration = fitCalibration(data);
    const alike = evidence(0.4);
    expect(calibration.inScope({ ...alike, words: 6 })).toBeGreaterThan(
      calibration.inScope({ ...alike, words: 1 }),
    );
  });

  it('is a pure function of its samples', () => {
    const a = fitCalibration(samples(100, 5));
    const b = fitCalibration(samples(100, 5));
    expect(a.threshold).toBe(b.threshold);
    expect(a.inScope(evidence(0.4))).toBe(b.inScope(evidence(0.4)));
  });

  it('stays unfitted without samples of both labels', () => {
    expect(fitCalibration([])).toBe(UNFITTED);
    expect(fitCalibration(samples(40, 1).filter((s) => s.inScope))).toBe(UNFITTED);
    expect(UNFITTED.inScope(evidence(0.5))).toBe(0.5);
  });
});
