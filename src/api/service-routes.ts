/**
 * @module api/service-routes
 * `/` (what this service is and where its docs are), `/health` (liveness: registry and database state; 503
 * when the database cannot be used) and `/health/ready` (readiness: 503 while a store is unusable or the
 * service is shutting down, so load balancers stop sending it traffic).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CapabilityProbes } from '../insight/capability-probes.js';
import type { DecisionLog } from '../insight/decision-log.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { RecoveryEvent } from '../registry/registry-store.js';
import type { QuarantineReport } from '../sessions/database-quarantine.js';
import type { SessionStore } from '../sessions/session-store.js';
import { SERVICE_NAME, VERSION } from '../version.js';
import { HealthResponseSchema, ReadinessResponseSchema, RootResponseSchema } from './schemas.js';
import type { QueryRouter } from './services.js';

export interface ServiceRoutesOptions {
  registry: AgentRegistry;
  sessions: SessionStore;
  router: QueryRouter;
  probes?: CapabilityProbes | undefined;
  decisionLog?: DecisionLog | undefined;
  startedAt: Date;
  /** True once graceful shutdown has begun (readiness then answers 503). */
  shuttingDown?: () => boolean;
}

export const serviceRoutes: FastifyPluginAsyncTypebox<ServiceRoutesOptions> = async (app, options) => {
  const { registry, sessions, router, startedAt, probes, decisionLog } = options;

  app.get(
    '/',
    { schema: { tags: ['service'], summary: 'Service information', response: { 200: RootResponseSchema } } },
    async () => ({
      service: SERVICE_NAME,
      version: VERSION,
      docs: '/docs',
      openapi: '/openapi.json',
      health: '/health',
      ui: '/ui',
    }),
  );

  app.get(
    '/health',
    {
      schema: {
        tags: ['service'],
        summary: 'Health of the registry and the database',
        description:
          'Reports the registry (agents, agents that could not be recreated, revision, how it was loaded), the ' +
          'router (whether its model is trained on every change yet: routing works meanwhile; the "none fits" ' +
          'threshold in use and whether it was fitted or configured), and each store ' +
          'under `stores` with its backend: the registry store (file: path, recovery, last save; PostgreSQL: ' +
          'database, change listener) and the session store (a corrupt SQLite database moved to quarantine). ' +
          '`probes` lists the agents whose own examples now mostly go to other agents (capability probes); ' +
          '`decision_log` counts the routing decisions logged. Answers 503 when a store is unusable.',
        response: { 200: HealthResponseSchema, 503: HealthResponseSchema },
      },
    },
    async (_request, reply) => {
      const sessionStore = await sessions.health();
      const registryStore = registry.storeHealth();
      const agents = registry.list();
      const warnings = recoveryWarnings(registryStore.recovery, sessionStore.quarantined);
      const status =
        sessionStore.status !== 'ok' || registryStore.status !== 'ok'
          ? ('unavailable' as const)
          : warnings.length > 0
            ? ('degraded' as const)
            : ('ok' as const);
      const training = router.stats();
      return reply.code(status === 'unavailable' ? 503 : 200).send({
        status,
        ...(warnings.length > 0 && { warnings }),
        version: VERSION,
        uptime_seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        registry: {
          agents: agents.length,
          available: agents.filter((entry) => entry.status === 'available').length,
          unavailable: agents
            .filter((entry) => entry.status === 'unavailable')
            .map((entry) => ({ name: entry.record.name, error: entry.error })),
          revision: registry.revision,
          loaded_from: registry.loadReport.source,
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
        ...(probes !== undefined && { probes: probesHealth(probes) }),
        ...(decisionLog !== undefined && { decision_log: decisionLog.stats() }),
        stores: { registry: registryStore, sessions: sessionStore },
      });
    },
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['service'],
        summary: 'Readiness',
        description:
          'Whether this replica can take traffic: 200 `ready`, or 503 `not_ready` with the reasons while the ' +
          'session database or the registry store is unusable, or while the service is shutting down ' +
          '(requests in flight still finish; new ones are refused).',
        response: { 200: ReadinessResponseSchema, 503: ReadinessResponseSchema },
      },
    },
    async (_request, reply) => {
      const reasons: string[] = [];
      if (options.shuttingDown?.() === true) reasons.push('the service is shutting down');
      const database = await sessions.health();
      if (database.status !== 'ok') {
        reasons.push(`the session database is unavailable: ${database.error ?? 'no reason given'}`);
      }
      // A store that reports a status of its own (not every backend does) is asked too.
      const store: Record<string, unknown> = { ...registry.storeHealth() };
      if (store.status !== undefined && store.status !== 'ok') {
        reasons.push(
          `the registry store is ${String(store.status)}${store.error ? `: ${String(store.error)}` : ''}`,
        );
      }
      if (reasons.length > 0) return reply.code(503).send({ status: 'not_ready' as const, reasons });
      return { status: 'ready' as const };
    },
  );
};

function probesHealth(probes: CapabilityProbes) {
  const stats = probes.stats();
  return {
    misrouted: probes.misrouted(),
    runs: stats.runs,
    last_run_cpu_ms: stats.lastRunCpuMs,
    longest_slice_ms: stats.longestSliceMs,
  };
}

/**
 * What start-up set aside or lost, in words an operator acts on: any of it makes `/health` `degraded`
 * (the service works, but data needs attention) until a restart finds everything clean.
 */
export function recoveryWarnings(
  recovery: readonly RecoveryEvent[],
  quarantined: QuarantineReport | undefined,
): string[] {
  const warnings: string[] = [];
  for (const event of recovery) {
    if (event.action === 'quarantined') {
      warnings.push(`${event.file} was unusable (${event.reason}) and was moved to ${event.moved_to}`);
    } else if (event.action === 'restored') {
      warnings.push(
        `the registry was restored from ${event.file} (${event.reason}): the last change may be lost`,
      );
    } else {
      warnings.push(
        `${event.records?.length ?? 0} agent record(s) failed validation and were set aside in ${event.moved_to}: ` +
          (event.records ?? []).map((record) => record.name).join(', '),
      );
    }
  }
  if (recovery.length > 0) {
    warnings.push(
      'inspect with `agent-registry repair`; restore valid records with `agent-registry repair --apply` (service stopped)',
    );
  }
  if (quarantined !== undefined) {
    warnings.push(
      `the session database was corrupt (${quarantined.reason}) and was moved to ${quarantined.folder}`,
    );
  }
  return warnings;
}
