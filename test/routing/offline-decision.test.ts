import { describe, expect, it } from 'vitest';
import { THRESHOLDS } from '../../src/routing/calibrated-confidence.js';
import { decideOffline, type RankedText } from '../../src/routing/offline-decision.js';

const ranked = (inScope: number, ...candidates: [string, number][]): RankedText => ({
  inScope,
  candidates: candidates.map(([name, score]) => ({ name, score })),
});
const distant = () => ({ cosine: 0, distinctive: 0 });

describe('decideOffline', () => {
  it('selects the best agent when the query is likely in scope, none otherwise', () => {
    expect(decideOffline(ranked(0.9, ['a', 0.7], ['b', 0.6]), [], distant)).toEqual(['a']);
    expect(decideOffline(ranked(THRESHOLDS.select - 0.01, ['a', 0.9]), [], distant)).toEqual([]);
    expect(decideOffline(ranked(0), [], distant)).toEqual([]);
  });

  it("never takes the whole query's runner-up as a second agent", () => {
    expect(decideOffline(ranked(0.95, ['a', 0.9], ['b', 0.89]), [], distant)).toEqual(['a']);
  });

  it('adds the clear owner of another clause, from another domain', () => {
    const whole = ranked(0.7, ['tickets', 0.6], ['finops', 0.3]);
    const clauses = [ranked(0.95, ['tickets', 0.9]), ranked(0.9, ['finops', 0.8])];
    // Ordered by confidence: the finops clause is surer than the whole query is of tickets.
    expect(decideOffline(whole, clauses, distant)).toEqual(['finops', 'tickets']);
    // Both clauses are needed even when the whole query fits nobody well.
    expect(decideOffline(ranked(0.3, ['tickets', 0.3]), clauses, distant)).toEqual(['tickets', 'finops']);
  });

  it('adds nobody for a weak clause, a close intent, or a narrative of many clauses', () => {
    const whole = ranked(0.9, ['pending_payment', 0.8]);
    const weak = [
      ranked(0.9, ['pending_payment', 0.9]),
      ranked(THRESHOLDS.select - 0.1, ['pending_top_up', 0.9]),
    ];
    const unsure = [
      ranked(0.9, ['pending_payment', 0.9]),
      ranked(0.9, ['pending_top_up', THRESHOLDS.extra - 0.1]),
    ];
    expect(decideOffline(whole, unsure, distant)).toEqual(['pending_payment']);
    expect(decideOffline(whole, weak, distant)).toEqual(['pending_payment']);
    const close = [ranked(0.9, ['pending_payment', 0.9]), ranked(0.95, ['pending_top_up', 0.9])];
    // Close: sharing much wording, or a rare word.
    expect(decideOffline(whole, close, () => ({ cosine: 0.5, distinctive: 0 }))).toEqual(['pending_payment']);
    expect(decideOffline(whole, close, () => ({ cosine: 0.1, distinctive: 0.2 }))).toEqual([
      'pending_payment',
    ]);
    expect(decideOffline(whole, close, distant)).toEqual(['pending_top_up', 'pending_payment']);
    const many = [...close, ranked(0.95, ['card_arrival', 0.9]), ranked(0.95, ['fees', 0.9])];
    expect(decideOffline(whole, many, distant)).toEqual(['pending_payment']);
  });
});
