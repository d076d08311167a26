/**
 * `GET /metrics` scraped and parsed strictly, before and after real traffic: every family the issue lists is
 * there, and the values move with what happened (requests, registry changes, routing decisions, session
 * writes, invocations). The PostgreSQL pool gauges read a real pool.
 */
import { describe, expect, it } from 'vitest';
import { ServiceMetrics } from '../../src/metrics/service-metrics.js';
import { PostgresPool } from '../../src/postgres/postgres-pool.js';
import { useTestPostgres } from '../support/postgres.js';
import { parsePrometheus, sampleValue } from '../support/prometheus.js';
import { type RunningService, startService } from '../support/service.js';

const P = 'agent_registry_';
const postgres = await useTestPostgres('metrics');

async function scrape(service: RunningService) {
  const response = await service.call('GET', '/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(response.body as string);
}

describe('GET /metrics', () => {
  it('covers requests, registry, router, session writes and invocations, and the values move', async () => {
    const service = await startService();
    await service.service.router.whenTrained();
    const before = await scrape(service);
    for (const family of [
      'http_requests_total',
      'http_request_duration_seconds',
      'registry_agents',
      'registry_agents_enabled',
      'registry_revision',
      'router_agents',
      'router_trained',
      'router_pending_agents',
      'router_model_builds',
      'router_last_build_seconds',
      'router_route_duration_seconds',
      'router_decisions_total',
      'session_store_write_duration_seconds',
      'agent_invocations_total',
      'agent_invocation_duration_seconds',
      'postgres_pool_connections',
    ]) {
      expect(before.has(`${P}${family}`), family).toBe(true);
    }
    expect(before.get(`${P}http_request_duration_seconds`)?.type).toBe('histogram');
    expect(before.get(`${P}router_decisions_total`)?.type).toBe('counter');
    expect(before.has('process_cpu_seconds_total')).toBe(true);
    expect(sampleValue(before, `${P}registry_agents`, { status: 'available' })).toBe(3);
    expect(sampleValue(before, `${P}router_trained`)).toBe(1);
    const revision = sampleValue(before, `${P}registry_revision`);

    const list = { method: 'GET', route: '/registry/agents', status: '200' };
    const listed = sampleValue(before, `${P}http_requests_total`, list);
    await service.call('GET', '/registry/agents');
    await service.call('GET', '/registry/agents');
    await service.call('GET', '/no/such/route/123');
    await service.call('POST', '/registry/agents', {
      body: {
        agent_type: 'echo',
        factory_module: 'test_factories',
        factory_function: 'create_echo_agent',
        factory_params: { name: 'metered' },
      },
    });
    const sessionId = (await service.call('POST', '/sessions', { body: { user_id: 'alice' } })).body
      .session_id;
    await service.call('POST', `/sessions/${sessionId}/history`, { body: { role: 'user', content: 'hi' } });
    const route = (query: string) =>
      service.call('POST', '/registry/route', { body: { query, session_id: sessionId } });
    expect((await route('show my open tickets')).body.selected).toEqual(['tickets_agent']);
    expect((await route('qwxz plorf vint')).body.selected).toEqual([]);
    await service.call('POST', `/sessions/${sessionId}/invocations`, {
      body: { agent_name: 'tickets_agent', query: 'q', response: 'r', success: true, duration_ms: 120 },
    });
    await service.call('POST', `/sessions/${sessionId}/invocations`, {
      body: { agent_name: 'someone_else', query: 'q', success: false, error_message: 'x', duration_ms: 5 },
    });
    expect((await route('show details')).body.follow_up).toBe(true);

    const after = await scrape(service);
    expect(sampleValue(after, `${P}http_requests_total`, list)).toBe(listed + 2);
    expect(
      sampleValue(after, `${P}http_request_duration_seconds_count`, list) -
        sampleValue(before, `${P}http_request_duration_seconds_count`, list),
    ).toBe(2);
    // Unmatched URLs share one label, so probing cannot grow the metrics.
    expect(sampleValue(after, `${P}http_requests_total`, { route: 'unmatched', status: '404' })).toBe(1);
    expect(sampleValue(after, `${P}registry_revision`)).toBe(revision + 1);
    expect(sampleValue(after, `${P}registry_agents`, { status: 'available' })).toBe(4);
    expect(sampleValue(after, `${P}registry_agents_enabled`)).toBe(4);
    expect(sampleValue(after, `${P}router_agents`)).toBe(4);
    for (const outcome of ['selected', 'none', 'follow_up']) {
      expect(sampleValue(after, `${P}router_decisions_total`, { outcome }), outcome).toBe(
        sampleValue(before, `${P}router_decisions_total`, { outcome }) + 1,
      );
      expect(
        sampleValue(after, `${P}router_route_duration_seconds_count`, { outcome }),
      ).toBeGreaterThanOrEqual(1);
    }
    for (const operation of ['create_session', 'add_history']) {
      expect(
        sampleValue(after, `${P}session_store_write_duration_seconds_count`, { operation, outcome: 'ok' }),
        operation,
      ).toBe(1);
    }
    expect(
      sampleValue(after, `${P}session_store_write_duration_seconds_count`, {
        operation: 'track_invocation',
        outcome: 'ok',
      }),
    ).toBe(2);
    expect(
      sampleValue(after, `${P}agent_invocations_total`, { agent: 'tickets_agent', outcome: 'success' }),
    ).toBe(1);
    // An agent the registry does not know is counted, under one label.
    expect(
      sampleValue(after, `${P}agent_invocations_total`, { agent: 'unregistered', outcome: 'failure' }),
    ).toBe(1);
    expect(
      sampleValue(after, `${P}agent_invocation_duration_seconds_sum`, { agent: 'tickets_agent' }),
    ).toBeCloseTo(0.12);

    // A write refused by the store is timed as an error and no invocation is counted.
    await service.call('POST', '/sessions/00000000-0000-4000-8000-000000000000/invocations', {
      body: { agent_name: 'tickets_agent', query: 'q', success: true, duration_ms: 1 },
    });
    const refused = await scrape(service);
    expect(
      sampleValue(refused, `${P}session_store_write_duration_seconds_count`, {
        operation: 'track_invocation',
        outcome: 'error',
      }),
    ).toBe(1);
    expect(
      sampleValue(refused, `${P}agent_invocations_total`, { agent: 'tickets_agent', outcome: 'success' }),
    ).toBe(1);
  });

  it.skipIf(!postgres.available)('reports a PostgreSQL pool', async () => {
    const metrics = new ServiceMetrics({ processMetrics: false });
    const pool = new PostgresPool(await postgres.database(), { max: 4 });
    metrics.watchPostgresPool('sessions', pool);
    try {
      await pool.query('SELECT 1');
      const families = parsePrometheus(await metrics.render());
      expect(sampleValue(families, `${P}postgres_pool_max`, { pool: 'sessions' })).toBe(4);
      expect(
        sampleValue(families, `${P}postgres_pool_connections`, { pool: 'sessions', state: 'idle' }),
      ).toBe(1);
      expect(
        sampleValue(families, `${P}postgres_pool_connections`, { pool: 'sessions', state: 'in_use' }),
      ).toBe(0);
      expect(sampleValue(families, `${P}postgres_pool_waiting`, { pool: 'sessions' })).toBe(0);
    } finally {
      await pool.end();
    }
  });
});

describe('parsePrometheus', () => {
  it('refuses what is not exposition format', () => {
    expect(() => parsePrometheus('x 1\n')).toThrow(/undeclared metric/);
    expect(() => parsePrometheus('# TYPE x gauge\nx{a="1",a="2"} 1\n')).toThrow(/repeated label/);
    expect(() => parsePrometheus('# TYPE x gauge\nx one\n')).toThrow(/not a sample|bad value/);
    expect(() => parsePrometheus('# TYPE x gauge\nx 1\nx 2\n')).toThrow(/duplicate series/);
    expect(() =>
      parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    ).toThrow(/cumulative/);
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n')).toThrow(
      /\+Inf/,
    );
    const ok = parsePrometheus('# HELP g a gauge\n# TYPE g gauge\ng{path="a\\"b"} +Inf\n');
    expect(ok.get('g')?.samples[0]).toEqual({ name: 'g', labels: { path: 'a"b' }, value: Infinity });
  });
});
