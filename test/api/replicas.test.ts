/**
 * Several replicas on one PostgreSQL database, each a real `agent-registry serve` process: changes reach
 * every replica, the store decides names, sessions stay consistent, a replica killed mid-write loses nothing
 * acknowledged, replicas starting together migrate and seed once, and a terminated connection heals.
 * Waits are event-driven: a replica is known to have caught up when its change feed hands out the change.
 */
import { describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../../src/postgres/migrations.js';
import { useTestPostgres } from '../support/postgres.js';
import { call } from '../support/service.js';
import { type ServiceProcess, serveProcess } from '../support/service-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const postgres = await useTestPostgres('replicas');
const tempDir = useTempDirs('replicas-');

const generic = (name: string, examples: string[] = [`ask ${name} about its topic`]) => ({
  agent_type: 'generic',
  factory_module: 'jarvis_agent.mcp_agents.agent_factory',
  factory_function: 'create_generic_agent',
  factory_params: { name, description: `Answers questions about ${name}` },
  capabilities: { examples },
});

async function replicas(url: string, count: number): Promise<ServiceProcess[]> {
  return Promise.all(Array.from({ length: count }, () => serveProcess(tempDir(), { DATABASE_URL: url })));
}

async function stopAll(processes: ServiceProcess[]): Promise<void> {
  await Promise.all(processes.map((process) => process.kill('SIGKILL')));
}

/** Resolve once `replica` has applied revision `revision` (its feed answers past it), without polling timers. */
async function caughtUp(replica: ServiceProcess, revision: number): Promise<void> {
  for (;;) {
    const { body } = await call(replica.url, 'GET', '/registry/changes');
    if (body.revision >= revision) return;
    await call(replica.url, 'GET', `/registry/changes?since=${body.revision}&wait=30`);
  }
}

async function revisionOf(url: string): Promise<number> {
  const rows = await postgres.run<{ revision: string }>(url, 'SELECT revision FROM registry_state');
  return Number(rows[0]!.revision);
}

describe.skipIf(!postgres.available)('replicas on one PostgreSQL database (real processes)', () => {
  it('keep in step: a change through A reaches B’s list, read, routing and ETag; the store decides names; sessions stay whole', async () => {
    const url = await postgres.createDatabase();
    const [a, b] = await replicas(url, 2);
    try {
      const before = (await call(b!.url, 'GET', '/registry/changes')).body.revision;
      const registered = await call(a!.url, 'POST', '/registry/agents', {
        body: generic('payroll_agent', ['when is payday', 'show my last payslip', 'how much tax did I pay']),
      });
      expect(registered.status).toBe(201);
      const seen = await call(b!.url, 'GET', `/registry/changes?since=${before}&wait=30`);
      expect(seen.body.changes).toEqual([
        expect.objectContaining({ type: 'registered', agent_name: 'payroll_agent', version: 1 }),
      ]);
      const listA = await call(a!.url, 'GET', '/registry/agents');
      const listB = await call(b!.url, 'GET', '/registry/agents');
      expect(listB.body.agents.map((agent: { name: string }) => agent.name)).toContain('payroll_agent');
      // The ETag is the store revision and a digest of the probe findings: the revision parts agree, and
      // the whole ETags agree exactly when the replicas' probes found the same (each probes on its own timer).
      const [etagA, etagB] = [listA.headers.get('etag')!, listB.headers.get('etag')!];
      expect(etagB.split('.')[0]).toBe(etagA.split('.')[0]);
      const findings = (body: { agents: { name: string; probe: Record<string, unknown> | null }[] }) =>
        body.agents.map(({ name, probe }) => [name, probe === null ? null : { ...probe, checked_at: '' }]);
      expect(etagB === etagA).toBe(
        JSON.stringify(findings(listB.body)) === JSON.stringify(findings(listA.body)),
      );
      const [oneA, oneB] = [
        await call(a!.url, 'GET', '/registry/agents/payroll_agent'),
        await call(b!.url, 'GET', '/registry/agents/payroll_agent'),
      ];
      expect(oneB.body.capabilities.examples).toHaveLength(3);
      // The single agent's ETag is a digest of its view (checked_at aside): equal where the views are.
      const sameView =
        JSON.stringify(findings({ agents: [oneA.body] })) ===
          JSON.stringify(findings({ agents: [oneB.body] })) &&
        JSON.stringify({ ...oneA.body, probe: null }) === JSON.stringify({ ...oneB.body, probe: null });
      expect(oneB.headers.get('etag') === oneA.headers.get('etag')).toBe(sameView);
      const routed = await call(b!.url, 'POST', '/registry/route', { body: { query: 'when is payday' } });
      expect(routed.body.selected).toEqual(['payroll_agent']);

      // The same name through both at once: the database decides, exactly once.
      const both = await Promise.all(
        [a, b].map((r) => call(r!.url, 'POST', '/registry/agents', { body: generic('contested_agent') })),
      );
      expect(both.map((response) => response.status).sort()).toEqual([201, 409]);
      expect(both.find((response) => response.status === 409)?.body.error.code).toBe('agent_exists');

      // An update through B after A's change: the version chain continues on either replica.
      await caughtUp(a!, await revisionOf(url));
      expect(
        (await call(b!.url, 'PATCH', '/registry/agents/payroll_agent/status', { body: { enabled: false } }))
          .status,
      ).toBe(200);
      await caughtUp(a!, await revisionOf(url));
      expect((await call(a!.url, 'GET', '/registry/agents/payroll_agent')).body.enabled).toBe(false);

      // 20 sessions spread over both replicas: nothing lost, nothing attributed to the wrong session.
      const sessions = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const at = [a, b][i % 2]!;
          const other = [a, b][(i + 1) % 2]!;
          const { session_id: id } = (
            await call(at.url, 'POST', '/sessions', { body: { user_id: `user_${i}` } })
          ).body;
          for (let m = 0; m < 3; m++) {
            const via = m % 2 === 0 ? other : at;
            const added = await call(via.url, 'POST', `/sessions/${id}/history`, {
              body: { role: 'user', content: `message ${m} of session ${i}` },
            });
            expect(added.status).toBe(201);
          }
          await call(other.url, 'POST', `/sessions/${id}/invocations`, {
            body: {
              agent_name: 'payroll_agent',
              query: `q${i}`,
              response: `r${i}`,
              success: true,
              duration_ms: i,
            },
          });
          return { id, i };
        }),
      );
      for (const { id, i } of sessions) {
        for (const replica of [a, b]) {
          const session = (await call(replica!.url, 'GET', `/sessions/${id}`)).body;
          expect(session.user_id).toBe(`user_${i}`);
          expect(session.conversation_history.map((m: { content: string }) => m.content)).toEqual([
            `message 0 of session ${i}`,
            `message 1 of session ${i}`,
            `message 2 of session ${i}`,
          ]);
          expect(session.agents_invoked).toEqual([
            expect.objectContaining({ query: `q${i}`, duration_ms: i }),
          ]);
          expect(session.last_agent_called).toBe('payroll_agent');
        }
      }
      expect((await call(a!.url, 'GET', '/sessions?limit=1000')).body.total).toBe(20);
    } finally {
      await stopAll([a!, b!]);
    }
  }, 240_000);

  it('started together on an empty database, migrate it once and seed the demo agents once', async () => {
    const url = await postgres.createDatabase();
    const started = await replicas(url, 3);
    try {
      const migrations = await postgres.run<{ version: number }>(
        url,
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(migrations.map((row) => row.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
      const seeded = await postgres.run<{ agent_name: string }>(
        url,
        "SELECT agent_name FROM registry_changes WHERE type = 'registered' ORDER BY agent_name",
      );
      expect(seeded.map((row) => row.agent_name)).toEqual(['finops_agent', 'oxygen_agent', 'tickets_agent']);
      const revision = await revisionOf(url);
      for (const replica of started) {
        await caughtUp(replica, revision);
        expect((await call(replica.url, 'GET', '/registry/agents')).body.total).toBe(3);
      }
      expect(
        started.filter((replica) =>
          replica.output.all.some((line) => line.includes('registered the default agents')),
        ),
      ).toHaveLength(1);
    } finally {
      await stopAll(started);
    }
  }, 240_000);

  it('one killed with SIGKILL in the middle of writes: the other keeps serving, and every acknowledged write is there', async () => {
    const url = await postgres.createDatabase();
    const [a, b] = await replicas(url, 2);
    try {
      const acknowledged: string[] = [];
      let stop = false;
      const writers = Array.from({ length: 8 }, async (_, lane) => {
        for (let i = 0; !stop; i++) {
          const name = `lane_${lane}_${i}`;
          const response = await call(a!.url, 'POST', '/registry/agents', { body: generic(name) }).catch(
            () => undefined,
          );
          if (response?.status === 201) acknowledged.push(name);
          else return;
        }
      });
      // Kill A once it has acknowledged a good number of writes, with writes in flight.
      while (acknowledged.length < 40) await Promise.race([...writers, call(b!.url, 'GET', '/health')]);
      await a!.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);

      await caughtUp(b!, await revisionOf(url));
      const names = new Set(
        (await call(b!.url, 'GET', '/registry/agents')).body.agents.map(
          (agent: { name: string }) => agent.name,
        ),
      );
      for (const name of acknowledged) expect(names.has(name), `${name} was acknowledged`).toBe(true);
      const health = await call(b!.url, 'GET', '/health');
      expect(health.status).toBe(200);
      expect(
        (await call(b!.url, 'POST', '/registry/agents', { body: generic('after_the_crash') })).status,
      ).toBe(201);
    } finally {
      await stopAll([a!, b!]);
    }
  }, 240_000);

  it('its connections terminated under load (pg_terminate_backend): it answers 503, then recovers without a restart', async () => {
    const url = await postgres.createDatabase();
    const [a, b] = await replicas(url, 2);
    try {
      const { session_id: id } = (await call(a!.url, 'POST', '/sessions', { body: { user_id: 'alice' } }))
        .body;
      const statuses: number[] = [];
      const acknowledged: string[] = [];
      let stop = false;
      const load = Array.from({ length: 6 }, async (_, lane) => {
        for (let i = 0; !stop; i++) {
          const content = `lane ${lane} message ${i}`;
          const response = await call(a!.url, 'POST', `/sessions/${id}/history`, {
            body: { role: 'user', content },
          });
          statuses.push(response.status);
          if (response.status === 201) acknowledged.push(content);
          else expect(response.body.error.code).toBe('database_unavailable');
        }
      });
      while (statuses.length < 30) await Promise.race([...load, call(a!.url, 'GET', '/health')]);
      const name = new URL(url).pathname.slice(1);
      // Terminate A's connections until a call meets one: a termination that lands while every connection is
      // idle is healed by the pool without any call failing, so one termination alone proves nothing.
      for (let rounds = 0; !statuses.includes(503) && rounds < 50; rounds++) {
        await postgres.admin(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'agent-registry%'",
          [name],
        );
        const before = statuses.length;
        while (statuses.length < before + 6) await Promise.race([...load, call(a!.url, 'GET', '/health')]);
      }
      const after = statuses.length;
      while (statuses.slice(after).filter((status) => status === 201).length < 30) {
        await Promise.race([...load, call(a!.url, 'GET', '/health')]);
      }
      stop = true;
      await Promise.all(load);
      // Every acknowledged append is stored, once. (One cut off mid-commit may be stored although refused:
      // the connection died before the answer; the client was told to retry, never that it was saved.)
      const stored = (await call(b!.url, 'GET', `/sessions/${id}`)).body.conversation_history.map(
        (message: { content: string }) => message.content,
      );
      for (const content of acknowledged) expect(stored.filter((c: string) => c === content)).toHaveLength(1);
      expect(
        statuses.some((status) => status === 503),
        'some calls met the terminated connections',
      ).toBe(true);

      // A's change listener came back too: a change through B reaches A's feed.
      const revision = (await call(a!.url, 'GET', '/registry/changes')).body.revision;
      expect(
        (await call(b!.url, 'POST', '/registry/agents', { body: generic('after_terminate') })).status,
      ).toBe(201);
      const seen = await call(a!.url, 'GET', `/registry/changes?since=${revision}&wait=30`);
      expect(seen.body.changes.map((change: { agent_name: string }) => change.agent_name)).toEqual([
        'after_terminate',
      ]);
    } finally {
      await stopAll([a!, b!]);
    }
  }, 240_000);
});
