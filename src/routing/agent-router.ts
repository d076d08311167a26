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
import { AgentIndex, type IndexHit, POOL_SIZE, type TrainingStats } from './agent-index.js';
import { calibratedConfidence, inScopeProbability, THRESHOLDS } from './calibrated-confidence.js';
import type { CandidateSelector } from './candidate-selector.js';
import { splitClauses } from './clause-splitter.js';
import { dependsOnContextOnly, looksLikeFollowUp } from './follow-up-detector.js';
import { decideOffline, type RankedText } from './offline-decision.js';
import type { RoutableAgent } from './routable-agent.js';

export interface AgentRouterOptions {
  /** Stage 2 with an LLM; without one, the offline decision selects. */
  selector?: CandidateSelector;
  /** How long a session's last agent steers follow-ups (default 30 minutes). */
  contextTtlMs?: number;
  logger?: Logger;
  now?: () => Date;
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
}

/** Where the router stands, for `/health` and benchmarks. */
export interface RouterStats extends TrainingStats {
  /** Agents known to the router, routable or not. */
  readonly agents: number;
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

  constructor(options: AgentRouterOptions = {}) {
    this.selector = options.selector;
    this.contextTtlMs = options.contextTtlMs ?? DEFAULT_CONTEXT_TTL_MS;
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? (() => new Date());
    this.index = new AgentIndex({
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
    return { agents: this.index.size, ...this.index.stats() };
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

  /** Both stages without an LLM, synchronous: the service's fast path and the LLM's fallback. */
  routeOffline(query: string, options: RouteOptions = {}): RouteResult {
    const topK = options.topK ?? DEFAULT_TOP_K;
    validate(query, topK);
    const whole = this.ranking(query, topK);
    const candidates = whole.candidates.slice(0, topK);
    const lastAgent = this.freshLastAgent(options.context);
    const top = whole.candidates[0];
    // A follow-up goes to the session's last agent when it names no topic of its own ("show details"), or
    // when it does but no agent is confident about it on its own.
    if (
      lastAgent !== null &&
      looksLikeFollowUp(query) &&
      (dependsOnContextOnly(query) || !(top !== undefined && top.score >= THRESHOLDS.standalone))
    ) {
      return { selected: [lastAgent], candidates, follow_up: true };
    }
    // A query spanning domains splits the belief, so a query already confidently one agent's skips clauses.
    const clauses = top !== undefined && top.score >= THRESHOLDS.single ? [query] : splitClauses(query);
    const splits = clauses.length >= 2 && clauses.length <= THRESHOLDS.maxClauses;
    const perClause = splits ? clauses.map((clause) => this.ranking(clause, 1)) : [];
    const selected = decideOffline(whole, perClause, (a, b) => this.index.affinity(a, b));
    return { selected, candidates, follow_up: false };
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
      return {
        selected: [...selection.selected],
        candidates: offline.candidates,
        follow_up: selection.follow_up,
      };
    } catch (error) {
      this.logger.warn({ err: error }, 'router LLM stage failed; using the offline decision');
      return offline;
    }
  }

  /** Calibrated scores of the routable agents in the pool, best first, and whether the best one fits. */
  private ranking(query: string, topK: number): RankedText & { candidates: RouteCandidate[] } {
    const poolSize = Math.max(POOL_SIZE, topK + 8);
    const search = this.index.search(query, poolSize);
    const scored: (RouteCandidate & { hit: IndexHit })[] = [];
    for (const hit of search.hits) {
      if (hit.routable) scored.push({ name: hit.name, score: round(calibratedConfidence(hit, search)), hit });
    }
    scored.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1));
    const best = scored[0];
    const inScope =
      best === undefined
        ? 0
        : inScopeProbability(best.hit, search, this.index.size, this.index.get(best.name)!.examples.length);
    return { candidates: scored.map(({ name, score }) => ({ name, score })), inScope };
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
