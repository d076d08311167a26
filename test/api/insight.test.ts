/**
 * Operator insight through the API, on both session backends: the routing decision log
 * (`GET /registry/decisions`), what-if replay (`POST /registry/route/replay`) and capability probes (agent
 * views, the registration's `overlaps`, `/health`, `/metrics`).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEMO_AGENTS } from '../../jarvis_agent/mcp_agents/demo-agents.js';
import { useTestPostgres } from '../support/postgres.js';
import { parsePrometheus, sampleValue } from '../support/prometheus.js';
import { type RunningService, startService } from '../support/service.js';

const postgres = await useTestPostgres('insight-api');

const TICKETS_EXAMPLES = [...DEMO_AGENTS.find((a) => a.agent_type === 'tickets')!.capabilities.examples];

/** An agent built by the generic demo factory, with the given examples. */
function generic(name: string, description: string, examples: string[], extra: Record<string, unknown> = {}) {
  return {
    agent_type: 'generic',
    factory_module: 'jarvis_agent.mcp_agents.agent_factory',
    factory_function: 'create_generic_agent',
    factory_params: { name, description },
    capabilities: { examples },
    ...extra,
  };
}

const PAYROLL_EXAMPLES = [
  'when is payday this month',
  'show my last payslip',
  'why is my salary lower this month',
  'how much tax was deducted from my paycheck',
  'download my payslip for march',
  'update my bank account for salary payments',
  'what is my gross salary',
  'explain the deductions on my payslip',
  'when will my bonus be paid out with the salary',
  'how do I change my tax withholding on payroll',
];
const PAYROLL_QUERIES = [
  'show me my payslip for last month',
  'when does the salary arrive this month',
  'why was so much tax deducted from my salary',
];
const OTHER_QUERIES = ['show my open tickets', 'Give me the details of ticket INC-1007'];

const backends: [string, () => Promise<Record<string, string>>][] = [
  ['SQLite', async () => ({})],
  ...(postgres.available
    ? [
        ['PostgreSQL', async () => ({ DATABASE_URL: await postgres.schema() })] as [
          string,
          () => Promise<Record<string, string>>,
        ],
      ]
    : []),
];

async function route(service: RunningService, query: string, session_id?: string) {
  const response = await service.call('POST', '/registry/route', {
    body: { query, ...(session_id !== undefined && { session_id }) },
  });
  expect(response.status).toBe(200);
  return response.body as { selected: string[] };
}

/** Route each query, then wait for the decision log to write them. */
async function routeAll(service: RunningService, queries: readonly string[]) {
  for (const query of queries) await route(service, query);
  await service.service.decisionLog.flush();
}

describe.each(backends)('operator insight on %s', (_backend, env) => {
  describe('GET /registry/decisions', () => {
    it('logs every routing decision with its details and pages them newest first', async () => {
      const service = await startService(await env());
      const created = await service.call('POST', '/sessions', { body: { user_id: 'alice' } });
      const sessionId = created.body.session_id as string;
      const revision = service.service.registry.revision;
      const first = await route(service, 'show my open tickets', sessionId);
      await route(service, 'how much did we spend on cloud last month');
      await route(service, 'what is the meaning of life');
      await service.service.decisionLog.flush();

      const page1 = await service.call('GET', '/registry/decisions?limit=2');
      expect(page1.status).toBe(200);
      expect(page1.body.decisions.map((d: { query: string }) => d.query)).toEqual([
        'what is the meaning of life',
        'how much did we spend on cloud last month',
      ]);
      expect(page1.body.next_cursor).toEqual(expect.any(String));
      const page2 = await service.call('GET', `/registry/decisions?limit=2&cursor=${page1.body.next_cursor}`);
      expect(page2.body).toEqual({
        decisions: [
          {
            at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
            query: 'show my open tickets',
            query_hashed: false,
            candidates: expect.arrayContaining([{ name: 'tickets_agent', score: expect.any(Number) }]),
            selected: first.selected,
            follow_up: false,
            revision,
            session_id: sessionId,
          },
        ],
        next_cursor: null,
      });
      expect(first.selected).toEqual(['tickets_agent']);

      const bySession = await service.call('GET', `/registry/decisions?session_id=${sessionId}`);
      expect(bySession.body.decisions).toHaveLength(1);
      const byAgent = await service.call('GET', '/registry/decisions?agent=tickets_agent');
      expect(byAgent.body.decisions.map((d: { query: string }) => d.query)).toEqual(['show my open tickets']);
      const since = await service.call(
        'GET',
        `/registry/decisions?since=${new Date(Date.now() + 60_000).toISOString()}`,
      );
      expect(since.body).toEqual({ decisions: [], next_cursor: null });

      for (const bad of ['cursor=bogus', 'limit=0', 'limit=501', 'since=soon', 'color=red']) {
        const response = await service.call('GET', `/registry/decisions?${bad}`);
        expect(response.status, bad).toBe(400);
        expect(response.body.error.code).toBe('validation_error');
      }
      const health = await service.call('GET', '/health');
      expect(health.body.decision_log).toMatchObject({ written: 3, failed: 0, dropped: 0, pending: 0 });
    });

    it('stores a SHA-256 instead of the query with ROUTER_LOG_QUERIES=false', async () => {
      const service = await startService({ ...(await env()), ROUTER_LOG_QUERIES: 'false' });
      await routeAll(service, ['show my open tickets']);
      const { body } = await service.call('GET', '/registry/decisions');
      const hash = createHash('sha256').update('show my open tickets').digest('hex');
      expect(body.decisions).toMatchObject([
        { query: `sha256:${hash}`, query_hashed: true, selected: ['tickets_agent'] },
      ]);
      expect(JSON.stringify(body)).not.toContain('open tickets');
      // Hashed queries cannot be replayed, and say so.
      const replay = await service.call('POST', '/registry/route/replay', {
        body: { change: { delete: 'tickets_agent' } },
      });
      expect(replay.body).toMatchObject({ replayed: 0, skipped_hashed: 1, changed: [] });
    });
  });

  describe('POST /registry/route/replay', () => {
    it('shows a new agent that takes over a domain as moved, for exactly those queries', async () => {
      const service = await startService(await env());
      await routeAll(service, [...PAYROLL_QUERIES, ...OTHER_QUERIES, PAYROLL_QUERIES[0]!]);
      const before = await Promise.all(PAYROLL_QUERIES.map((q) => route(service, q)));
      await service.service.decisionLog.flush();
      const revision = service.service.registry.revision;

      const change = {
        register: generic('payroll_agent', 'Payroll: payslips, salary, tax deductions', PAYROLL_EXAMPLES),
      };
      const response = await service.call('POST', '/registry/route/replay', { body: { change } });
      expect(response.status).toBe(200);
      const result = response.body;
      expect(result.replayed).toBe(PAYROLL_QUERIES.length * 2 + OTHER_QUERIES.length + 1);
      expect(result.changed.map((c: { query: string }) => c.query).sort()).toEqual(
        [...PAYROLL_QUERIES].sort(),
      );
      for (const changed of result.changed) expect(changed.after).toEqual(['payroll_agent']);
      expect(result.changed[0]).toMatchObject({ query: PAYROLL_QUERIES[0], count: 3 });
      // Each query was counted where it went before: another agent (moved) or none (newly routed).
      const wentNowhere = before
        .map((b, i): number => (b.selected.length === 0 ? (i === 0 ? 3 : 2) : 0))
        .reduce((a, b) => a + b, 0);
      const moved = Object.values(result.summary.moved as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(result.summary.newly_routed).toBe(wentNowhere);
      expect(moved + wentNowhere).toBe(PAYROLL_QUERIES.length * 2 + 1);
      for (const key of Object.keys(result.summary.moved)) expect(key).toMatch(/->payroll_agent$/);
      expect(result.summary.newly_none).toBe(0);

      // Nothing was saved.
      expect(service.service.registry.revision).toBe(revision);
      expect((await service.call('GET', '/registry/agents/payroll_agent')).status).toBe(404);
    });

    it('a change that touches nothing moves nothing; a delete sends its queries elsewhere or nowhere', async () => {
      const service = await startService(await env());
      await routeAll(service, [
        ...OTHER_QUERIES,
        ...PAYROLL_QUERIES,
        'how much did we spend on cloud last month',
      ]);
      const oxygen = (await service.call('GET', '/registry/agents/oxygen_agent')).body;
      const same = await service.call('POST', '/registry/route/replay', {
        body: { change: { update: { name: 'oxygen_agent', capabilities: oxygen.capabilities } } },
      });
      expect(same.status).toBe(200);
      expect(same.body).toEqual({
        replayed: 6,
        skipped_hashed: 0,
        changed: [],
        summary: { moved: {}, newly_none: 0, newly_routed: 0 },
      });
      const removed = await service.call('POST', '/registry/route/replay', {
        body: { change: { delete: 'tickets_agent' }, limit: 1000 },
      });
      expect(removed.status).toBe(200);
      const queries = [...OTHER_QUERIES, ...PAYROLL_QUERIES, 'how much did we spend on cloud last month'];
      const toTickets: string[] = [];
      for (const query of queries) {
        if ((await route(service, query)).selected.includes('tickets_agent')) toTickets.push(query);
      }
      expect(toTickets).toEqual(expect.arrayContaining(OTHER_QUERIES));
      // Every query of the deleted agent goes elsewhere or nowhere; others may move too, since the "none
      // fits" threshold is fitted from the registry's examples and the registry changed.
      const changedQueries = removed.body.changed.map((c: { query: string }) => c.query);
      expect(changedQueries).toEqual(expect.arrayContaining(toTickets));
      for (const changed of removed.body.changed) {
        expect(changed.after).not.toContain('tickets_agent');
        expect(changed.before.includes('tickets_agent')).toBe(toTickets.includes(changed.query));
      }
      const { moved, newly_none, newly_routed } = removed.body.summary;
      const total = Object.values(moved as Record<string, number>).reduce(
        (a, b) => a + b,
        newly_none + newly_routed,
      );
      expect(total).toBe(changedQueries.length);
      const limited = await service.call('POST', '/registry/route/replay', {
        body: { change: { delete: 'tickets_agent' }, limit: 2 },
      });
      expect(limited.body.replayed).toBe(2);
      const since = await service.call('POST', '/registry/route/replay', {
        body: { change: { delete: 'tickets_agent' }, since: new Date(Date.now() + 60_000).toISOString() },
      });
      expect(since.body.replayed).toBe(0);
    });

    it('refuses a bad change as the real call would, and saves nothing', async () => {
      const service = await startService(await env());
      await routeAll(service, OTHER_QUERIES);
      const revision = service.service.registry.revision;
      const cases: [unknown, number][] = [
        [{}, 400],
        [{ change: {} }, 400],
        [{ change: { delete: 'tickets_agent', update: { name: 'x', capabilities: {} } } }, 400],
        [{ change: { register: { agent_type: 'x' } } }, 400],
        [{ change: { register: generic('bad name!', 'x', []) } }, 400],
        [
          { change: { register: { ...generic('x_agent', 'x', []), factory_function: 'no_such_factory' } } },
          400,
        ],
        [{ change: { register: generic('tickets_agent', 'x', []) } }, 409],
        [{ change: { update: { name: 'tickets_agent', capabilities: 'all' } } }, 400],
        [{ change: { update: { name: 'ghost_agent', capabilities: {} } } }, 404],
        [{ change: { delete: 'ghost_agent' } }, 404],
        [{ change: { delete: 'tickets_agent' }, limit: 0 }, 400],
        [{ change: { delete: 'tickets_agent' }, since: 'last week' }, 400],
      ];
      for (const [body, status] of cases) {
        const response = await service.call('POST', '/registry/route/replay', { body });
        expect(response.status, JSON.stringify(body)).toBe(status);
        expect(response.body.error.code).toEqual(expect.any(String));
      }
      expect(service.service.registry.revision).toBe(revision);
      expect((await service.call('GET', '/registry/agents')).body.total).toBe(3);
    });
  });

  describe('capability probes', () => {
    it('names the overlapped agents in the 201, then reports stolen_by, misrouted in /health and /metrics', async () => {
      const service = await startService(await env(), undefined, { probeDebounceMs: 1 });
      await service.service.probes.settled();
      const tickets = await service.call('GET', '/registry/agents/tickets_agent');
      expect(tickets.body.probe).toMatchObject({
        examples: TICKETS_EXAMPLES.length,
        stolen_by: {},
        checked_at: expect.any(String),
      });
      expect(tickets.body.probe.routed_here).toBe(TICKETS_EXAMPLES.length);

      // The overlaps are the agents the registry routes the new examples to before the agent joins.
      const expected = new Map<string, number>();
      for (const example of PAYROLL_EXAMPLES) {
        for (const name of (await route(service, example)).selected)
          expected.set(name, (expected.get(name) ?? 0) + 1);
      }
      const fresh = await service.call('POST', '/registry/agents', {
        body: generic('payroll_agent', 'Payroll questions', PAYROLL_EXAMPLES),
      });
      expect(fresh.status).toBe(201);
      expect(fresh.body.agent_name).toBe('payroll_agent');
      expect(
        Object.fromEntries(
          fresh.body.overlaps.map((o: { agent: string; examples: number }) => [o.agent, o.examples]),
        ),
      ).toEqual(Object.fromEntries(expected));

      // A clone of the tickets agent: every one of its examples is the tickets agent's today.
      const clone = await service.call('POST', '/registry/agents', {
        body: generic('helpdesk_agent', 'Handles IT support tickets', TICKETS_EXAMPLES),
      });
      expect(clone.status).toBe(201);
      expect(clone.body.overlaps).toEqual([{ agent: 'tickets_agent', examples: TICKETS_EXAMPLES.length }]);

      await service.service.router.whenTrained();
      await service.service.probes.settled();
      const probeOf = async (name: string) =>
        (await service.call('GET', `/registry/agents/${name}`)).body.probe;
      const [ticketsProbe, cloneProbe] = [await probeOf('tickets_agent'), await probeOf('helpdesk_agent')];
      const stolen = (ticketsProbe.stolen_by.helpdesk_agent ?? 0) + (cloneProbe.stolen_by.tickets_agent ?? 0);
      expect(stolen).toBeGreaterThan(0);
      expect(ticketsProbe.examples + cloneProbe.examples).toBe(2 * TICKETS_EXAMPLES.length);
      const list = await service.call('GET', '/registry/agents');
      const listed = list.body.agents.find((a: { name: string }) => a.name === 'tickets_agent');
      expect(listed.probe).toEqual(ticketsProbe);

      const misrouted = [ticketsProbe, cloneProbe]
        .map((probe, i) => ({ name: i === 0 ? 'tickets_agent' : 'helpdesk_agent', probe }))
        .filter(({ probe }) => {
          const away = Object.values(probe.stolen_by as Record<string, number>).reduce((a, b) => a + b, 0);
          return away * 2 > probe.examples;
        })
        .map(({ name }) => name)
        .sort();
      const health = await service.call('GET', '/health');
      expect(health.body.probes.misrouted).toEqual(misrouted);
      expect(health.body.probes.runs).toBeGreaterThanOrEqual(2);
      const metrics = parsePrometheus((await service.call('GET', '/metrics')).body as string);
      for (const name of misrouted) {
        expect(sampleValue(metrics, 'agent_registry_probe_misrouted_agents', { agent: name })).toBe(1);
      }

      // A disabled agent is not probed; a deleted one is forgotten.
      await service.call('PATCH', '/registry/agents/helpdesk_agent/status', { body: { enabled: false } });
      await service.service.probes.settled();
      expect(await probeOf('helpdesk_agent')).toBeNull();
      await service.call('DELETE', '/registry/agents/helpdesk_agent');
      await service.service.probes.settled();
      expect((await probeOf('tickets_agent')).routed_here).toBe(TICKETS_EXAMPLES.length);
      expect((await service.call('GET', '/health')).body.probes.misrouted).toEqual([]);
    });
  });
});

describe('access to the decision log and replays', () => {
  it('needs the admin or API token for decisions and the admin token for replays', async () => {
    const admin = 'admin-token-0123456789';
    const api = 'api-token-0123456789ab';
    const read = 'read-token-0123456789a';
    const service = await startService({
      REGISTRY_ADMIN_TOKEN: admin,
      REGISTRY_API_TOKEN: api,
      REGISTRY_READ_TOKEN: read,
    });
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await service.call('GET', '/registry/decisions')).status).toBe(401);
    expect((await service.call('GET', '/registry/decisions', bearer(read))).status).toBe(401);
    expect((await service.call('GET', '/registry/decisions', bearer(api))).status).toBe(200);
    expect((await service.call('GET', '/registry/decisions', bearer(admin))).status).toBe(200);
    const body = { change: { delete: 'tickets_agent' } };
    expect((await service.call('POST', '/registry/route/replay', { body, ...bearer(read) })).status).toBe(
      401,
    );
    expect((await service.call('POST', '/registry/route/replay', { body, ...bearer(api) })).status).toBe(401);
    expect((await service.call('POST', '/registry/route/replay', { body, ...bearer(admin) })).status).toBe(
      200,
    );
  });

  it('falls back to the read token when neither the admin nor the API token is set', async () => {
    const read = 'read-token-0123456789a';
    const service = await startService({ REGISTRY_READ_TOKEN: read });
    expect((await service.call('GET', '/registry/decisions')).status).toBe(401);
    const ok = await service.call('GET', '/registry/decisions', {
      headers: { authorization: `Bearer ${read}` },
    });
    expect(ok.status).toBe(200);
  });
});
