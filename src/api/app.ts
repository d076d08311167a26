/**
 * @module api/app
 * Builds the service's HTTP application from its services: the base app (JSON-only bodies, TypeBox
 * validation, one error handler, request ids, security headers; see base-app.ts), CORS, OpenAPI at
 * `/openapi.json` and offline docs at `/docs`. It does not listen; `main.ts` does.
 */
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { SERVICE_NAME, VERSION } from '../version.js';
import { createBaseApp } from './base-app.js';
import { registryRoutes } from './registry-routes.js';
import { serviceRoutes } from './service-routes.js';
import type { AppOptions, AppServices } from './services.js';
import { sessionRoutes } from './session-routes.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export async function createApp(services: AppServices, options: AppOptions = {}) {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = createBaseApp({ logger: services.logger, bodyLimit, ...options.http });

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
          '`{"error": {"code", "message"}}`. Mutating registry calls need `Authorization: Bearer <token>` when ' +
          'REGISTRY_ADMIN_TOKEN is set.',
      },
      tags: [
        { name: 'registry', description: 'Agents: register, describe, enable, route' },
        { name: 'sessions', description: 'Conversations, agent invocations and context' },
        { name: 'service', description: 'Service information and health' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'REGISTRY_ADMIN_TOKEN' },
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
    startedAt: options.startedAt ?? new Date(),
  });
  await app.register(registryRoutes, {
    prefix: '/registry',
    registry: services.registry,
    sessions: services.sessions,
    router: services.router,
    adminToken: options.adminToken,
  });
  await app.register(sessionRoutes, { prefix: '/sessions', sessions: services.sessions });
  return app;
}

export type App = Awaited<ReturnType<typeof createApp>>;
