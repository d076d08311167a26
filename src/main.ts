/**
 * @module main
 * The composition root: picks the backends from the config, opens them, builds the HTTP app, and owns
 * start-up and shutdown. Nothing else chooses concrete implementations.
 */
import path from 'node:path';
import { DEMO_AGENTS, toRegistration } from '../jarvis_agent/mcp_agents/demo-agents.js';
import { type App, createApp } from './api/app.js';
import { httpOptions } from './api/base-app.js';
import { RequestDrain } from './api/request-drain.js';
import { recoveryWarnings } from './api/service-routes.js';
import type { Config } from './config.js';
import { AppError, systemErrorCode } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { instrumentRouter } from './metrics/instrumented-router.js';
import { InstrumentedSessionStore } from './metrics/instrumented-session-store.js';
import { ServiceMetrics } from './metrics/service-metrics.js';
import { createDefaultModel } from './models/default-model.js';
import { AgentFactoryResolver } from './registry/agent-factory-resolver.js';
import type { RegisteredAgent } from './registry/agent-registry.js';
import { FileStore } from './registry/file-store.js';
import { PersistentAgentRegistry } from './registry/persistent-agent-registry.js';
import type { AgentRouter } from './routing/agent-router.js';
import { createAgentRouter } from './routing/create-agent-router.js';
import type { RoutableAgent } from './routing/routable-agent.js';
import { SessionRetention } from './sessions/session-retention.js';
import type { SessionStore } from './sessions/session-store.js';
import { SqliteSessionStore } from './sessions/sqlite-session-store.js';
import { shutdownOnSignals } from './shutdown-on-signals.js';
import { SERVICE_NAME, VERSION } from './version.js';

export const SESSIONS_DB = 'sessions.db';
export { SHUTDOWN_TIMEOUT_MS } from './shutdown-on-signals.js';

export interface Service {
  readonly app: App;
  readonly registry: PersistentAgentRegistry;
  readonly sessions: SessionStore;
  readonly router: AgentRouter;
  readonly logger: Logger;
  /** What `/metrics` serves. */
  readonly metrics: ServiceMetrics;
  /** Listen on the configured host and port; resolves to the base URL. */
  start(): Promise<string>;
  /**
   * Refuse new requests (readiness turns 503), let the requests in flight finish, stop listening, then
   * release the registry and the database. Idempotent.
   */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Defaults to a logger built from the config. */
  logger?: Logger;
  /** The clock of the session store's timestamps (tests inject one); defaults to the system clock. */
  sessionClock?: () => Date;
}

/** Open everything the config names and build the app. On failure, whatever was opened is closed again. */
export async function createService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  if (config.databaseUrl !== undefined) {
    throw new AppError(
      'config_error',
      'DATABASE_URL is set, but this version stores the registry and sessions only in DATA_DIR (JSON file and SQLite). ' +
        'Unset DATABASE_URL, and run a single replica per data directory.',
    );
  }

  const resolver = new AgentFactoryResolver({
    roots: config.agentFactoryRoots,
    allowedPackages: config.agentFactoryPackages,
    context: { model: createDefaultModel(config) },
  });
  const registry = await PersistentAgentRegistry.open({
    store: new FileStore({ dataDir: config.dataDir, logger }),
    resolver,
    logger,
  });
  const closers: (() => Promise<void>)[] = [() => registry.close()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error: unknown) => logger.error({ err: error }, 'error while closing'));
    }
  };

  try {
    logRecovery(logger, registry);
    await registerDemoAgentsOnFirstStart(registry, logger);

    const sessions = await SqliteSessionStore.open(path.join(config.dataDir, SESSIONS_DB), {
      synchronous: config.sqliteSynchronous,
      logger,
      ...(options.sessionClock !== undefined && { now: options.sessionClock }),
    });
    closers.push(() => sessions.close());
    const retention = new SessionRetention({
      store: sessions,
      retentionDays: config.sessionRetentionDays,
      idleTimeoutMinutes: config.sessionIdleTimeoutMinutes,
      intervalMinutes: config.sessionCleanupIntervalMinutes,
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

    const metrics = new ServiceMetrics();
    metrics.watchRegistry(registry);
    metrics.watchRouter(router);
    const drain = new RequestDrain();
    const app = await createApp(
      {
        registry,
        sessions: new InstrumentedSessionStore(sessions, metrics, {
          agentLabel: (name) => (registry.get(name) === undefined ? 'unregistered' : name),
        }),
        router: instrumentRouter(router, metrics),
        logger,
        metrics,
      },
      {
        adminToken: config.adminToken,
        apiToken: config.apiToken,
        readToken: config.readToken,
        corsOrigins: config.corsOrigins,
        // The Host check stays on until both registry changes and sessions need a token.
        http: httpOptions(config, config.adminToken !== undefined && config.apiToken !== undefined),
        drain,
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
      async start() {
        const address = await listen(app, config);
        retention.start();
        closers.push(() => retention.stop());
        logSummary(logger, address, config, registry);
        return address;
      },
      stop() {
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
export async function runService(config: Config): Promise<Service> {
  const service = await createService(config);
  await service.start();
  shutdownOnSignals(service);
  return service;
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

/** The demo agents are registered once, on the first start of an empty data directory. */
async function registerDemoAgentsOnFirstStart(
  registry: PersistentAgentRegistry,
  logger: Logger,
): Promise<void> {
  const report = registry.loadReport;
  if (report.source !== 'empty' || report.recovery.length > 0 || registry.size > 0) return;
  for (const demo of DEMO_AGENTS) {
    try {
      await registry.registerFromConfig(toRegistration(demo));
    } catch (error) {
      logger.error({ err: error, factory: demo.factory_function }, 'could not register a demo agent');
    }
  }
  logger.info(
    { agents: registry.list().map((entry) => entry.record.name) },
    'registered the demo agents (first start)',
  );
}

/** Data set aside at start-up is said loudly, with what to do next (the same words as `/health`). */
function logRecovery(logger: Logger, registry: PersistentAgentRegistry): void {
  const { recovery } = registry.loadReport;
  if (recovery.length === 0) return;
  logger.error(
    { recovery },
    `registry recovered at start-up, data needs attention: ${recoveryWarnings(recovery, undefined).join('; ')}`,
  );
}

function toRoutable(entry: RegisteredAgent): RoutableAgent {
  const { record } = entry;
  return {
    name: record.name,
    description: record.description,
    tags: record.tags,
    capabilities: record.capabilities,
    enabled: record.enabled,
    available: entry.status === 'available',
  };
}

function logSummary(
  logger: Logger,
  address: string,
  config: Config,
  registry: PersistentAgentRegistry,
): void {
  const report = registry.loadReport;
  const unavailable = report.unavailable.length;
  const recovered = report.source === 'backup' ? ', restored from backup' : '';
  logger.info(
    {
      address,
      data_dir: config.dataDir,
      agents: registry.size,
      unavailable,
      loaded_from: report.source,
      docs: `${address}/docs`,
    },
    `${SERVICE_NAME} ${VERSION} listening on ${address} (data ${config.dataDir}, ${registry.size} agents` +
      `${unavailable > 0 ? `, ${unavailable} unavailable` : ''}${recovered}; docs ${address}/docs)`,
  );
}
