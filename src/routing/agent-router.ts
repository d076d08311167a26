/**
 * @module routing/agent-router
 * The two-stage router the service calls per chat message. Stage 1 scores every agent learned from its
 * examples and profile (synchronous, in-process); stage 2 selects: an LLM when a selector is configured,
 * else a calibrated offline decision, which is also the fallback whenever the LLM fails. Registry changes are
 * visible at once and trained in the background, in short slices between requests: routing never trains.
 *
 * @example
 * const router = new AgentRouter({ contextTtlMs: 30 * 60_000 });
 * router.upsert({ name: 'tickets', description: 'IT tickets', tags: [], capabilities: { examples: ['show my open tickets'] }, enabled: true, available: true });
 * await router.whenTrained(); // optional: routing works before, with the untrained model
 * const { selected, candidates, follow_up } = await router.route('list my tickets');
 */
import { AppError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { AgentIndex, POOL_SIZE, type TrainingStats } from './agent-index.js';
import type { CandidateSelector } from './candidate-selector.js';
import { splitClauses } from './clause-splitter.js';
import { dependsOnContextOnly, looksLikeFollowUp } from './follow-up-detector.js';
import { DECISION, decideOffline, type RankedText } from './offline-decision.js';
import type { RoutableAgent } from './routable-agent.js';

export interface AgentRouterOptions {
  /** Stage 2 with an LLM; without one, the offline decision selects. */
  selector?: CandidateSelector;
  /** How long a session's last agent steers follow-ups (default 30 minutes). */
  contextTtlMs?: number;
  logger?: Logger;
  now?: () => Date;
  /**
   * The "none fits" threshold on the in-scope probability (`ROUTER_MIN_CONFIDENCE`). Unset, the threshold
   * fitted from the registry's own examples is used.
   */
  minConfidence?: number;
  /**
   * Where background training runs: a worker thread (default), or the event loop in slices (for a router
   * that itself lives in a worker, or is only trained with `trainNow`).
   */
  trainer?: 'worker' | 'inline';
}

/** The session context the service keeps: who answered last, and when. */
export interface RouteContext {
  readonly last_agent_called: string | null;
  readonly updated_at: string | null;
}

export interface RouteOptions {
  /** How many candidates to return (1..50, default 5). */
  topK?: number;
  context?: RouteContext | null;
}

export interface RouteCandidate {
  name: string;
  /** Calibrated confidence (0..1) that this agent is the right one. */
  score: number;
}

export interface RouteResult {
  /** Agents to call; empty when no agent fits. */
  selected: string[];
  /** Stage 1's best routable agents, highest score first. */
  candidates: RouteCandidate[];
  /** True when the message was sent to the session's last agent as a continuation. */
  follow_up: boolean;
  /**
   * With two or more agents selected: what each should be asked, the clauses of the query meant for it
   * ("show my tickets and last month's cloud spend" gives each its half; an agent no clause goes to gets the
   * whole query).
   */
  parts?: Record<string, string>;
}

/** Where the router stands, for `/health` and benchmarks. */
export interface RouterStats extends TrainingStats {
  /** Agents known to the router, routable or not. */
  readonly agents: number;
  /** The "none fits" threshold in use, on the in-scope probability. */
  readonly minConfidence: number;
  /**
   * Where it comes from: `fitted` from the registry's examples, `configured` by ROUTER_MIN_CONFIDENCE, or
   * `default` when the registry is too small to fit one (fewer than two agents with examples).
   */
  readonly minConfidenceSource: 'fitted' | 'configured' | 'default';
  /** Held-out samples the calibration was fitted on. */
  readonly calibrationSamples: { readonly inScope: number; readonly outOfScope: number };
}

export const DEFAULT_TOP_K = 5;
export const MAX_TOP_K = 50;
export const MAX_QUERY_LENGTH = 4000;
const DEFAULT_CONTEXT_TTL_MS = 30 * 60_000;
/** Candidates shown to the LLM at least, even when the caller asks for fewer. */
const SELECTOR_CANDIDATES = 5;

export class AgentRouter {
  private readonly index: AgentIndex;
  private readonly selector: CandidateSelector | undefined;
  private readonly contextTtlMs: number;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly minConfidence: number | undefined;

  constructor(options: AgentRouterOptions = {}) {
    this.minConfidence = options.minConfidence;
    this.selector = options.selector;
    this.contextTtlMs = options.contextTtlMs ?? DEFAULT_CONTEXT_TTL_MS;
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? (() => new Date());
    this.index = new AgentIndex({
      ...(options.trainer !== undefined && { trainer: options.trainer }),
      onError: (error) => this.logger.error({ err: error }, 'router training failed; keeping the last model'),
    });
  }

  /** Number of agents known to the router, routable or not. */
  get size(): number {
    return this.index.size;
  }

  /** True when every registry change so far is trained (training runs in the background after changes). */
  get trained(): boolean {
    return this.index.stats().trained;
  }

  /** Resolves once the background training of every change so far is done. Routing never waits for it. */
  whenTrained(): Promise<void> {
    return this.index.whenTrained();
  }

  /** Trains every pending change now, blocking: for scripts that route right after loading a registry. */
  trainNow(): void {
    this.index.trainNow();
  }

  stats(): RouterStats {
    const calibration = this.index.calibration;
    return {
      agents: this.index.size,
      ...this.index.stats(),
      minConfidence: this.threshold(),
      minConfidenceSource:
        this.minConfidence !== undefined ? 'configured' : calibration.fitted ? 'fitted' : 'default',
      calibrationSamples: { inScope: calibration.inScopeSamples, outOfScope: calibration.outOfScopeSamples },
    };
  }

  /** The "none fits" threshold in use: configured, else fitted. */
  private threshold(): number {
    return this.minConfidence ?? this.index.calibration.threshold;
  }

  /** Stops background training, so a build in progress does not hold up shutdown. Routing still works. */
  close(): void {
    this.index.close();
  }

  /**
   * Adds or replaces an agent. Disabled and unavailable agents are kept, but never candidates. The agent is
   * routable at once with an untrained scorer; training follows in the background.
   */
  upsert(agent: RoutableAgent): void {
    this.index.upsert(agent);
  }

  /** Forgets an agent; returns whether it was known. */
  remove(name: string): boolean {
    return this.index.remove(name);
  }

  /** Stage 1 alone, synchronous: the best routable agents with calibrated scores. */
  rank(query: string, topK = DEFAULT_TOP_K): RouteCandidate[] {
    validate(query, topK);
    return this.ranking(query, topK).candidates.slice(0, topK);
  }

  /** Stage 1 with every calibrated number: the routable candidates and the in-scope probability. */
  assess(query: string, topK = DEFAULT_TOP_K): RankedText {
    validate(query, topK);
    const { candidates, inScope } = this.ranking(query, topK);
    return { candidates: candidates.slice(0, topK), inScope };
  }

  /** Both stages without an LLM, synchronous: the service's fast path and the LLM's fallback. */
  routeOffline(query: string, options: RouteOptions = {}): RouteResult {
    const topK = options.topK ?? DEFAULT_TOP_K;
    validate(query, topK);
    const whole = this.ranking(query, topK);
    const candidates = whole.candidates.slice(0, topK);
    const lastAgent = this.freshLastAgent(options.context);
    const threshold = this.threshold();
    const top = whole.candidates[0];
    // A follow-up goes to the session's last agent when it names no topic of its own ("show details"), or
    // when it does but stage 1 would not confidently send it to another agent ("and what did that cost us
    // on cloud last month" after the tickets agent names FinOps' topic, so it goes there).
    const followUp = looksLikeFollowUp(query);
    const topicless = followUp && dependsOnContextOnly(query);
    if (lastAgent !== null && followUp) {
      const elsewhere =
        !topicless &&
        top !== undefined &&
        top.name !== lastAgent &&
        whole.inScope >= threshold &&
        top.score >= DECISION.standalone;
      if (!elsewhere) return { selected: [lastAgent], candidates, follow_up: true };
    }
    // Without a conversation, a follow-up naming no topic ("show details") is nobody's to answer.
    if (topicless) return { selected: [], candidates, follow_up: false };
    const clauses = splitClauses(query);
    const splits = clauses.length >= 2 && clauses.length <= DECISION.maxClauses;
    const perClause = splits ? clauses.map((clause) => this.ranking(clause, 1)) : [];
    const selected = decideOffline(whole, perClause, threshold, (a, b) => this.index.affinity(a, b));
    const result: RouteResult = { selected, candidates, follow_up: false };
    if (selected.length >= 2) result.parts = this.partsFor(query, selected, clauses, perClause);
    return result;
  }

  /**
   * What each of several selected agents should be asked: the clauses of `query` that rank it highest among
   * `selected`. An agent no clause goes to, and every agent when there is nothing to split, gets the whole query.
   */
  partsFor(
    query: string,
    selected: readonly string[],
    clauses = splitClauses(query),
    rankings: readonly RankedText[] = [],
  ): Record<string, string> {
    const parts = new Map<string, string[]>();
    if (clauses.length >= 2) {
      for (const [i, clause] of clauses.entries()) {
        // The clause's ranking from the decision when it names a selected agent, else a deeper one.
        const among = (ranked: RankedText | undefined) =>
          ranked?.candidates.find((c) => selected.includes(c.name));
        const best = among(rankings[i]) ?? among(this.ranking(clause, MAX_TOP_K));
        if (best !== undefined) parts.set(best.name, [...(parts.get(best.name) ?? []), clause]);
      }
    }
    return Object.fromEntries(selected.map((name) => [name, parts.get(name)?.join('; ') ?? query]));
  }

  /** Routes a message: stage 1, then the LLM when configured (falling back to the offline decision). */
  async route(query: string, options: RouteOptions = {}): Promise<RouteResult> {
    const offline = this.routeOffline(query, options);
    if (this.selector === undefined) return offline;
    const lastAgent = this.freshLastAgent(options.context);
    const shown =
      offline.candidates.length >= SELECTOR_CANDIDATES
        ? offline.candidates
        : this.rank(query, SELECTOR_CANDIDATES);
    if (shown.length === 0 && lastAgent === null) return offline;
    try {
      const selection = await this.selector.select({
        query,
        lastAgent,
        candidates: shown.map(({ name, score }) => {
          const agent = this.index.get(name)!;
          return { name, score, description: agent.agent.description, examples: agent.examples.slice(0, 3) };
        }),
      });
      const selected = [...selection.selected];
      return {
        selected,
        candidates: offline.candidates,
        follow_up: selection.follow_up,
        ...(selected.length >= 2 && { parts: this.partsFor(query, selected) }),
      };
    } catch (error) {
      this.logger.warn({ err: error }, 'router LLM stage failed; using the offline decision');
      return offline;
    }
  }

  /**
   * Calibrated scores of the routable agents in the pool, best first, and how likely the query is in scope.
   * A candidate's score is P(in scope) times its share of the tempered softmax over every agent.
   */
  private ranking(query: string, topK: number): RankedText & { candidates: RouteCandidate[] } {
    const poolSize = Math.max(POOL_SIZE, topK + 8);
    const search = this.index.search(query, poolSize);
    if (search.hits.length === 0) return { candidates: [], inScope: 0 };
    const calibration = this.index.calibration;
    // A query whose best agent is disabled or unavailable is that agent's: it is not handed to a neighbour.
    const inScope = search.hits[0]!.routable ? calibration.inScope(search.evidence) : 0;
    const t = calibration.temperature;
    const max = Math.max(0, search.hits[0]!.logit) / t;
    // Agents outside the pool are taken to score 0, as in the temperature's fit.
    let total = Math.max(0, this.index.size - search.hits.length) * Math.exp(-max);
    for (const hit of search.hits) total += Math.exp(hit.logit / t - max);
    const candidates: RouteCandidate[] = [];
    for (const hit of search.hits) {
      if (!hit.routable) continue;
      candidates.push({ name: hit.name, score: round((inScope * Math.exp(hit.logit / t - max)) / total) });
    }
    return { candidates, inScope };
  }

  /** The session's last agent if the context is still fresh and the agent can still be called. */
  private freshLastAgent(context: RouteContext | null | undefined): string | null {
    const name = context?.last_agent_called ?? null;
    if (name === null || context?.updated_at == null) return null;
    const updated = Date.parse(context.updated_at);
    if (Number.isNaN(updated)) return null;
    const age = this.now().getTime() - updated;
    if (age > this.contextTtlMs) return null;
    return this.index.get(name)?.routable === true ? name : null;
  }
}

function validate(query: string, topK: number): void {
  if (typeof query !== 'string' || query.trim() === '') {
    throw new AppError('validation_error', 'query must be a non-empty string');
  }
  if (query.length > MAX_QUERY_LENGTH) {
    throw new AppError('validation_error', `query must be at most ${MAX_QUERY_LENGTH} characters`);
  }
  if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) {
    throw new AppError('validation_error', `top_k must be an integer from 1 to ${MAX_TOP_K}`);
  }
}

/** Four decimals are plenty for a confidence and keep responses stable across platforms. */
function round(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}
