/**
 * @module insight/route-replay
 * What-if replay: the logged queries routed against the current registry and against the registry with one
 * change applied in memory (never saved), and what moved. The "after" side is a shadow router (every agent
 * upserted, the change applied, `trainNow()`, `routeOffline`). The "before" side is the live router when it
 * has learned every change (a trained router answers by the registry's content alone, as a full build does),
 * else a shadow router cached per revision; its answers are cached per revision too, so a second replay at
 * the same revision routes each query once. Routing runs in short slices that yield to the event loop.
 */
import { performance } from 'node:perf_hooks';
import { AppError } from '../errors.js';
import type { AgentRecord, AgentRegistration } from '../registry/agent-record.js';
import type { RegisteredAgent } from '../registry/agent-registry.js';
import type { RouteOptions, RouteResult } from '../routing/agent-router.js';
import type { RoutableAgent } from '../routing/routable-agent.js';
import { MAX_DECISION_PAGE } from '../sessions/routing-decision.js';
import type { SessionStore } from '../sessions/session-store.js';
import { routableRecord, toRoutable } from './routable-entry.js';

/** The router slice a replay needs: the seam's build-then-route methods. */
export interface ShadowRouter {
  upsert(agent: RoutableAgent): void;
  remove(name: string): boolean;
  trainNow(): void;
  routeOffline(query: string, options?: RouteOptions): RouteResult;
  close?(): void;
}

/** What the replay reads of the registry. */
export interface ReplayRegistry {
  readonly revision: number;
  list(): readonly RegisteredAgent[];
  get(name: string): RegisteredAgent | undefined;
  previewRegistration(input: AgentRegistration): Promise<AgentRecord>;
  previewCapabilities(name: string, capabilities: AgentRecord['capabilities']): AgentRecord;
}

export type ReplayChange =
  | { register: AgentRegistration }
  | { update: { name: string; capabilities: AgentRecord['capabilities'] } }
  | { delete: string };

export interface ReplayRequest {
  change: ReplayChange;
  /** Only decisions logged at or after this time (ISO-8601). */
  since?: string | undefined;
  /** The newest this many decisions (default 10,000). */
  limit?: number | undefined;
}

export interface ReplayedQuery {
  query: string;
  before: string[];
  after: string[];
  /** How many logged decisions had this query. */
  count: number;
}

export interface ReplayResult {
  /** Logged decisions replayed. */
  replayed: number;
  /** Decisions whose query was stored as a hash (ROUTER_LOG_QUERIES=false): they cannot be replayed. */
  skipped_hashed: number;
  /** Distinct queries whose selection differs, most frequent first. */
  changed: ReplayedQuery[];
  summary: {
    /** `"a->b": n`: n decisions that went to a and would go to b (several agents are joined with "+"). */
    moved: Record<string, number>;
    /** Decisions that were routed and would find no agent. */
    newly_none: number;
    /** Decisions that found no agent and would be routed. */
    newly_routed: number;
  };
}

/** The live router, when it may stand for the current registry. */
export interface LiveRouter {
  routeOffline(query: string, options?: RouteOptions): RouteResult;
  stats(): { trained: boolean };
}

export interface RouteReplayOptions {
  registry: ReplayRegistry;
  /** The service's router, kept in step with the registry; used for "before" while it is trained. */
  live?: LiveRouter;
  decisions: Pick<SessionStore, 'listDecisions'>;
  /** A new, empty router configured as the service's (threshold, no LLM stage). */
  newRouter: () => ShadowRouter;
  /** Longest stretch of routing between yields to the event loop (default 8 ms). */
  sliceMs?: number;
}

export const DEFAULT_REPLAY_LIMIT = 10_000;
export const MAX_REPLAY_LIMIT = 100_000;

export class RouteReplay {
  private current: { revision: number; router: ShadowRouter } | undefined;
  /** "Before" answers of the current revision, by query. */
  private answers: { revision: number; selected: Map<string, string[]> } = {
    revision: -1,
    selected: new Map(),
  };
  private running = false;
  private readonly sliceMs: number;

  constructor(private readonly options: RouteReplayOptions) {
    this.sliceMs = options.sliceMs ?? 8;
  }

  /**
   * Replay. The change is validated as the real call would validate it (400/404/409 as that call answers),
   * before anything is routed; one replay runs at a time (429 while another does).
   */
  async replay(request: ReplayRequest): Promise<ReplayResult> {
    if (this.running) {
      throw new AppError('rate_limited', 'A replay is already running; try again when it has finished');
    }
    this.running = true;
    try {
      const limit = request.limit ?? DEFAULT_REPLAY_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REPLAY_LIMIT) {
        throw new AppError('validation_error', `limit must be a whole number from 1 to ${MAX_REPLAY_LIMIT}`);
      }
      const apply = await this.prepare(request.change);
      const { queries, replayed, skipped } = await this.loggedQueries(request.since, limit);
      const revision = this.options.registry.revision;
      if (this.answers.revision !== revision) this.answers = { revision, selected: new Map() };
      const answers = this.answers.selected;
      const live = this.options.live;
      const router = live?.stats().trained ? live : undefined;
      let before: Pick<ShadowRouter, 'routeOffline'> | undefined = router;
      const beforeOf = (query: string) => {
        let selected = answers.get(query);
        if (selected === undefined) {
          before ??= this.currentRouter();
          selected = before.routeOffline(query).selected;
          answers.set(query, selected);
        }
        return selected;
      };
      const after = this.build((shadow) => apply(shadow));
      try {
        const result = await this.compare(queries, beforeOf, after, replayed, skipped);
        // Answers gathered while the registry changed under the replay are not kept for the new revision.
        if (this.options.registry.revision !== revision) this.answers = { revision: -1, selected: new Map() };
        return result;
      } finally {
        after.close?.();
      }
    } finally {
      this.running = false;
    }
  }

  /** Forget the cached router (the service is stopping). */
  close(): void {
    this.current?.router.close?.();
    this.current = undefined;
    this.answers = { revision: -1, selected: new Map() };
  }

  /** Validate the change and return how to apply it to a router holding the current registry. */
  private async prepare(change: ReplayChange): Promise<(router: ShadowRouter) => void> {
    const { registry } = this.options;
    if ('register' in change) {
      const record = await registry.previewRegistration(change.register);
      return (router) => router.upsert(routableRecord(record, true));
    }
    if ('update' in change) {
      const record = registry.previewCapabilities(change.update.name, change.update.capabilities);
      const available = registry.get(record.name)?.status === 'available';
      return (router) => router.upsert(routableRecord(record, available));
    }
    const name = change.delete;
    if (registry.get(name) === undefined) {
      throw new AppError('agent_not_found', `Agent "${name}" not found`);
    }
    return (router) => router.remove(name);
  }

  /** Distinct replayable queries of the newest `limit` decisions, with how often each was logged. */
  private async loggedQueries(
    since: string | undefined,
    limit: number,
  ): Promise<{ queries: Map<string, number>; replayed: number; skipped: number }> {
    const queries = new Map<string, number>();
    let replayed = 0;
    let skipped = 0;
    let cursor: string | undefined;
    for (let read = 0; read < limit; ) {
      const page = await this.options.decisions.listDecisions({
        limit: Math.min(MAX_DECISION_PAGE, limit - read),
        ...(since !== undefined && { since }),
        ...(cursor !== undefined && { cursor }),
      });
      read += page.decisions.length;
      for (const decision of page.decisions) {
        if (decision.query_hashed) {
          skipped++;
          continue;
        }
        replayed++;
        queries.set(decision.query, (queries.get(decision.query) ?? 0) + 1);
      }
      if (page.next_cursor === null) break;
      cursor = page.next_cursor;
    }
    return { queries, replayed, skipped };
  }

  /** The router of the registry as it is, rebuilt only when the revision moved. */
  private currentRouter(): ShadowRouter {
    const { revision } = this.options.registry;
    if (this.current?.revision !== revision) {
      this.current?.router.close?.();
      this.current = { revision, router: this.build() };
    }
    return this.current.router;
  }

  private build(change?: (router: ShadowRouter) => void): ShadowRouter {
    const router = this.options.newRouter();
    for (const entry of this.options.registry.list()) router.upsert(toRoutable(entry));
    change?.(router);
    router.trainNow();
    return router;
  }

  private async compare(
    queries: Map<string, number>,
    before: (query: string) => string[],
    after: ShadowRouter,
    replayed: number,
    skipped: number,
  ): Promise<ReplayResult> {
    const changed: ReplayedQuery[] = [];
    const moved: Record<string, number> = {};
    let newlyNone = 0;
    let newlyRouted = 0;
    let sliceStart = performance.now();
    for (const [query, count] of queries) {
      if (performance.now() - sliceStart >= this.sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
      const was = before(query);
      const now = after.routeOffline(query).selected;
      if (sameSelection(was, now)) continue;
      changed.push({ query, before: was, after: now, count });
      if (now.length === 0) newlyNone += count;
      else if (was.length === 0) newlyRouted += count;
      else {
        const key = `${was.join('+')}->${now.join('+')}`;
        moved[key] = (moved[key] ?? 0) + count;
      }
    }
    changed.sort((a, b) => b.count - a.count);
    return {
      replayed,
      skipped_hashed: skipped,
      changed,
      summary: { moved, newly_none: newlyNone, newly_routed: newlyRouted },
    };
  }
}

function sameSelection(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((name, i) => name === sorted[i]);
}
