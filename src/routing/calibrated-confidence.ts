/**
 * @module routing/calibrated-confidence
 * Turns stage-1 hits into absolute probabilities, so fixed thresholds hold whatever the registry's size and
 * however many examples its agents have: how likely a hit is the right agent (its candidate score), and how
 * likely the query belongs to any registered agent at all (whether to select, or answer "none fits").
 *
 * Both are logistic regressions fitted once on the training splits only (BANKING77 and HWU64, split 80/20
 * inside the training data: agents from the 80%, queries from the 20%): K = 10 and all examples; registries of
 * 3, 6 and 12 random intents (four draws each) and of 80% of the intents, with queries of unregistered intents
 * as out of scope (one in five); each registry size and K weighs the same. The bench (`npm run bench --
 * routing`) measures how well this holds on the test splits.
 */
import type { IndexHit, IndexSearch } from './agent-index.js';

/** P(this hit is the query's agent): label "right agent", over the three best hits of each query. */
export const CONFIDENCE = {
  logProbability: 0.684,
  gap: 0.7,
  nearest: 0.644,
  similarity: 2.544,
  knownWords: 1.671,
  bias: -2.987,
} as const;

/**
 * P(the query belongs to a registered agent), from the best hit: label "in scope". Unlike the share of belief,
 * the absolute evidence (logit, cosines, known words) says whether anything fits; registry size and the
 * agent's number of examples set how much that evidence is worth.
 */
export const IN_SCOPE = {
  logProbability: 0.36,
  gap: 0.583,
  nearest: 0.291,
  similarity: -3.341,
  knownWords: 2.693,
  logit: 0.435,
  logRegistrySize: -0.073,
  logExamples: -0.706,
  bias: -0.936,
} as const;

/**
 * Decision thresholds, chosen on the same training-split data. `select` (on the in-scope probability) gives the
 * best decision accuracy (right agent, or none for out-of-scope queries) over all registry sizes while
 * rejecting about 15% of in-scope queries in the hardest case (many few-shot agents of one domain). The
 * others admit a further agent for one clause of a multi-part request, and only then: measured on single-intent
 * queries, a second agent was added to under 1% of them.
 */
export const THRESHOLDS = {
  select: 0.6,
  /** A further agent must own its clause (which must itself pass `select`) with this confidence... */
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
  /** A query whose best agent is this sure is not split into clauses for more agents. */
  single: 0.85,
  /**
   * A follow-up goes to the session's last agent unless the query alone is this clearly another agent's
   * ("what about last month?" after the tickets agent still means tickets).
   */
  standalone: 0.7,
} as const;

type HitEvidence = Pick<IndexHit, 'probability' | 'gap' | 'nearest' | 'similarity'>;

export function calibratedConfidence(hit: HitEvidence, search: Pick<IndexSearch, 'knownWordRatio'>): number {
  return sigmoid(
    CONFIDENCE.logProbability * Math.log(Math.max(hit.probability, 1e-9)) +
      CONFIDENCE.gap * hit.gap +
      CONFIDENCE.nearest * hit.nearest +
      CONFIDENCE.similarity * hit.similarity +
      CONFIDENCE.knownWords * search.knownWordRatio +
      CONFIDENCE.bias,
  );
}

/**
 * @param hit the best hit the router could select
 * @param registrySize agents in the registry
 * @param examples the hit's agent's number of example queries
 */
export function inScopeProbability(
  hit: HitEvidence & Pick<IndexHit, 'logit'>,
  search: Pick<IndexSearch, 'knownWordRatio'>,
  registrySize: number,
  examples: number,
): number {
  return sigmoid(
    IN_SCOPE.logProbability * Math.log(Math.max(hit.probability, 1e-9)) +
      IN_SCOPE.gap * hit.gap +
      IN_SCOPE.nearest * hit.nearest +
      IN_SCOPE.similarity * hit.similarity +
      IN_SCOPE.knownWords * search.knownWordRatio +
      IN_SCOPE.logit * hit.logit +
      IN_SCOPE.logRegistrySize * Math.log(Math.max(1, registrySize)) +
      IN_SCOPE.logExamples * Math.log1p(examples) +
      IN_SCOPE.bias,
  );
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
