/**
 * @module routing/offline-decision
 * Stage 2 without an LLM: picks agents from calibrated probabilities. The best agent when the query is likely
 * in scope; several only when the query splits into clauses clearly owned by agents of distinct domains (a
 * request spanning domains); none when nothing fits. A second agent is never taken from the whole query's
 * runner-up: in a registry of close intents the runner-up is usually a near-synonym, not a second request.
 */
import type { Affinity } from './agent-index.js';

export interface ScoredAgent {
  readonly name: string;
  /** Calibrated confidence in 0..1. */
  readonly score: number;
}

/** Stage 1's answer for one text: routable candidates, best first, and whether anything fits at all. */
export interface RankedText {
  readonly candidates: readonly ScoredAgent[];
  /** Calibrated probability that the text belongs to a registered agent (0 when there is no candidate). */
  readonly inScope: number;
}

/**
 * The decision's levels on calibrated probabilities (the "none fits" threshold itself is fitted per registry
 * or configured; see `Calibration`), chosen on the training splits.
 */
export const DECISION = {
  /**
   * An agent owns a clause (which must itself pass the threshold) with at least this confidence... (0.35:
   * on pairs of HWU64 training-split utterances of different scenarios, both agents selected for 56.5% of
   * pairs with all examples and 32.3% with 10, against 48.5% and 28.0% at 0.5, with as few extra agents
   * (7.0% / 19.8% against 7.0% / 19.3%) and no more single requests given two agents; 0.3 and below
   * selected more wrong agents.)
   */
  extra: 0.35,
  /**
   * ...and several owners count only when of distinct domains: their centroids' cosine below `affinity`, and below
   * `distinctive` once features are weighed by rarity among agents (close intents share rare words, such as
   * "pending"; distinct domains share at most common ones).
   */
  affinity: 0.3,
  distinctive: 0.05,
  /** Messages of more clauses are narratives around one request (context), not lists of requests. */
  maxClauses: 3,
  /**
   * A follow-up that names a topic goes to another agent than the session's last only when that agent is
   * this sure (and the query passes the threshold).
   */
  standalone: 0.5,
} as const;

/**
 * @param whole stage 1 for the whole query
 * @param clauses stage 1 for each clause when the query splits into two or more
 * @param threshold the "none fits" threshold on the in-scope probability
 * @param affinity how much two agents are about the same thing
 */
export function decideOffline(
  whole: RankedText,
  clauses: readonly RankedText[],
  threshold: number,
  affinity: (a: string, b: string) => Affinity,
): string[] {
  const top = whole.candidates[0];
  const single = top !== undefined && whole.inScope >= threshold ? [top.name] : [];
  if (clauses.length < 2 || clauses.length > DECISION.maxClauses) return single;
  // Each clause's clear owner; two or more owners of distinct domains make a request that spans domains, and
  // then they alone are selected (the whole query's best is often neither of them, or one of them).
  const owners = new Map<string, number>();
  for (const clause of clauses) {
    const best = clause.candidates[0];
    if (best === undefined || best.score < DECISION.extra || clause.inScope < threshold) continue;
    owners.set(best.name, Math.max(owners.get(best.name) ?? 0, best.score));
  }
  const picked: [string, number][] = [];
  for (const [name, score] of [...owners].sort((a, b) => b[1] - a[1])) {
    if (picked.every(([other]) => distinctDomains(affinity(other, name)))) picked.push([name, score]);
  }
  if (picked.length >= 2) return picked.map(([name]) => name);
  // One clause clearly owned: its owner is a better guess than the best for the whole query, which mixes in
  // the words of the other clause.
  return picked.length === 1 && single.length > 0 ? [picked[0]![0]] : single;
}

/** Two agents are of distinct domains when they share neither much wording nor any rare word to speak of. */
function distinctDomains(affinity: Affinity): boolean {
  return affinity.cosine < DECISION.affinity && affinity.distinctive < DECISION.distinctive;
}
