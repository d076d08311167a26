/**
 * @module routing/candidate-selector
 * The contract of stage 2: given the query and stage 1's candidates, choose the agents to call. A selector
 * may fail in any way (throw, time out); the router then keeps its offline decision.
 */

export interface SelectorCandidate {
  readonly name: string;
  readonly description: string;
  /** A few of the agent's example queries. */
  readonly examples: readonly string[];
  /** Stage 1's calibrated confidence. */
  readonly score: number;
}

export interface SelectionRequest {
  readonly query: string;
  readonly candidates: readonly SelectorCandidate[];
  /** The session's last agent when its context is fresh and the agent can still be called. */
  readonly lastAgent: string | null;
}

export interface Selection {
  readonly selected: readonly string[];
  readonly follow_up: boolean;
}

export interface CandidateSelector {
  /** Resolves to names among the candidates (or the last agent); rejects when it cannot answer validly. */
  select(request: SelectionRequest): Promise<Selection>;
}
