/**
 * @module jarvis_agent/main-with-registry
 * Jarvis, the orchestrator: `POST /chat` and `GET /health` on JARVIS_PORT, on top of the registry service at
 * REGISTRY_URL. The composition root of the orchestrator (`npm run jarvis` runs this file).
 */
import { HostGuard } from '../src/a2a/host-guard.js';
import { A2A_AGENT_TYPE, remoteAgentFactory } from '../src/a2a/remote-agent-factory.js';
import { accessControl } from '../src/api/admin-auth.js';
import { type BaseApp, createBaseApp, httpOptions } from '../src/api/base-app.js';
import { RequestDrain } from '../src/api/request-drain.js';
import { errorResponses } from '../src/api/schemas.js';
import { RegistryClient } from '../src/client/registry-client.js';
import { ServiceHttpClient } from '../src/client/service-http-client.js';
import { SessionClient } from '../src/client/session-client.js';
import { type Config, loadConfig } from '../src/config.js';
import { messageOf } from '../src/errors.js';
import { isMainModule } from '../src/is-main-module.js';
import { createLogger, type Logger } from '../src/logger.js';
import { AgentFactoryResolver } from '../src/registry/agent-factory-resolver.js';
import { shutdownOnSignals } from '../src/shutdown-on-signals.js';
import { A2A_JSONRPC_ROUTE, AGENT_CARD_ROUTE, JarvisA2a } from './a2a-server.js';
import { AdkSessionClient } from './adk-session-client.js';
import { AgentPool } from './agent-pool.js';
import { ChatService } from './chat-service.js';
import { DynamicRouter } from './dynamic-router.js';
import { createDefaultModel } from './offline-model/default-model.js';
import { ChatRequestSchema, ChatResponseSchema, JarvisHealthSchema } from './schemas.js';

/** Chat messages are at most 4000 characters; this leaves room for JSON escaping. */
const BODY_LIMIT = 64 * 1024;

export interface JarvisOptions {
  /** Defaults to a logger built from the config. */
  logger?: Logger;
  /** How often the agent list is re-read from the service at most (default 2000 ms). */
  refreshIntervalMs?: number;
  /** An agent turn that takes longer fails (default 60 s). */
  turnTimeoutMs?: number;
  /** ADK sessions an agent keeps in memory; older ones are restored from the service when needed (default 1000). */
  maxSessionsPerAgent?: number;
  /** Per-attempt timeout of calls to the service (default 10 s). */
  serviceTimeoutMs?: number;
  /** Attempts per call to the service (default 3). */
  serviceMaxAttempts?: number;
}

export interface Jarvis {
  readonly app: BaseApp;
  readonly chat: ChatService;
  readonly router: DynamicRouter;
  readonly pool: AgentPool;
  readonly logger: Logger;
  /** Listen on the configured host and JARVIS_PORT; resolves to the base URL. */
  start(): Promise<string>;
  /** Stop accepting and let in-flight chats finish. Idempotent. */
  stop(): Promise<void>;
}

/** Build the orchestrator from the config; it does not listen until `start()`. */
export async function createJarvis(config: Config, options: JarvisOptions = {}): Promise<Jarvis> {
  const logger = (options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat })).child(
    { component: 'jarvis' },
  );
  const http = new ServiceHttpClient({
    baseUrl: config.registryUrl,
    // Jarvis reads the registry, routes and writes sessions; it never changes the registry.
    apiToken: config.apiToken,
    readToken: config.readToken,
    ...(options.serviceTimeoutMs !== undefined && { timeoutMs: options.serviceTimeoutMs }),
    ...(options.serviceMaxAttempts !== undefined && { maxAttempts: options.serviceMaxAttempts }),
  });
  const registry = new RegistryClient(http);
  const router = new DynamicRouter({
    registry,
    ...(options.refreshIntervalMs !== undefined && { refreshIntervalMs: options.refreshIntervalMs }),
    logger,
  });
  const resolver = new AgentFactoryResolver({
    roots: config.agentFactoryRoots,
    allowedPackages: config.agentFactoryPackages,
    context: { model: createDefaultModel(config) },
  });
  // Remote A2A agents are called through ADK's RemoteA2AAgent, only on the hosts the operator allowed.
  resolver.registerFactory(A2A_AGENT_TYPE, remoteAgentFactory(new HostGuard(config.a2aAllowedHosts)));
  const pool = new AgentPool({
    adkSessions: new AdkSessionClient(http),
    resolver,
    ...(options.turnTimeoutMs !== undefined && { turnTimeoutMs: options.turnTimeoutMs }),
    ...(options.maxSessionsPerAgent !== undefined && { maxSessionsPerAgent: options.maxSessionsPerAgent }),
    logger,
  });
  const chat = new ChatService({ sessions: new SessionClient(http), router, pool, logger });

  const drain = new RequestDrain();
  const app = createBaseApp({
    logger,
    bodyLimit: BODY_LIMIT,
    ...httpOptions(config, config.apiToken !== undefined),
    drain,
  });
  const access = accessControl({ apiToken: config.apiToken });
  app.post(
    '/chat',
    {
      // The chat reads and writes the user's sessions: the same token as the session API.
      onRequest: access.api,
      schema: {
        body: ChatRequestSchema,
        response: { 200: ChatResponseSchema, ...errorResponses(400, 401, 404, 413, 415, 429, 502, 503, 504) },
      },
    },
    async (request) => chat.chat(request.body),
  );
  const a2a = new JarvisA2a({
    chat,
    router,
    baseUrl: () => {
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.jarvisPort;
      const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
      return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
    },
  });
  app.get(AGENT_CARD_ROUTE, async () => {
    await router.refreshIfDue().catch(() => {});
    return a2a.card();
  });
  app.post(
    A2A_JSONRPC_ROUTE,
    // A2A messages are chats: the same token as /chat.
    { onRequest: access.api },
    async (request) => a2a.handle(request.body),
  );
  app.get(
    '/health',
    { schema: { response: { 200: JarvisHealthSchema, 503: JarvisHealthSchema } } },
    async (_request, reply) => {
      let error: string | undefined;
      try {
        await router.refresh();
      } catch (failure) {
        error = messageOf(failure);
      }
      return reply.code(error === undefined ? 200 : 503).send({
        status: error === undefined ? 'ok' : 'unavailable',
        registry: {
          url: config.registryUrl,
          reachable: error === undefined,
          agents: router.records.size,
          ...(error !== undefined && { error }),
        },
      });
    },
  );
  await app.ready();

  let stopping: Promise<void> | undefined;
  return {
    app,
    chat,
    router,
    pool,
    logger,
    async start() {
      const address = await app.listen({ host: config.host, port: config.jarvisPort });
      try {
        await router.refresh();
      } catch (error) {
        // Jarvis may start before the service; the first chat tries again.
        logger.warn({ err: error }, `the registry service at ${config.registryUrl} is not reachable yet`);
      }
      logger.info(
        { address, registry_url: config.registryUrl, agents: router.records.size },
        `Jarvis listening on ${address} (registry ${config.registryUrl}, ${router.records.size} agents)`,
      );
      return address;
    },
    stop() {
      stopping ??= router
        .close()
        .then(() => drain.drain())
        .then(() => app.close());
      return stopping;
    },
  };
}

/**
 * Run Jarvis until SIGTERM or SIGINT, then shut down gracefully (in-flight chats finish) and exit 0;
 * exit 1 if shutdown takes longer than SHUTDOWN_TIMEOUT_MS.
 */
export async function runJarvis(config: Config): Promise<Jarvis> {
  const jarvis = await createJarvis(config);
  await jarvis.start();
  shutdownOnSignals(jarvis);
  return jarvis;
}

if (isMainModule(import.meta.url)) {
  try {
    await runJarvis(loadConfig(process.env, { isTty: process.stdout.isTTY === true }));
  } catch (error) {
    process.stderr.write(`jarvis: ${messageOf(error)}\n`);
    process.exit(1);
  }
}
