/**
 * @module metrics/service-metrics
 * The service's Prometheus metrics (prom-client), in a registry of its own so that several services in one
 * process never share counters. Components report events through the typed `observe…` methods; state that
 * already lives elsewhere (registry size and revision, router training, PostgreSQL pools) is read at scrape
 * time from what those components expose, so nothing is counted twice.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PostgresPoolStats } from '../postgres/postgres-pool.js';

export const METRIC_PREFIX = 'agent_registry_';

let processMetricsRegistry: Registry | undefined;

/**
 * Node.js process metrics (CPU, memory, event loop lag, GC) belong to the process, not to one service: they
 * are collected once, in a registry of their own, however many services the process runs (tests run many).
 */
function processRegistry(): Registry {
  if (processMetricsRegistry === undefined) {
    processMetricsRegistry = new Registry();
    collectDefaultMetrics({ register: processMetricsRegistry });
  }
  return processMetricsRegistry;
}

/** What the registry gauges read: the registry's size, revision and entries. */
export interface RegistryView {
  readonly size: number;
  readonly revision: number;
  list(): readonly { readonly status: string; readonly record: { readonly enabled: boolean } }[];
}

/** What the router gauges read (the router's own training statistics). */
export interface RouterTrainingView {
  stats(): {
    agents: number;
    trained: boolean;
    pendingAgents: number;
    builds: number;
    lastBuildMs: number | null;
  };
}

/** What the probe gauges read: the agents whose examples mostly go elsewhere, and the last run's cost. */
export interface ProbesView {
  misrouted(): string[];
  stats(): { runs: number; lastRunCpuMs: number };
}

/** How a routing decision came out: agents selected, none fits, a follow-up of the session's last agent. */
export type RouteOutcome = 'selected' | 'none' | 'follow_up' | 'error';

export interface ServiceMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean;
}

const SECONDS_FAST = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
const SECONDS_HTTP = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SECONDS_AGENT = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class ServiceMetrics {
  /** The prom-client registry holding every metric of this service. */
  readonly registry = new Registry();
  private readonly registries: RegistryView[] = [];
  private readonly routers: RouterTrainingView[] = [];
  private readonly pools = new Map<string, { stats(): PostgresPoolStats }>();
  private readonly probes: ProbesView[] = [];
  private readonly processMetrics: boolean;

  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly routeDuration: Histogram<'outcome'>;
  private readonly routeDecisions: Counter<'outcome'>;
  private readonly sessionWrites: Histogram<'operation' | 'outcome'>;
  private readonly invocations: Counter<'agent' | 'outcome'>;
  private readonly invocationDuration: Histogram<'agent' | 'outcome'>;
  private readonly decisionLog: Counter<'outcome'>;

  constructor(options: ServiceMetricsOptions = {}) {
    const registers = [this.registry];
    this.processMetrics = options.processMetrics !== false;

    this.httpRequests = new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from receiving a request to sending its response, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS_HTTP,
      registers,
    });

    const registriesOf = () => this.registries;
    new Gauge({
      name: `${METRIC_PREFIX}registry_agents`,
      help: 'Registered agents, by whether their factory could create them (available) or not (unavailable)',
      labelNames: ['status'],
      registers,
      collect() {
        for (const status of ['available', 'unavailable']) {
          const count = registriesOf().reduce(
            (sum, view) => sum + view.list().filter((entry) => entry.status === status).length,
            0,
          );
          this.set({ status }, count);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}registry_agents_enabled`,
      help: 'Registered agents that are enabled (routable when available)',
      registers,
      collect() {
        this.set(
          registriesOf().reduce(
            (sum, view) => sum + view.list().filter((entry) => entry.record.enabled).length,
            0,
          ),
        );
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}registry_revision`,
      help: 'The registry revision: grows by one with every change (the first part of the agent list ETag)',
      registers,
      collect() {
        this.set(registriesOf().reduce((max, view) => Math.max(max, view.revision), 0));
      },
    });

    const routerStats = () => this.routers.map((router) => router.stats());
    const routerGauge = (
      name: string,
      help: string,
      read: (stats: ReturnType<RouterTrainingView['stats']>) => number,
    ) =>
      new Gauge({
        name: `${METRIC_PREFIX}router_${name}`,
        help,
        registers,
        collect() {
          const all = routerStats();
          if (all.length > 0) this.set(all.reduce((sum, stats) => sum + read(stats), 0));
        },
      });
    routerGauge('agents', 'Agents the router knows', (stats) => stats.agents);
    routerGauge(
      'trained',
      '1 when the routing model is trained on every change, 0 while it is catching up',
      (stats) => (stats.trained ? 1 : 0),
    );
    routerGauge(
      'pending_agents',
      'Agents changed since the model was last trained',
      (stats) => stats.pendingAgents,
    );
    routerGauge('model_builds', 'Routing models built since start', (stats) => stats.builds);
    routerGauge(
      'last_build_seconds',
      'How long the last model build took',
      (stats) => (stats.lastBuildMs ?? 0) / 1000,
    );

    this.routeDuration = new Histogram({
      name: `${METRIC_PREFIX}router_route_duration_seconds`,
      help: 'Time to route one query (both stages), by outcome',
      labelNames: ['outcome'],
      buckets: SECONDS_FAST,
      registers,
    });
    this.routeDecisions = new Counter({
      name: `${METRIC_PREFIX}router_decisions_total`,
      help: "Routing decisions: agents selected, none fits, a follow-up of the session's last agent, or an error",
      labelNames: ['outcome'],
      registers,
    });

    this.sessionWrites = new Histogram({
      name: `${METRIC_PREFIX}session_store_write_duration_seconds`,
      help: 'Time until a session write is durable (or failed), by operation and outcome',
      labelNames: ['operation', 'outcome'],
      buckets: SECONDS_FAST,
      registers,
    });
    this.invocations = new Counter({
      name: `${METRIC_PREFIX}agent_invocations_total`,
      help: 'Agent invocations recorded in sessions, by agent and outcome (success or failure)',
      labelNames: ['agent', 'outcome'],
      registers,
    });
    this.invocationDuration = new Histogram({
      name: `${METRIC_PREFIX}agent_invocation_duration_seconds`,
      help: 'Duration of the agent invocations recorded in sessions, as reported by the caller',
      labelNames: ['agent', 'outcome'],
      buckets: SECONDS_AGENT,
      registers,
    });

    this.decisionLog = new Counter({
      name: `${METRIC_PREFIX}router_decisions_logged_total`,
      help: 'Routing decisions given to the decision log, by outcome (written, failed, dropped)',
      labelNames: ['outcome'],
      registers,
    });
    const probesOf = () => this.probes;
    new Gauge({
      name: `${METRIC_PREFIX}probe_misrouted_agents`,
      help: 'Agents whose own examples now mostly go to other agents (capability probes), one series each',
      labelNames: ['agent'],
      registers,
      collect() {
        this.reset();
        for (const probes of probesOf()) for (const agent of probes.misrouted()) this.set({ agent }, 1);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}probe_last_run_cpu_seconds`,
      help: 'CPU time the last full capability probe run took, in slices',
      registers,
      collect() {
        for (const probes of probesOf()) this.set(probes.stats().lastRunCpuMs / 1000);
      },
    });

    const pools = () => this.pools;
    new Gauge({
      name: `${METRIC_PREFIX}postgres_pool_connections`,
      help: 'PostgreSQL connections of this process, by pool and state (idle, in_use)',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        for (const [pool, source] of pools()) {
          const stats = source.stats();
          this.set({ pool, state: 'idle' }, stats.idle);
          this.set({ pool, state: 'in_use' }, stats.total - stats.idle);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}postgres_pool_waiting`,
      help: 'Callers waiting for a PostgreSQL connection, by pool',
      labelNames: ['pool'],
      registers,
      collect() {
        for (const [pool, source] of pools()) this.set({ pool }, source.stats().waiting);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}postgres_pool_max`,
      help: 'Most PostgreSQL connections a pool opens',
      labelNames: ['pool'],
      registers,
      collect() {
        for (const [pool, source] of pools()) this.set({ pool }, source.stats().max);
      },
    });
  }

  /** The `Content-Type` of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format, read now. */
  async render(): Promise<string> {
    const own = await this.registry.metrics();
    return this.processMetrics ? `${await processRegistry().metrics()}\n${own}` : own;
  }

  /** Report the registry's size and revision at every scrape. */
  watchRegistry(registry: RegistryView): void {
    this.registries.push(registry);
  }

  /** Report the router's training state at every scrape. */
  watchRouter(router: RouterTrainingView): void {
    this.routers.push(router);
  }

  /** Report the capability probes' findings at every scrape. */
  watchProbes(probes: ProbesView): void {
    this.probes.push(probes);
  }

  observeDecisionLog(outcome: 'written' | 'failed' | 'dropped', count: number): void {
    this.decisionLog.inc({ outcome }, count);
  }

  /** Report a PostgreSQL pool's connections at every scrape, labelled `pool="<name>"`. */
  watchPostgresPool(name: string, pool: { stats(): PostgresPoolStats }): void {
    this.pools.set(name, pool);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  observeRoute(outcome: RouteOutcome, seconds: number): void {
    this.routeDecisions.inc({ outcome });
    this.routeDuration.observe({ outcome }, seconds);
  }

  observeSessionWrite(operation: string, outcome: 'ok' | 'error', seconds: number): void {
    this.sessionWrites.observe({ operation, outcome }, seconds);
  }

  observeInvocation(agent: string, success: boolean, durationMs: number): void {
    const labels = { agent, outcome: success ? 'success' : 'failure' };
    this.invocations.inc(labels);
    this.invocationDuration.observe(labels, durationMs / 1000);
  }
}
