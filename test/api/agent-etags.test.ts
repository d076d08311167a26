/**
 * The agent list's and the single agent's ETags follow what the capability probes found, not only the store:
 * a probe result that changes after the revision did (probes run a moment after a change) answers 200 with
 * the new probe to the old ETag, and a probe run that finds the same (only `checked_at` moves) still answers
 * 304. The probes are run by hand (a long debounce keeps them from running on their own).
 */
import { describe, expect, it } from 'vitest';
import { DEMO_AGENTS } from '../../jarvis_agent/mcp_agents/demo-agents.js';
import { createApp } from '../../src/api/app.js';
import { DEFAULT_AGENT_FACTORY_ROOT } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { useTestPostgres } from '../support/postgres.js';
import { call, type RunningService, startService } from '../support/service.js';

const postgres = await useTestPostgres('agent-etags');

const TICKETS_EXAMPLES = [...DEMO_AGENTS.find((a) => a.agent_type === 'tickets')!.capabilities.examples];
const HOUR = 3_600_000;

async function list(service: RunningService, etag?: string) {
  return service.call('GET', '/registry/agents', {
    ...(etag !== undefined && { headers: { 'if-none-match': etag } }),
  });
}

function probeOf(body: { agents: { name: string; probe: unknown }[] }, name: string) {
  return body.agents.find((agent) => agent.name === name)?.probe;
}

describe('GET /registry/agents ETag and capability probes', () => {
  it('changes when a probe result changes, and stays when a probe run finds the same', async () => {
    const service = await startService({}, undefined, { probeDebounceMs: HOUR });
    const before = await list(service);
    expect(probeOf(before.body, 'tickets_agent')).toBeNull();
    const unprobed = before.headers.get('etag')!;
    expect(unprobed).toMatch(new RegExp(`^W/"${service.service.registry.revision}\\.[A-Za-z0-9_-]{16}"$`));

    // The first run: same revision, new findings.
    await service.service.probes.runNow();
    const probed = await list(service, unprobed);
    expect(probed.status).toBe(200);
    expect(probeOf(probed.body, 'tickets_agent')).toMatchObject({
      examples: TICKETS_EXAMPLES.length,
      routed_here: TICKETS_EXAMPLES.length,
    });
    const etag = probed.headers.get('etag')!;
    expect(etag).not.toBe(unprobed);
    expect(etag.startsWith(`W/"${service.service.registry.revision}.`)).toBe(true);

    // Another run finds the same: only checked_at moved, the ETag holds.
    await service.service.probes.runNow();
    const same = await list(service, etag);
    expect(same.status).toBe(304);
    expect(same.headers.get('etag')).toBe(etag);

    // A clone of the tickets agent: the registration bumps the revision; the probe run after it changes what
    // the tickets agent's examples do without another revision, and the ETag read in between no longer holds.
    const clone = await service.call('POST', '/registry/agents', {
      body: {
        agent_type: 'generic',
        factory_module: 'jarvis_agent.mcp_agents.agent_factory',
        factory_function: 'create_generic_agent',
        factory_params: { name: 'helpdesk_agent', description: 'Handles IT support tickets' },
        capabilities: { examples: TICKETS_EXAMPLES },
      },
    });
    expect(clone.status).toBe(201);
    const registered = await list(service, etag);
    expect(registered.status).toBe(200);
    expect(probeOf(registered.body, 'helpdesk_agent')).toBeNull();
    const stale = registered.headers.get('etag')!;
    const revision = service.service.registry.revision;
    await service.service.router.whenTrained();
    await service.service.probes.runNow();
    expect(service.service.registry.revision).toBe(revision);
    const reprobed = await list(service, stale);
    expect(reprobed.status).toBe(200);
    expect(reprobed.headers.get('etag')).not.toBe(stale);
    const tickets = probeOf(reprobed.body, 'tickets_agent') as { stolen_by: Record<string, number> };
    const helpdesk = probeOf(reprobed.body, 'helpdesk_agent') as { stolen_by: Record<string, number> };
    expect((tickets.stolen_by.helpdesk_agent ?? 0) + (helpdesk.stolen_by.tickets_agent ?? 0)).toBeGreaterThan(
      0,
    );
    expect((await list(service, reprobed.headers.get('etag')!)).status).toBe(304);
  });

  it('single agent: changes with its probe findings and its record, not with checked_at', async () => {
    const service = await startService({}, undefined, { probeDebounceMs: HOUR });
    const get = (etag?: string) =>
      service.call('GET', '/registry/agents/tickets_agent', {
        ...(etag !== undefined && { headers: { 'if-none-match': etag } }),
      });
    const unprobed = await get();
    expect(unprobed.body.probe).toBeNull();
    const first = unprobed.headers.get('etag')!;
    expect(first).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/);
    expect((await get(first)).status).toBe(304);

    await service.service.probes.runNow();
    const probed = await get(first);
    expect(probed.status).toBe(200);
    expect(probed.body.probe.routed_here).toBe(TICKETS_EXAMPLES.length);
    const etag = probed.headers.get('etag')!;
    await service.service.probes.runNow();
    expect((await get(etag)).status).toBe(304);

    // Another agent's change leaves this one's ETag; its own change does not.
    await service.call('PATCH', '/registry/agents/oxygen_agent/status', { body: { enabled: false } });
    expect((await get(etag)).status).toBe(304);
    await service.call('PATCH', '/registry/agents/tickets_agent/status', { body: { enabled: false } });
    const disabled = await get(etag);
    expect(disabled.status).toBe(200);
    expect(disabled.body.enabled).toBe(false);
  });

  it('has the same probe part on two services whose agents and probe findings are the same', async () => {
    const [a, b] = [
      await startService({}, undefined, { probeDebounceMs: HOUR }),
      await startService({}, undefined, { probeDebounceMs: HOUR }),
    ];
    await a.service.probes.runNow();
    await b.service.probes.runNow();
    const [listA, listB] = [await list(a), await list(b)];
    // Each service stamps its own checked_at and numbers its own revisions (replicas share theirs): the
    // probe part leaves checked_at out.
    const probePart = (etag: string | null) => etag?.split('.')[1];
    expect(probePart(listA.headers.get('etag'))).toBe(probePart(listB.headers.get('etag')));
    expect(a.service.probes.digest).toBe(b.service.probes.digest);
  });

  it('is the revision alone for the list in an app without probes; the single agent still has one', async () => {
    const { service } = await startService({}, undefined, { probeDebounceMs: HOUR });
    const app = await createApp({
      registry: service.registry,
      sessions: service.sessions,
      logger: silentLogger(),
      router: service.router,
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const first = await call(url, 'GET', '/registry/agents');
      expect(first.headers.get('etag')).toBe(`W/"${service.registry.revision}"`);
      expect(first.body.agents[0]).not.toHaveProperty('probe');
      const again = await call(url, 'GET', '/registry/agents', {
        headers: { 'if-none-match': first.headers.get('etag')! },
      });
      expect(again.status).toBe(304);
      const one = await call(url, 'GET', '/registry/agents/tickets_agent');
      expect(one.body).not.toHaveProperty('probe');
      const same = await call(url, 'GET', '/registry/agents/tickets_agent', {
        headers: { 'if-none-match': one.headers.get('etag')! },
      });
      expect(same.status).toBe(304);
    } finally {
      await app.close();
    }
  });

  it.runIf(postgres.available)(
    'PostgreSQL: changes with which agents failed to load, which a revision does not say',
    async () => {
      const url = await postgres.schema();
      const options = { probeDebounceMs: HOUR };
      const a = await startService({ DATABASE_URL: url }, undefined, options);
      const echo = {
        agent_type: 'echo',
        factory_module: 'test_factories',
        factory_function: 'create_echo_agent',
        factory_params: { name: 'echo_agent' },
      };
      expect((await a.call('POST', '/registry/agents', { body: echo })).status).toBe(201);
      // A replica without the tests' factory root: the same revision, the agent unavailable there.
      const b = await startService(
        { DATABASE_URL: url, AGENT_FACTORY_ROOTS: DEFAULT_AGENT_FACTORY_ROOT },
        undefined,
        options,
      );
      const statusOf = (body: { agents: { name: string; status: string }[] }) =>
        body.agents.find((agent) => agent.name === 'echo_agent')?.status;
      const [listA, listB] = [await list(a), await list(b)];
      expect(b.service.registry.revision).toBe(a.service.registry.revision);
      expect([statusOf(listA.body), statusOf(listB.body)]).toEqual(['available', 'unavailable']);
      const stale = listB.headers.get('etag')!;
      expect(stale).toMatch(new RegExp(`^W/"${b.service.registry.revision}\\.[A-Za-z0-9_-]{16}"$`));
      expect(listA.headers.get('etag')).not.toBe(stale);
      expect((await list(b, stale)).status).toBe(304);

      // B restarted with the root allowed: nothing was stored, so the revision holds, but the agent now loads.
      await b.stop();
      const fixed = await startService({ DATABASE_URL: url }, undefined, options);
      expect(fixed.service.registry.revision).toBe(a.service.registry.revision);
      const after = await list(fixed, stale);
      expect(after.status).toBe(200);
      expect(statusOf(after.body)).toBe('available');
      // Agreeing again with A, whose probes have not run either.
      expect(after.headers.get('etag')).toBe(listA.headers.get('etag'));
    },
  );
});
