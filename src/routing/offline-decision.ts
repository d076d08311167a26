/**
 * @module routing/offline-decision
 * Stage 2 without an LLM: picks agents from calibrated probabilities. The best agent when the query is likely
 * in scope; more agents only when the query splits into clauses and a clause is clearly another agent's (a
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
  /** A further agent must own its clause (which must itself pass the threshold) with this confidence... */
  extra: 0.5,
  /**
   * ...and be of another domain than each picked agent: their centroids' cosine below `affinity`, and below
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
  const picked = new Map<string, number>();
  const top = whole.candidates[0];
  if (top !== undefined && whole.inScope >= threshold) picked.set(top.name, whole.inScope);
  if (clauses.length >= 2 && clauses.length <= DECISION.maxClauses) {
    for (const clause of clauses) {
      const best = clause.candidates[0];
      if (
        best !== undefined &&
        best.score >= DECISION.extra &&
        !picked.has(best.name) &&
        [...picked.keys()].every((name) => distinctDomains(affinity(name, best.name))) &&
        clause.inScope >= threshold
      ) {
        picked.set(best.name, clause.inScope);
      }
    }
  }
  return [...picked].sort((a, b) => b[1] - a[1]).map(([name]) => name);
}

/** Two agents are of distinct domains when they share neither much wording nor any rare word to speak of. */
function distinctDomains(affinity: Affinity): boolean {
  return affinity.cosine < DECISION.affinity && affinity.distinctive < DECISION.distinctive;
}
