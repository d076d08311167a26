import { describe, expect, it } from 'vitest';
import { DECISION, decideOffline, type RankedText } from '../../src/routing/offline-decision.js';

/** A "none fits" threshold as a registry might have fitted it. */
const T = 0.6;

const ranked = (inScope: number, ...candidates: [string, number][]): RankedText => ({
  inScope,
  candidates: candidates.map(([name, score]) => ({ name, score })),
});
const distant = () => ({ cosine: 0, distinctive: 0 });

describe('decideOffline', () => {
  it('selects the best agent when the query is likely in scope, none otherwise', () => {
    expect(decideOffline(ranked(0.9, ['a', 0.7], ['b', 0.6]), [], T, distant)).toEqual(['a']);
    expect(decideOffline(ranked(T - 0.01, ['a', 0.9]), [], T, distant)).toEqual([]);
    expect(decideOffline(ranked(0), [], T, distant)).toEqual([]);
  });

  it("never takes the whole query's runner-up as a second agent", () => {
    expect(decideOffline(ranked(0.95, ['a', 0.9], ['b', 0.89]), [], T, distant)).toEqual(['a']);
  });

  it('selects the clear owners of the clauses when they are of distinct domains', () => {
    const whole = ranked(0.7, ['tickets', 0.6], ['finops', 0.3]);
    const clauses = [ranked(0.9, ['finops', 0.8]), ranked(0.95, ['tickets', 0.9])];
    // Ordered by how clearly each owns its clause.
    expect(decideOffline(whole, clauses, T, distant)).toEqual(['tickets', 'finops']);
    // The whole query's best is neither owner: the owners alone are selected.
    expect(decideOffline(ranked(0.8, ['oxygen', 0.5]), clauses, T, distant)).toEqual(['tickets', 'finops']);
    // One clause clearly owned: its owner, rather than the best for the mixed words of the whole.
    expect(
      decideOffline(ranked(0.8, ['oxygen', 0.5]), [clauses[0]!, ranked(0.2, ['x', 0.1])], T, distant),
    ).toEqual(['finops']);
    // Both clauses are needed even when the whole query fits nobody well.
    expect(decideOffline(ranked(0.3, ['tickets', 0.3]), clauses, T, distant)).toEqual(['tickets', 'finops']);
  });

  it('adds nobody for a weak clause, a close intent, or a narrative of many clauses', () => {
    const whole = ranked(0.9, ['pending_payment', 0.8]);
    const weak = [ranked(0.9, ['pending_payment', 0.9]), ranked(T - 0.1, ['pending_top_up', 0.9])];
    const unsure = [
      ranked(0.9, ['pending_payment', 0.9]),
      ranked(0.9, ['pending_top_up', DECISION.extra - 0.1]),
    ];
    expect(decideOffline(whole, unsure, T, distant)).toEqual(['pending_payment']);
    expect(decideOffline(whole, weak, T, distant)).toEqual(['pending_payment']);
    const close = [ranked(0.9, ['pending_payment', 0.9]), ranked(0.95, ['pending_top_up', 0.9])];
    // Close: sharing much wording, or a rare word.
    expect(decideOffline(whole, close, T, () => ({ cosine: 0.5, distinctive: 0 }))).toEqual([
      'pending_payment',
    ]);
    expect(decideOffline(whole, close, T, () => ({ cosine: 0.1, distinctive: 0.2 }))).toEqual([
      'pending_payment',
    ]);
    expect(decideOffline(whole, close, T, distant)).toEqual(['pending_payment', 'pending_top_up']);
    const many = [...close, ranked(0.95, ['card_arrival', 0.9]), ranked(0.95, ['fees', 0.9])];
    expect(decideOffline(whole, many, T, distant)).toEqual(['pending_payment']);
  });
});
