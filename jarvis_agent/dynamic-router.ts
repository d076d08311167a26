/**
 * @module jarvis_agent/dynamic-router
 * The orchestrator's view of the registry: the agents' records, polled with the last ETag (a 304 keeps
 * everything), and routing done by the service itself (`POST /registry/route` with the session), so Jarvis
 * and every other client of the service get one answer from one model.
 */
import { type Logger, silentLogger } from '../src/logger.js';
import type { Agent, RegistryClient, RouteResponse } from './registry-client.js';

export interface DynamicRouterOptions {
  registry: RegistryClient;
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

/** The service's routing decision with the records of the selected agents, in selection order. */
export interface RoutedQuery extends RouteResponse {
  agents: Agent[];
}

export const DEFAULT_REFRESH_INTERVAL_MS = 2000;

export class DynamicRouter {
  private readonly registry: RegistryClient;
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
  async refreshIfDue(force = false): Promise<void> {
    if (!force && this.loaded && this.now() - this.lastRefreshAt < this.refreshIntervalMs) return;
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
   * Route `query` through the service; with `sessionId`, the service reads the session's context, so a
   * follow-up goes to the session's last agent. Comes with the selected agents' records: an agent the cached
   * list does not know yet (registered since the last refresh) triggers one refresh; one still unknown after it
   * (removed meanwhile) is left out.
   */
  async route(query: string, sessionId?: string): Promise<RoutedQuery> {
    await this.refreshIfDue();
    const result = await this.registry.route({
      query,
      ...(sessionId !== undefined && { session_id: sessionId }),
    });
    if (result.selected.some((name) => !this.agents.has(name))) await this.refreshIfDue(true);
    const agents = result.selected.flatMap((name) => this.agents.get(name) ?? []);
    const selected = agents.map((agent) => agent.name);
    const parts = result.parts === undefined ? undefined : pick(result.parts, selected);
    return { ...result, selected, ...(parts !== undefined && { parts }), agents };
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
        this.fingerprints.delete(name);
        removed.push(name);
      }
    }
    for (const [name, agent] of next) {
      const fingerprint = JSON.stringify(agent);
      if (this.fingerprints.get(name) === fingerprint) continue;
      this.fingerprints.set(name, fingerprint);
      upserted.push(name);
    }
    this.agents = next;
    this.etag = listing.etag;
    this.loaded = true;
    if (upserted.length > 0 || removed.length > 0) {
      this.logger.info({ upserted, removed, agents: next.size }, 'agents refreshed from the registry');
    }
    return { notModified: false, upserted, removed };
  }
}

/** `parts` for the agents kept, so the two always name the same agents. */
function pick(parts: Record<string, string>, names: readonly string[]): Record<string, string> | undefined {
  if (names.length < 2) return undefined;
  return Object.fromEntries(names.map((name) => [name, parts[name] ?? '']).filter(([, text]) => text !== ''));
}
