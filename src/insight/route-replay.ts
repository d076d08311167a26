/**
 * @module insight/route-replay
 * What-if replay: the logged queries routed against the current registry and against the registry with one
 * change applied in memory (never saved), and what moved. The "after" side is a shadow router: every agent,
 * the change applied, trained, then routing the queries. The "before" side is the live router when it has
 * learned every change (a trained router answers by the registry's content alone, as a full build does),
 * else a shadow router of the current registry cached per revision; its answers are cached per revision
 * too, so a second replay at the same revision routes each query once.
 *
 * Shadow routers live in worker threads (`ShadowWorker`): their training and their routing never hold the
 * event loop, and the "after" side runs in parallel with the "before" side. The event loop only sends the
 * agents and queries in small batches and, when the live router answers "before", routes in slices of a few
 * milliseconds with a turn of the event loop between them; reading the log and comparing the answers are
 * sliced too, so a request waits a few milliseconds at most behind a replay. `shadows: 'inline'` keeps
 * everything on this thread (shadow routers from `newRouter`, trained with a blocking `trainNow`).
 */
import { performance } from 'node:perf_hooks';
import { AppError } from '../errors.js';
import type { AgentRecord, AgentRegistration } from '../registry/agent-record.js';
import type { RegisteredAgent } from '../registry/agent-registry.js';
import type { RouteOptions, RouteResult } from '../routing/agent-router.js';
import type { RoutableAgent } from '../routing/routable-agent.js';
import { ShadowWorker, type SpawnWorker } from '../routing/training-worker-client.js';
import type { ShadowChange, ShadowOptions } from '../routing/training-worker-shadow.js';
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
  /** Shadow routers in workers take the live router's threshold when it is configured. */
  stats(): { trained: boolean; minConfidence?: number; minConfidenceSource?: string };
}

export interface RouteReplayOptions {
  registry: ReplayRegistry;
  /** The service's router, kept in step with the registry; used for "before" while it is trained. */
  live?: LiveRouter;
  decisions: Pick<SessionStore, 'listDecisions'>;
  /** A new, empty router configured as the service's (threshold, no LLM stage), for `shadows: 'inline'`. */
  newRouter: () => ShadowRouter;
  /** Where shadow routers train and route: worker threads (default) or this thread. */
  shadows?: 'worker' | 'inline';
  /** How shadow workers are started (tests substitute an in-thread one). */
  spawn?: SpawnWorker;
  /** Longest stretch of routing on this thread between yields to the event loop (default 4 ms). */
  sliceMs?: number;
}

/** A router of one registry state, answering batches of queries with their selections. */
interface Shadow {
  route(queries: readonly string[]): Promise<string[][]>;
  close(): void;
}

export const DEFAULT_REPLAY_LIMIT = 10_000;
export const MAX_REPLAY_LIMIT = 100_000;

export class RouteReplay {
  private current: { revision: number; shadow: Promise<Shadow> } | undefined;
  /** "Before" answers of the current revision, by query. */
  private answers: { revision: number; selected: Map<string, string[]> } = {
    revision: -1,
    selected: new Map(),
  };
  private running = false;
  private readonly sliceMs: number;

  constructor(private readonly options: RouteReplayOptions) {
    this.sliceMs = options.sliceMs ?? 4;
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
      const change = await this.prepare(request.change);
      const { queries, replayed, skipped } = await this.loggedQueries(request.since, limit);
      const revision = this.options.registry.revision;
      if (this.answers.revision !== revision) this.answers = { revision, selected: new Map() };
      const answers = this.answers.selected;
      const list = [...queries.keys()];
      const missing = list.filter((query) => !answers.has(query));
      const agents = this.options.registry.list().map(toRoutable);
      // Both sides at once: the "after" shadow trains and routes in its worker while "before" is answered.
      const after = this.routeAfter(agents, change, list);
      const before = this.routeBefore(agents, missing).then((selected) => {
        for (const [i, query] of missing.entries()) answers.set(query, selected[i]!);
      });
      const [now] = await Promise.all([after, before]);
      const result = await this.compare(queries, answers, now, replayed, skipped);
      // Answers gathered while the registry changed under the replay are not kept for the new revision.
      if (this.options.registry.revision !== revision) this.answers = { revision: -1, selected: new Map() };
      return result;
    } finally {
      this.running = false;
    }
  }

  /** Forget the cached router (the service is stopping). */
  close(): void {
    void this.current?.shadow.then((shadow) => shadow.close(), ignore);
    this.current = undefined;
    this.answers = { revision: -1, selected: new Map() };
  }

  /** Validate the change and return it as a change of a router holding the current registry. */
  private async prepare(change: ReplayChange): Promise<ShadowChange> {
    const { registry } = this.options;
    if ('register' in change) {
      const record = await registry.previewRegistration(change.register);
      return { upsert: routableRecord(record, true) };
    }
    if ('update' in change) {
      const record = registry.previewCapabilities(change.update.name, change.update.capabilities);
      const available = registry.get(record.name)?.status === 'available';
      return { upsert: routableRecord(record, available) };
    }
    const name = change.delete;
    if (registry.get(name) === undefined) {
      throw new AppError('agent_not_found', `Agent "${name}" not found`);
    }
    return { remove: name };
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
      // SQLite answers synchronously: a turn of the event loop between pages, so requests pass in between.
      await nextTurn();
    }
    return { queries, replayed, skipped };
  }

  private async routeAfter(
    agents: readonly RoutableAgent[],
    change: ShadowChange,
    queries: readonly string[],
  ): Promise<string[][]> {
    const shadow = await this.open(agents, change);
    try {
      return await shadow.route(queries);
    } finally {
      shadow.close();
    }
  }

  /** "Before" answers: the trained live router's, else those of the current registry's cached shadow. */
  private async routeBefore(
    agents: readonly RoutableAgent[],
    queries: readonly string[],
  ): Promise<string[][]> {
    if (queries.length === 0) return [];
    const { live } = this.options;
    if (live?.stats().trained) return this.sliced(live).route(queries);
    const { revision } = this.options.registry;
    if (this.current?.revision !== revision) {
      this.close();
      const shadow = this.open(agents, null);
      // A failed build is not cached: the next replay tries again.
      shadow.catch(() => {
        if (this.current?.shadow === shadow) this.current = undefined;
      });
      this.current = { revision, shadow };
    }
    return (await this.current.shadow).route(queries);
  }

  /** A trained shadow router of `agents` with `change` applied. */
  private async open(agents: readonly RoutableAgent[], change: ShadowChange | null): Promise<Shadow> {
    if (this.options.shadows !== 'inline') {
      return ShadowWorker.open(agents, change, this.shadowOptions(), this.options.spawn);
    }
    const router = this.options.newRouter();
    for (const agent of agents) router.upsert(agent);
    if (change !== null) {
      if ('upsert' in change) router.upsert(change.upsert);
      else router.remove(change.remove);
    }
    router.trainNow();
    return { ...this.sliced(router), close: () => router.close?.() };
  }

  /** Shadow routers decide as the live one does offline: its configured threshold, if any. */
  private shadowOptions(): ShadowOptions {
    const stats = this.options.live?.stats();
    return stats?.minConfidenceSource === 'configured' && stats.minConfidence !== undefined
      ? { minConfidence: stats.minConfidence }
      : {};
  }

  /** Routing on this thread, in slices with a turn of the event loop between them. */
  private sliced(router: Pick<ShadowRouter, 'routeOffline'>): Shadow {
    return {
      route: async (queries) => {
        const selected: string[][] = [];
        let sliceStart = performance.now();
        for (const query of queries) {
          if (performance.now() - sliceStart >= this.sliceMs) {
            await nextTurn();
            sliceStart = performance.now();
          }
          selected.push(router.routeOffline(query).selected);
        }
        return selected;
      },
      close: () => {},
    };
  }

  private async compare(
    queries: Map<string, number>,
    before: Map<string, string[]>,
    after: readonly string[][],
    replayed: number,
    skipped: number,
  ): Promise<ReplayResult> {
    const changed: ReplayedQuery[] = [];
    const moved: Record<string, number> = {};
    let newlyNone = 0;
    let newlyRouted = 0;
    let i = 0;
    let sliceStart = performance.now();
    for (const [query, count] of queries) {
      if (performance.now() - sliceStart >= this.sliceMs) {
        await nextTurn();
        sliceStart = performance.now();
      }
      const was = before.get(query)!;
      const now = after[i++]!;
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

const ignore = () => {};

/** Resolves after a turn of the event loop (what waits to run, requests included, runs first). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function sameSelection(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((name, i) => name === sorted[i]);
}
