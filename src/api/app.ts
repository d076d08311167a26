/**
 * @module api/app
 * Builds the service's HTTP application from its services: the base app (JSON-only bodies, TypeBox
 * validation, one error handler, request ids, security headers, rate limits, graceful drain; see
 * base-app.ts), CORS, access control (admin-auth.ts), OpenAPI at `/openapi.json`, offline docs at `/docs`,
 * metrics at `/metrics` and the admin web UI at `/ui`. It does not listen; `main.ts` does.
 */
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { RouteOptions } from 'fastify';
import { SERVICE_NAME, VERSION } from '../version.js';
import { adkAppRoutes, adkSessionRoutes } from './adk-session-routes.js';
import { accessControl, type TokenGuard } from './admin-auth.js';
import { createBaseApp } from './base-app.js';
import { insightRoutes } from './insight-routes.js';
import { metricsRoutes, recordRequestMetrics } from './metrics-routes.js';
import { registryRoutes } from './registry-routes.js';
import { serviceRoutes } from './service-routes.js';
import type { AppOptions, AppServices } from './services.js';
import { sessionRoutes } from './session-routes.js';
import { defaultUiDir, uiRoutes } from './ui-routes.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export async function createApp(services: AppServices, options: AppOptions = {}) {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = createBaseApp({
    logger: services.logger,
    bodyLimit,
    ...options.http,
    ...(options.drain !== undefined && { drain: options.drain }),
  });
  const access = accessControl({
    adminToken: options.adminToken,
    adminTokens: options.adminTokens,
    apiToken: options.apiToken,
    readToken: options.readToken,
  });
  const { metrics } = services;
  if (metrics !== undefined) recordRequestMetrics(app, metrics);

  const origins = options.corsOrigins ?? [];
  await app.register(cors, {
    origin: origins.includes('*') ? '*' : origins.length > 0 ? [...origins] : false,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization', 'If-None-Match', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'X-Request-Id'],
    maxAge: 600,
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: SERVICE_NAME,
        version: VERSION,
        description:
          'Persistent agent registry, session store and router for multi-agent assistants. Errors are ' +
          '`{"error": {"code", "message"}}`. Each token is required only when the service is configured with it: ' +
          'mutating registry calls need `Authorization: Bearer <REGISTRY_ADMIN_TOKEN>`, every `/sessions` call ' +
          '`Bearer <REGISTRY_API_TOKEN>`, registry reads, routing and `/metrics` `Bearer <REGISTRY_READ_TOKEN>` ' +
          '(or the admin token). Changes and routing are rate limited per client (429 with Retry-After).',
      },
      tags: [
        { name: 'registry', description: 'Agents: register, describe, enable, route' },
        { name: 'sessions', description: 'Conversations, agent invocations and context' },
        { name: 'service', description: 'Service information and health' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'REGISTRY_ADMIN_TOKEN' },
          apiToken: { type: 'http', scheme: 'bearer', description: 'REGISTRY_API_TOKEN' },
          readToken: { type: 'http', scheme: 'bearer', description: 'REGISTRY_READ_TOKEN' },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null, tryItOutEnabled: true },
    staticCSP: true,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(serviceRoutes, {
    registry: services.registry,
    sessions: services.sessions,
    router: services.router,
    probes: services.probes,
    decisionLog: services.decisionLog,
    startedAt: options.startedAt ?? new Date(),
    shuttingDown: () => options.drain?.shuttingDown === true,
  });
  // Every registry route that does not change the registry is a read: the read token (or the admin token)
  // guards it when one is set. Routes added to registry-routes.ts later are covered the same way.
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        if (!needsAdminToken(route)) guard(route, access.read, [{ readToken: [] }, { bearerAuth: [] }]);
      });
      await scope.register(registryRoutes, {
        registry: services.registry,
        sessions: services.sessions,
        router: services.router,
        admin: access.admin,
        decisionLog: services.decisionLog,
        probes: services.probes,
        remoteAgents: services.remoteAgents,
        a2aUrl: options.a2aUrl,
      });
    },
    { prefix: '/registry' },
  );
  const { replay } = services;
  if (replay !== undefined) {
    await app.register(insightRoutes, {
      prefix: '/registry',
      sessions: services.sessions,
      replay,
      decisionsGuard: access.decisions,
      adminGuard: access.admin,
    });
  }
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => guard(route, access.api, [{ apiToken: [] }]));
      await scope.register(sessionRoutes, { sessions: services.sessions });
      await scope.register(adkSessionRoutes, { sessions: services.sessions });
    },
    { prefix: '/sessions' },
  );
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => guard(route, access.api, [{ apiToken: [] }]));
      await scope.register(adkAppRoutes, { sessions: services.sessions });
    },
    { prefix: '/adk' },
  );
  if (metrics !== undefined) await app.register(metricsRoutes, { metrics, read: access.read });
  // The page and its assets hold no data: every call the UI makes goes through the guarded API above.
  await app.register(uiRoutes, { dir: options.uiDir ?? defaultUiDir() });
  return app;
}

/** Mutating registry routes say so in their OpenAPI security (and carry the admin guard themselves). */
function needsAdminToken(route: RouteOptions): boolean {
  const security = (route.schema as { security?: Record<string, unknown>[] } | undefined)?.security;
  return security?.some((requirement) => 'bearerAuth' in requirement) === true;
}

/** Run `check` before the route's own hooks, and document it in the route's OpenAPI security. */
function guard(route: RouteOptions, check: TokenGuard, security: Record<string, string[]>[]): void {
  const own = route.onRequest === undefined ? [] : [route.onRequest].flat();
  route.onRequest = [check, ...own] as RouteOptions['onRequest'];
  if (route.schema !== undefined) route.schema = { ...route.schema, security } as RouteOptions['schema'];
}

export type App = Awaited<ReturnType<typeof createApp>>;
