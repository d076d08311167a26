/**
 * @module api/service-routes
 * `/` (what this service is and where its docs are) and `/health` (registry and database state; 503 when
 * the database cannot be used, so orchestrators restart or stop routing to this replica).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PersistentAgentRegistry } from '../registry/persistent-agent-registry.js';
import type { SessionStore } from '../sessions/session-store.js';
import { SERVICE_NAME, VERSION } from '../version.js';
import { HealthResponseSchema, RootResponseSchema } from './schemas.js';
import type { QueryRouter } from './services.js';

export interface ServiceRoutesOptions {
  registry: PersistentAgentRegistry;
  sessions: SessionStore;
  router: QueryRouter;
  startedAt: Date;
}

export const serviceRoutes: FastifyPluginAsyncTypebox<ServiceRoutesOptions> = async (app, options) => {
  const { registry, sessions, router, startedAt } = options;

  app.get(
    '/',
    { schema: { tags: ['service'], summary: 'Service information', response: { 200: RootResponseSchema } } },
    async () => ({
      service: SERVICE_NAME,
      version: VERSION,
      docs: '/docs',
      openapi: '/openapi.json',
      health: '/health',
    }),
  );

  app.get(
    '/health',
    {
      schema: {
        tags: ['service'],
        summary: 'Health of the registry and the database',
        description:
          'Reports how the registry was loaded (file, backup after recovery, or empty), agents that could not be ' +
          'recreated, the last save, the router (whether its model is trained on every change yet: routing works ' +
          'meanwhile; the "none fits" threshold in use and whether it was fitted or configured), and the session database (including a corrupt database moved to quarantine). ' +
          'Answers 503 when the database is unusable.',
        response: { 200: HealthResponseSchema, 503: HealthResponseSchema },
      },
    },
    async (_request, reply) => {
      const database = await sessions.health();
      const report = registry.loadReport;
      const store = registry.storeHealth();
      const agents = registry.list();
      const status = database.status === 'ok' ? ('ok' as const) : ('unavailable' as const);
      const training = router.stats();
      return reply.code(status === 'ok' ? 200 : 503).send({
        status,
        version: VERSION,
        uptime_seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        registry: {
          ...store,
          agents: agents.length,
          available: agents.filter((entry) => entry.status === 'available').length,
          unavailable: agents
            .filter((entry) => entry.status === 'unavailable')
            .map((entry) => ({ name: entry.record.name, error: entry.error })),
          revision: registry.revision,
          loaded_from: report.source,
        },
        router: {
          agents: training.agents,
          trained: training.trained,
          pending_agents: training.pendingAgents,
          builds: training.builds,
          last_build_ms: training.lastBuildMs === null ? null : Math.round(training.lastBuildMs),
          min_confidence: training.minConfidence,
          min_confidence_source: training.minConfidenceSource,
        },
        database,
      });
    },
  );
};
