/**
 * @module jarvis_agent/dynamic-router
 * The orchestrator's view of the registry: the agents' records, loaded once and then kept current by
 * following the service's change feed (`GET /registry/changes`, long polls), and routing done by the service
 * itself (`POST /registry/route` with the session), so Jarvis and every other client of the service get one
 * answer from one model.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, ChangePage, RegistryClient, RouteResponse } from '../src/client/registry-client.js';
import { isServiceCallError } from '../src/client/service-http-client.js';
import { type Logger, silentLogger } from '../src/logger.js';

export interface DynamicRouterOptions {
  registry: RegistryClient;
  /**
   * Once loaded, follow the change feed in the background (default true). Without it, {@link
   * DynamicRouter.refreshIfDue} re-reads the list (conditionally) at most every `refreshIntervalMs`.
   */
  follow?: boolean;
  /** How long each long poll of the feed may be held by the service (default 25 s, at most 30). */
  waitSeconds?: number;
  /** Without following, {@link DynamicRouter.refreshIfDue} asks the service at most this often (default 2000 ms). */
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
export const DEFAULT_WAIT_SECONDS = 25;
/** After a failed poll of the feed, wait this long (doubling, up to the maximum) before the next. */
const FEED_RETRY_MS = { first: 500, max: 30_000 };

export class DynamicRouter {
  private readonly registry: RegistryClient;
  private readonly follow: boolean;
  private readonly waitSeconds: number;
  private readonly refreshIntervalMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private agents = new Map<string, Agent>();
  /** Each agent's record as last learned, serialized: a different string means it changed. */
  private readonly fingerprints = new Map<string, string>();
  private etag: string | undefined;
  /** The registry revision the records reflect: the feed is followed from here. */
  private revision: number | undefined;
  private loaded = false;
  private lastRefreshAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<RefreshResult> | undefined;
  private following: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private feedListeners: ((page: ChangePage) => void)[] = [];

  constructor(options: DynamicRouterOptions) {
    this.registry = options.registry;
    this.follow = options.follow ?? true;
    this.waitSeconds = options.waitSeconds ?? DEFAULT_WAIT_SECONDS;
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? Date.now;
  }

  /** Whether the records are kept current by the change feed (loaded, and following). */
  get isFollowing(): boolean {
    return this.following !== undefined;
  }

  /** Stop following the feed (the poll under way is abandoned). Idempotent. */
  async close(): Promise<void> {
    this.stopping.abort(new Error('the router is closing'));
    await this.following;
  }

  /** Resolves with the next page of changes the feed delivers (for tests and tools that wait on changes). */
  nextFeedPage(): Promise<ChangePage> {
    return new Promise((resolve) => this.feedListeners.push(resolve));
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
    if (
      !force &&
      this.loaded &&
      (this.following !== undefined || this.now() - this.lastRefreshAt < this.refreshIntervalMs)
    ) {
      return;
    }
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

  /**
   * The background loop: long-poll the feed from the current revision and apply each change to the records.
   * A revision older than the kept changes reloads the list; a failing service is retried with backoff while
   * the cached records keep serving.
   */
  private async followFeed(): Promise<void> {
    const { signal } = this.stopping;
    let retryMs = FEED_RETRY_MS.first;
    while (!signal.aborted) {
      try {
        const page = await this.registry.changes({
          since: this.revision!,
          waitSeconds: this.waitSeconds,
          signal,
        });
        this.applyChanges(page);
        retryMs = FEED_RETRY_MS.first;
      } catch (error) {
        if (signal.aborted) return;
        if (isServiceCallError(error) && error.code === 'history_expired') {
          this.logger.warn('the change feed moved past this revision; reloading the agent list');
          // A fresh load restarts following from the list's revision (or, if the service is away, the next
          // refreshIfDue does).
          this.etag = undefined;
          this.following = undefined;
          await this.refresh().catch(() => {});
          return;
        }
        this.logger.warn({ err: error }, 'could not follow the registry change feed; retrying');
        await sleep(retryMs, undefined, { signal }).catch(() => {});
        retryMs = Math.min(retryMs * 2, FEED_RETRY_MS.max);
      }
    }
  }

  private applyChanges(page: ChangePage): void {
    const upserted: string[] = [];
    const removed: string[] = [];
    for (const change of page.changes) {
      if (change.agent === null) {
        if (this.agents.delete(change.agent_name)) removed.push(change.agent_name);
        this.fingerprints.delete(change.agent_name);
      } else {
        this.agents.set(change.agent_name, change.agent);
        this.fingerprints.set(change.agent_name, fingerprintOf(change.agent));
        upserted.push(change.agent_name);
      }
    }
    this.revision = page.revision;
    if (upserted.length > 0 || removed.length > 0) {
      this.logger.info(
        { upserted, removed, agents: this.agents.size },
        'agents changed (registry change feed)',
      );
    }
    for (const listener of this.feedListeners.splice(0)) listener(page);
  }

  private async load(): Promise<RefreshResult> {
    // The revision first: changes made while the list is read are then replayed on top of it (harmless).
    const { revision } =
      this.follow && this.following === undefined ? await this.registry.changes() : { revision: undefined };
    const listing = await this.registry.listAgents(
      this.etag === undefined || !this.loaded ? {} : { ifNoneMatch: this.etag },
    );
    this.lastRefreshAt = this.now();
    if (revision !== undefined) {
      this.revision = revision;
      this.following ??= this.followFeed();
    }
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
      const fingerprint = fingerprintOf(agent);
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

/**
 * What an agent's view says, for telling a changed agent from an unchanged one: all of it but
 * `probe.checked_at`, which every capability probe run rewrites for every agent (as the service's ETags do).
 */
function fingerprintOf(agent: object): string {
  const probe = (agent as { probe?: { checked_at?: string } | null }).probe;
  return JSON.stringify(probe == null ? agent : { ...agent, probe: { ...probe, checked_at: '' } });
}
