/**
 * @module api/metrics-routes
 * `GET /metrics` (Prometheus text format; needs the read token when one is set) and the hook that counts
 * and times every HTTP request by method, route template and status.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServiceMetrics } from '../metrics/service-metrics.js';
import type { TokenGuard } from './admin-auth.js';
import type { BaseApp } from './base-app.js';
import { errorResponses } from './schemas.js';

export interface MetricsRoutesOptions {
  metrics: ServiceMetrics;
  read: TokenGuard;
}

/** Route label of requests no route matched: one label, however many URLs are probed. */
export const UNMATCHED_ROUTE = 'unmatched';

export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, options) => {
  const { metrics, read } = options;
  app.get(
    '/metrics',
    {
      onRequest: read,
      schema: {
        tags: ['service'],
        summary: 'Metrics (Prometheus text format)',
        description:
          'Requests by route and status with latency histograms; registry size and revision; router training ' +
          'state, routing latency and decisions; session store write latency; agent invocations by agent and ' +
          'outcome; PostgreSQL pool connections where used; Node.js process metrics. Needs the read token ' +
          '(or the admin token) when REGISTRY_READ_TOKEN is set.',
        produces: ['text/plain'],
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            content: {
              'text/plain': {
                schema: { type: 'string' },
                example:
                  '# HELP agent_registry_registry_revision The registry revision\n' +
                  '# TYPE agent_registry_registry_revision gauge\nagent_registry_registry_revision 3\n',
              },
            },
          },
          ...errorResponses(401),
        },
      },
    },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    },
  );
};

/** Count and time every response of `app` (registered on the root instance, before the routes). */
export function recordRequestMetrics(app: BaseApp, metrics: ServiceMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? UNMATCHED_ROUTE,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
}
