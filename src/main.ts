/**
 * @module main
 * The composition root: picks the backends from the config, opens them, builds the HTTP app, and owns
 * start-up and shutdown. Nothing else chooses concrete implementations.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type BaseLlm, Gemini } from '@google/adk';
import { CardFetcher } from './a2a/card-fetcher.js';
import { HostGuard } from './a2a/host-guard.js';
import { A2A_AGENT_TYPE, remoteAgentFactory } from './a2a/remote-agent-factory.js';
import { type Every, RemoteAgents } from './a2a/remote-agents.js';
import { type App, createApp } from './api/app.js';
import { httpOptions } from './api/base-app.js';
import { RequestDrain } from './api/request-drain.js';
import { recoveryWarnings } from './api/service-routes.js';
import type { Config } from './config.js';
import { AppError, systemErrorCode } from './errors.js';
import { CapabilityProbes } from './insight/capability-probes.js';
import { DecisionLog } from './insight/decision-log.js';
import { toRoutable } from './insight/routable-entry.js';
import { RouteReplay } from './insight/route-replay.js';
import { createLogger, type Logger } from './logger.js';
import { instrumentRouter } from './metrics/instrumented-router.js';
import { InstrumentedSessionStore } from './metrics/instrumented-session-store.js';
import { ServiceMetrics } from './metrics/service-metrics.js';
import { initializePostgres, openPostgresDatabase } from './postgres/postgres-database.js';
import { describePostgresUrl, PostgresPool } from './postgres/postgres-pool.js';
import { AgentFactoryResolver } from './registry/agent-factory-resolver.js';
import {
  type AgentRegistration,
  REGISTRY_FORMAT_VERSION,
  type RegistryDocument,
} from './registry/agent-record.js';
import { AgentRegistry } from './registry/agent-registry.js';
import { DataDirLock } from './registry/data-dir-lock.js';
import { FileStore } from './registry/file-store.js';
import { PostgresRegistryStore } from './registry/postgres-registry-store.js';
import type { RegistryStore } from './registry/registry-store.js';
import { AgentRouter } from './routing/agent-router.js';
import { createAgentRouter } from './routing/create-agent-router.js';
import { initializeDatabase } from './sessions/db-init.js';
import { PostgresSessionStore } from './sessions/postgres-session-store.js';
import { SessionRetention } from './sessions/session-retention.js';
import type { SessionStore } from './sessions/session-store.js';
import { SqliteSessionStore } from './sessions/sqlite-session-store.js';
import { shutdownOnSignals } from './shutdown-on-signals.js';
import { SERVICE_NAME, VERSION } from './version.js';

export const SESSIONS_DB = 'sessions.db';
export { SHUTDOWN_TIMEOUT_MS } from './shutdown-on-signals.js';

export interface Service {
  readonly app: App;
  readonly registry: AgentRegistry;
  readonly sessions: SessionStore;
  readonly router: AgentRouter;
  readonly logger: Logger;
  /** What `/metrics` serves. */
  readonly metrics: ServiceMetrics;
  /** Where routing decisions are logged (in the session store, off the request path). */
  readonly decisionLog: DecisionLog;
  /** The capability probes (started with the service). */
  readonly probes: CapabilityProbes;
  /** Listen on the configured host and port; resolves to the base URL. */
  start(): Promise<string>;
  /**
   * Refuse new requests (readiness turns 503), answer long polls at once, let the requests in flight finish,
   * stop listening, then release the registry and the database. Idempotent.
   */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Defaults to a logger built from the config. */
  logger?: Logger;
  /** The clock of the session store's timestamps (tests inject one); defaults to the system clock. */
  sessionClock?: () => Date;
  /**
   * Registered on the first start (an empty registry that never held an agent), each built by its factory
   * first. The core ships none; the project's entry point (`jarvis_agent/service-cli.ts`) passes the demo
   * agents.
   */
  defaultRegistrations?: readonly AgentRegistration[];
  /**
   * The model handed to agent factories (their context's `model`). Defaults to Gemini when `GOOGLE_API_KEY`
   * is set, else the configured model name (`GEMINI_MODEL`): the service only builds agents, it never runs
   * them. The project's entry point passes the offline model when there is no key.
   */
  agentModel?: (config: Config) => BaseLlm | string;
  /** The built web UI served at `/ui` (default: the build's `dist/ui`). */
  uiDir?: string;
  /** How long capability probes wait after a registry change (default 2 s; tests shorten it). */
  probeDebounceMs?: number;
  /** The timer of remote A2A cards' scheduled refresh (tests inject a manual one). */
  a2aRefreshTimer?: Every;
  /** What host names resolve to when fetching A2A cards (tests point names at chosen addresses). */
  a2aResolveHost?: ConstructorParameters<typeof CardFetcher>[0]['resolve'];
}

/** Open everything the config names and build the app. On failure, whatever was opened is closed again. */
export async function createService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error: unknown) => logger.error({ err: error }, 'error while closing'));
    }
  };

  try {
    const metrics = new ServiceMetrics();
    const stores = await openStores(config, logger, closers, metrics, options.sessionClock);
    const resolver = new AgentFactoryResolver({
      roots: config.agentFactoryRoots,
      allowedPackages: config.agentFactoryPackages,
      context: { model: (options.agentModel ?? defaultAgentModel)(config) },
    });
    const a2aGuard = new HostGuard(config.a2aAllowedHosts);
    resolver.registerFactory(A2A_AGENT_TYPE, remoteAgentFactory(a2aGuard));
    const registry = await AgentRegistry.open({ store: stores.registry, resolver, logger });
    closers.push(() => registry.close());
    logRecovery(logger, registry);
    const seeded = await registry.seed(options.defaultRegistrations ?? []);
    if (seeded !== undefined && seeded.length > 0)
      logger.info({ agents: seeded }, 'registered the default agents (first start)');

    const sessions = await stores.openSessions();
    closers.push(() => sessions.close());
    const retention = new SessionRetention({
      store: sessions,
      retentionDays: config.sessionRetentionDays,
      idleTimeoutMinutes: config.sessionIdleTimeoutMinutes,
      intervalMinutes: config.sessionCleanupIntervalMinutes,
      decisionsKept: config.routerDecisionsKept,
      logger,
    });

    const router = createAgentRouter(config, logger);
    for (const entry of registry.list()) router.upsert(toRoutable(entry));
    const unsubscribe = registry.onChange((change) => {
      if (change.type === 'remove') router.remove(change.name);
      else router.upsert(toRoutable(change.entry));
    });
    closers.push(async () => {
      unsubscribe();
      router.close();
    });

    const remoteAgents = new RemoteAgents({
      registry,
      resolver,
      guard: a2aGuard,
      fetcher: new CardFetcher({
        guard: a2aGuard,
        ...(options.a2aResolveHost !== undefined && { resolve: options.a2aResolveHost }),
      }),
      logger,
      refreshIntervalMs: config.a2aCardRefreshSeconds * 1000,
      ...(options.a2aRefreshTimer !== undefined && { every: options.a2aRefreshTimer }),
    });
    closers.push(() => remoteAgents.stop());

    metrics.watchRegistry(registry);
    metrics.watchRouter(router);
    const instrumentedSessions = new InstrumentedSessionStore(sessions, metrics, {
      agentLabel: (name) => (registry.get(name) === undefined ? 'unregistered' : name),
    });
    const decisionLog = new DecisionLog({
      store: instrumentedSessions,
      logQueries: config.routerLogQueries,
      logger,
      observe: (outcome, count) => metrics.observeDecisionLog(outcome, count),
    });
    // Runs before the session store closes: decisions routed before shutdown are written.
    closers.push(() => decisionLog.flush());
    const replay = new RouteReplay({
      registry,
      live: router,
      decisions: sessions,
      // Shadow routers decide as the live one does offline: the same threshold, no LLM stage.
      newRouter: () =>
        new AgentRouter({
          contextTtlMs: config.routerContextTtlSeconds * 1000,
          ...(config.routerMinConfidence !== undefined && { minConfidence: config.routerMinConfidence }),
        }),
    });
    closers.push(async () => replay.close());
    const probes = new CapabilityProbes({
      registry,
      router,
      intervalMs: config.probeIntervalSeconds * 1000,
      cpuShare: config.probeCpuPercent / 100,
      logger,
      ...(options.probeDebounceMs !== undefined && { debounceMs: options.probeDebounceMs }),
    });
    closers.push(() => probes.stop());
    metrics.watchProbes(probes);
    const drain = new RequestDrain();
    const app = await createApp(
      {
        registry,
        sessions: instrumentedSessions,
        router: instrumentRouter(router, metrics),
        logger,
        metrics,
        decisionLog,
        replay,
        probes,
        remoteAgents,
      },
      {
        a2aUrl: jarvisA2aUrl(config),
        adminToken: config.adminToken,
        adminTokens: config.adminTokens,
        apiToken: config.apiToken,
        readToken: config.readToken,
        corsOrigins: config.corsOrigins,
        // The Host check stays on until both registry changes and sessions need a token.
        http: httpOptions(
          config,
          (config.adminToken !== undefined || config.adminTokens.length > 0) && config.apiToken !== undefined,
        ),
        drain,
        ...(options.uiDir !== undefined && { uiDir: options.uiDir }),
      },
    );
    closers.push(() => app.close());

    let stopping: Promise<void> | undefined;
    return {
      app,
      registry,
      sessions,
      router,
      logger,
      metrics,
      decisionLog,
      probes,
      async start() {
        const address = await listen(app, config);
        retention.start();
        probes.start();
        closers.push(() => retention.stop());
        remoteAgents.start();
        logSummary(logger, address, config, registry);
        return address;
      },
      stop() {
        // Long polls of the change feed answer at once, so the drain waits only for real work.
        registry.stopWaiting();
        stopping ??= drain.drain().then(closeAll);
        return stopping;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Run the service until SIGTERM or SIGINT, then shut down gracefully (in-flight requests finish) and exit 0;
 * exit 1 if shutdown takes longer than SHUTDOWN_TIMEOUT_MS.
 */
export async function runService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const service = await createService(config, options);
  await service.start();
  shutdownOnSignals(service);
  return service;
}

/** Gemini with the configured key passed explicitly (ADK would otherwise read the environment), else its name. */
function defaultAgentModel(config: Config): BaseLlm | string {
  if (config.googleApiKey === undefined || config.googleApiKey === '') return config.geminiModel;
  return new Gemini({ model: config.geminiModel, apiKey: config.googleApiKey });
}

interface OpenedStores {
  registry: RegistryStore;
  openSessions(): Promise<SessionStore>;
}

/**
 * The one place that picks the backends: `DATABASE_URL` puts the registry and the sessions on PostgreSQL
 * (one pool, migrated once under an advisory lock), else the JSON file and SQLite in DATA_DIR.
 */
async function openStores(
  config: Config,
  logger: Logger,
  closers: (() => Promise<void>)[],
  metrics: ServiceMetrics,
  sessionClock: (() => Date) | undefined,
): Promise<OpenedStores> {
  const url = config.databaseUrl;
  const clock = sessionClock === undefined ? {} : { now: sessionClock };
  if (url !== undefined) {
    const { pool } = await openPostgresDatabase(url, { logger });
    closers.push(() => pool.end());
    metrics.watchPostgresPool('main', pool);
    return {
      registry: new PostgresRegistryStore(pool, { url, logger, versionsKept: config.registryVersionsKept }),
      openSessions: () => PostgresSessionStore.open(pool, clock),
    };
  }
  return {
    registry: new FileStore({ dataDir: config.dataDir, logger, versionsKept: config.registryVersionsKept }),
    openSessions: () =>
      SqliteSessionStore.open(path.join(config.dataDir, SESSIONS_DB), {
        synchronous: config.sqliteSynchronous,
        logger,
        ...clock,
      }),
  };
}

/** Jarvis's A2A JSON-RPC endpoint, which the cards of our agents name as their `url`. */
export function jarvisA2aUrl(config: Config): string {
  const unspecified = ['0.0.0.0', '::', '[::]'].includes(config.host);
  const host = unspecified
    ? '127.0.0.1'
    : config.host.includes(':') && !config.host.startsWith('[')
      ? `[${config.host}]`
      : config.host;
  return `http://${host}:${config.jarvisPort}/a2a/jsonrpc`;
}

/** Listen, saying plainly which port is taken and what to do about it. */
async function listen(app: App, config: Config): Promise<string> {
  try {
    return await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    if (systemErrorCode(error) === 'EADDRINUSE') {
      throw new AppError(
        'config_error',
        `Port ${config.port} on ${config.host} is already in use by another process: stop it (find it with ` +
          `\`lsof -i :${config.port}\` or \`ss -ltnp 'sport = :${config.port}'\`), or set PORT to a free port`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * `agent-registry db-init`: create or migrate the configured database and report its schema. On SQLite it
 * takes the data-directory lock first, so it never migrates (or quarantines) a database a running service
 * holds; PostgreSQL migrations take an advisory lock and are safe beside running replicas.
 */
export async function initializeStorage(config: Config): Promise<unknown> {
  if (config.databaseUrl !== undefined) return initializePostgres(config.databaseUrl);
  mkdirSync(config.dataDir, { recursive: true });
  const lock = DataDirLock.acquire(config.dataDir);
  try {
    return await initializeDatabase(path.join(config.dataDir, SESSIONS_DB), {
      synchronous: config.sqliteSynchronous,
    });
  } finally {
    lock.release();
  }
}

/**
 * `agent-registry export`: the registry in its file format, read without changing anything (safe while a
 * service runs; a corrupt file is reported, never moved). Problems found are returned beside it.
 */
export async function exportRegistry(
  config: Config,
): Promise<{ document: RegistryDocument; problems: string[] }> {
  if (config.databaseUrl !== undefined) {
    const pool = new PostgresPool(config.databaseUrl, { max: 1 });
    try {
      const snapshot = await new PostgresRegistryStore(pool, { url: config.databaseUrl }).snapshot();
      const agents = Object.fromEntries(snapshot.agents.map((agent) => [agent.record.name, agent.record]));
      return {
        document: { version: REGISTRY_FORMAT_VERSION, last_updated: snapshot.last_updated, agents },
        problems: [],
      };
    } finally {
      await pool.end();
    }
  }
  const inspected = await new FileStore({ dataDir: config.dataDir }).inspect();
  return {
    document: inspected.document,
    problems: [
      ...inspected.unusable,
      ...inspected.rejected.map((record) => `record ${record.name}: ${record.reason}`),
    ],
  };
}

/** Data set aside at start-up is said loudly, with what to do next (the same words as `/health`). */
function logRecovery(logger: Logger, registry: AgentRegistry): void {
  const { recovery } = registry.loadReport;
  if (recovery.length === 0) return;
  logger.error(
    { recovery },
    `registry recovered at start-up, data needs attention: ${recoveryWarnings(recovery, undefined).join('; ')}`,
  );
}

function logSummary(logger: Logger, address: string, config: Config, registry: AgentRegistry): void {
  const report = registry.loadReport;
  const unavailable = report.unavailable.length;
  const recovered = report.source === 'backup' ? ', restored from backup' : '';
  const data =
    config.databaseUrl === undefined
      ? `data ${config.dataDir}`
      : `database ${describePostgresUrl(config.databaseUrl)}`;
  logger.info(
    {
      address,
      ...(config.databaseUrl === undefined
        ? { data_dir: config.dataDir }
        : { database: describePostgresUrl(config.databaseUrl) }),
      agents: registry.size,
      unavailable,
      loaded_from: report.source,
      docs: `${address}/docs`,
    },
    `${SERVICE_NAME} ${VERSION} listening on ${address} (${data}, ${registry.size} agents` +
      `${unavailable > 0 ? `, ${unavailable} unavailable` : ''}${recovered}; docs ${address}/docs)`,
  );
}
