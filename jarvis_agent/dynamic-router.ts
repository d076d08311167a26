/**
 * @module jarvis_agent/dynamic-router
 * The orchestrator's router: a local `AgentRouter` fed with the agents of the registry service. Listings are
 * polled with the last ETag (a 304 keeps everything), and only agents that changed are relearned.
 */
import { type Logger, silentLogger } from '../src/logger.js';
import {
  type AgentRouter,
  MAX_TOP_K,
  type RouteContext,
  type RouteResult,
} from '../src/routing/agent-router.js';
import { splitClauses } from '../src/routing/clause-splitter.js';
import type { RoutableAgent } from '../src/routing/routable-agent.js';
import type { Agent, RegistryClient } from './registry-client.js';

/**
 * The slice of `AgentRouter` used here. `whenTrained` is a capability: a router that learns in the
 * background has it, and routes with an untrained scorer until it resolves.
 */
export type LocalRouter = Pick<AgentRouter, 'upsert' | 'remove' | 'route' | 'rank'> & {
  whenTrained?(): Promise<void>;
};

export interface DynamicRouterOptions {
  registry: RegistryClient;
  /** The router the agents are fed into (its selector and context TTL come from the composition root). */
  router: LocalRouter;
  /** {@link DynamicRouter.refreshIfDue} asks the service at most this often (default 2000 ms). */
  refreshIntervalMs?: number;
  logger?: Logger;
  now?: () => number;
}

export interface RefreshResult {
  /** The service answered 304: nothing was rebuilt. */
  notModified: boolean;
  /** Agents added or changed since the last listing. */
  upserted: string[];
  /** Agents no longer registered. */
  removed: string[];
}

/** A routing decision with the records of the selected agents, in selection order. */
export interface RoutedQuery extends RouteResult {
  agents: Agent[];
}

export const DEFAULT_REFRESH_INTERVAL_MS = 2000;

export class DynamicRouter {
  private readonly registry: RegistryClient;
  private readonly router: LocalRouter;
  private readonly refreshIntervalMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private agents = new Map<string, Agent>();
  /** Each agent's record as last learned, serialized: a different string means it changed. */
  private readonly fingerprints = new Map<string, string>();
  private etag: string | undefined;
  private loaded = false;
  private lastRefreshAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<RefreshResult> | undefined;

  constructor(options: DynamicRouterOptions) {
    this.registry = options.registry;
    this.router = options.router;
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? Date.now;
  }

  /** Whether a listing has been loaded at least once. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  /** The agents as last listed by the service, by name (disabled and unavailable ones included). */
  get records(): ReadonlyMap<string, Agent> {
    return this.agents;
  }

  /**
   * Ask the service for the agent list now (conditionally on the last ETag) and relearn what changed.
   * Concurrent calls share one request. Throws the client's `ServiceCallError` when the service fails.
   */
  refresh(): Promise<RefreshResult> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Refresh unless the last one is more recent than the refresh interval. Once a listing is loaded, a
   * failing service is logged and the cached agents keep routing; before that, the failure is thrown.
   */
  async refreshIfDue(): Promise<void> {
    if (this.loaded && this.now() - this.lastRefreshAt < this.refreshIntervalMs) return;
    try {
      await this.refresh();
    } catch (error) {
      if (!this.loaded) throw error;
      this.logger.warn(
        { err: error },
        'could not refresh the agents from the registry; routing with the cached list',
      );
    }
  }

  /**
   * Route `query` among the cached agents; the session context steers follow-ups. Comes with the selected
   * agents' records; an agent removed by a refresh while the router was deciding is left out.
   */
  async route(query: string, context?: RouteContext | null): Promise<RoutedQuery> {
    await this.refreshIfDue();
    const result = await this.router.route(query, { context: context ?? null });
    const agents = result.selected.flatMap((name) => this.agents.get(name) ?? []);
    return { ...result, selected: agents.map((agent) => agent.name), agents };
  }

  /**
   * What each of several selected agents should be asked: the clauses of `query` that rank it highest among
   * `selected` ("show my tickets and last month's cloud spend" gives tickets and spend their own halves).
   * An agent no clause goes to, and every agent when there is nothing to split, gets the whole query.
   */
  partsFor(query: string, selected: readonly string[]): Map<string, string> {
    const parts = new Map<string, string[]>();
    const clauses = selected.length < 2 ? [] : splitClauses(query);
    if (clauses.length >= 2) {
      for (const clause of clauses) {
        const best = this.router
          .rank(clause, MAX_TOP_K)
          .find((candidate) => selected.includes(candidate.name));
        if (best !== undefined) parts.set(best.name, [...(parts.get(best.name) ?? []), clause]);
      }
    }
    return new Map(selected.map((name) => [name, parts.get(name)?.join('; ') ?? query]));
  }

  private async load(): Promise<RefreshResult> {
    const listing = await this.registry.listAgents(
      this.etag === undefined || !this.loaded ? {} : { ifNoneMatch: this.etag },
    );
    this.lastRefreshAt = this.now();
    if (listing.notModified) return { notModified: true, upserted: [], removed: [] };

    const next = new Map(listing.agents.map((agent) => [agent.name, agent]));
    const upserted: string[] = [];
    const removed: string[] = [];
    for (const name of this.agents.keys()) {
      if (!next.has(name)) {
        this.router.remove(name);
        this.fingerprints.delete(name);
        removed.push(name);
      }
    }
    for (const [name, agent] of next) {
      const fingerprint = JSON.stringify(agent);
      if (this.fingerprints.get(name) === fingerprint) continue;
      this.router.upsert(toRoutable(agent));
      this.fingerprints.set(name, fingerprint);
      upserted.push(name);
    }
    // The first listing is learned before anything is routed, so the first answers after start-up do not
    // come from an untrained scorer; later changes are learned in the background, as the router intends.
    if (!this.loaded) await this.router.whenTrained?.();
    this.agents = next;
    this.etag = listing.etag;
    this.loaded = true;
    if (upserted.length > 0 || removed.length > 0) {
      this.logger.info({ upserted, removed, agents: next.size }, 'agents refreshed from the registry');
    }
    return { notModified: false, upserted, removed };
  }
}

function toRoutable(agent: Agent): RoutableAgent {
  return {
    name: agent.name,
    description: agent.description,
    tags: agent.tags,
    capabilities: agent.capabilities,
    enabled: agent.enabled,
    available: agent.status === 'available',
  };
}
