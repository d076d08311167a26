/**
 * The seed's `test_query_routing_with_session` end to end over HTTP, and the orchestrator's router on the real
 * registry service: it routes through the service (one model, one answer), keeps the agents' records fresh
 * (changes picked up on refresh, 304s that change nothing, the cached list kept when the service goes away).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DynamicRouter } from '../../jarvis_agent/dynamic-router.js';
import { RegistryClient } from '../../src/client/registry-client.js';
import { ServiceCallError, ServiceHttpClient } from '../../src/client/service-http-client.js';
import { SessionClient } from '../../src/client/session-client.js';
import { type RunningService, startService } from '../support/service.js';

function clients(url: string) {
  const http = new ServiceHttpClient({ baseUrl: url, maxAttempts: 2, backoffBaseMs: 1, timeoutMs: 2000 });
  return { registry: new RegistryClient(http), sessions: new SessionClient(http) };
}

const routers: DynamicRouter[] = [];
afterEach(async () => {
  for (const router of routers.splice(0)) await router.close();
});

/** A router that polls the list (the feed-following ones are made in their own tests). */
function dynamicRouter(
  registry: RegistryClient,
  options: { refreshIntervalMs?: number; now?: () => number; follow?: boolean } = {},
) {
  const router = new DynamicRouter({ registry, refreshIntervalMs: 0, follow: false, ...options });
  routers.push(router);
  return router;
}

/** Resolve once the feed has delivered a page in which `predicate` holds for the router's records. */
async function untilFeed(router: DynamicRouter, predicate: () => boolean): Promise<void> {
  while (!predicate()) await router.nextFeedPage();
}

/** Waits for the service's router to have learned every change (its model is rebuilt in the background). */
async function waitUntilTrained(service: RunningService, agents: number): Promise<void> {
  for (;;) {
    const health = await service.call('GET', '/health');
    if (health.body.router.trained && health.body.router.agents === agents) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The service's router has learned the registry of `agents` agents and no capability probe is pending. */
async function settled(service: RunningService, agents: number): Promise<void> {
  await waitUntilTrained(service, agents);
  await service.service.probes.settled();
}

const HR_AGENT = {
  agent_type: 'generic',
  factory_module: 'jarvis_agent.mcp_agents.agent_factory',
  factory_function: 'create_generic_agent',
  factory_params: { name: 'hr_agent', description: 'Answers HR policy questions: vacation and leave' },
  capabilities: {
    examples: ['how many vacation days do I have left', 'what is the parental leave policy'],
  },
};

describe('test_query_routing_with_session', () => {
  it('routes a follow-up to the agent the session used last, over HTTP', async () => {
    const service = await startService();
    const { registry, sessions } = clients(service.url);

    const sessionId = await sessions.createSession('alice');
    const first = await registry.route({ query: 'show my tickets', session_id: sessionId });
    expect(first).toMatchObject({ selected: ['tickets_agent'], follow_up: false });

    // The agent invocation itself is the orchestrator's job; here it is recorded as if it had run.
    await sessions.trackInvocation(sessionId, {
      agent_name: 'tickets_agent',
      query: 'show my tickets',
      response: 'You have 4 open tickets: INC-1004, INC-1009, INC-1002, INC-1001',
      success: true,
      duration_ms: 42,
    });

    const followUp = await registry.route({ query: 'show me more about it', session_id: sessionId });
    expect(followUp).toMatchObject({ selected: ['tickets_agent'], follow_up: true });
    // Without the session the same words are not a follow-up: the context is what made the difference.
    expect(await registry.route({ query: 'show me more about it' })).toMatchObject({ follow_up: false });

    // A session whose last agent was another one sends the same follow-up there.
    const other = await sessions.createSession('alice');
    await sessions.trackInvocation(other, {
      agent_name: 'oxygen_agent',
      query: 'which courses are due this week',
      response: 'CRS-109, CRS-101, CRS-102, CRS-110',
      success: true,
      duration_ms: 40,
    });
    expect(await registry.route({ query: 'and the second one?', session_id: other })).toMatchObject({
      selected: ['oxygen_agent'],
      follow_up: true,
    });

    // The orchestrator routes through the service with the session, so it gets the same follow-up.
    const jarvis = dynamicRouter(registry);
    expect(await jarvis.route('and the second one?', other)).toMatchObject({
      selected: ['oxygen_agent'],
      follow_up: true,
    });
    expect((await jarvis.route('and the second one?')).follow_up).toBe(false);
  });

  it('routes the seed\'s exact "show details" as a follow-up of the session\'s last agent', async () => {
    const service = await startService();
    const { registry, sessions } = clients(service.url);
    const sessionId = await sessions.createSession('alice');
    await sessions.trackInvocation(sessionId, {
      agent_name: 'oxygen_agent',
      query: 'which courses are due this week',
      response: 'CRS-109, CRS-101, CRS-102, CRS-110',
      success: true,
      duration_ms: 40,
    });
    expect(await registry.route({ query: 'show details', session_id: sessionId })).toMatchObject({
      selected: ['oxygen_agent'],
      follow_up: true,
    });
  });

  it('does not use an expired context', async () => {
    // The session store's clock runs an hour behind the router's: every context it writes is already
    // older than the 30-minute lifetime when it is read. No waiting.
    const service = await startService({ ROUTER_CONTEXT_TTL_SECONDS: '1800' }, undefined, {
      sessionClock: () => new Date(Date.now() - 3600_000),
    });
    const { registry, sessions } = clients(service.url);
    const sessionId = await sessions.createSession('alice');
    await sessions.trackInvocation(sessionId, {
      agent_name: 'finops_agent',
      query: 'what did we spend on cloud last month',
      response: 'total usd: 93,150',
      success: true,
      duration_ms: 30,
    });
    // With a fresh context this goes to finops_agent as a follow-up (see above); expired, it fits nobody.
    expect(await registry.route({ query: 'and the second one?', session_id: sessionId })).toMatchObject({
      selected: [],
      follow_up: false,
    });
  });
});

describe('DynamicRouter following the change feed', () => {
  it('picks up registrations, updates and removals as they happen, without polling the list', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    const router = dynamicRouter(registry, { follow: true, refreshIntervalMs: 3_600_000 });
    await router.refresh();
    expect(router.isFollowing).toBe(true);
    expect([...router.records.keys()]).toEqual(['finops_agent', 'oxygen_agent', 'tickets_agent']);

    await registry.registerAgent(HR_AGENT);
    await untilFeed(router, () => router.records.has('hr_agent'));
    await registry.setEnabled('tickets_agent', false);
    await untilFeed(router, () => router.records.get('tickets_agent')?.enabled === false);
    await registry.deleteAgent('hr_agent');
    await untilFeed(router, () => !router.records.has('hr_agent'));
    // The list was read once: everything after came from the feed.
    await router.refreshIfDue();
    expect(router.records.get('tickets_agent')?.enabled).toBe(false);
  });

  it('reloads the list when the feed moved past its revision (a restarted file-backed service), then follows on', async () => {
    const first = await startService();
    const port = new URL(first.url).port;
    const dataDir = first.dataDir;
    const { registry } = clients(first.url);
    const router = dynamicRouter(registry, { follow: true, refreshIntervalMs: 3_600_000 });
    await router.refresh();
    await first.service.stop();
    // The restarted service numbers its revisions from a new epoch: the router's revision is unknown there.
    const second = await startService({ PORT: port }, dataDir);
    await second.call('POST', '/registry/agents', { body: HR_AGENT });
    await untilFeed(router, () => router.records.has('hr_agent'));
    await second.call('DELETE', '/registry/agents/hr_agent');
    await untilFeed(router, () => !router.records.has('hr_agent'));
  });

  it('stops following at once when closed', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    const router = new DynamicRouter({ registry });
    await router.refresh();
    expect(router.isFollowing).toBe(true);
    await router.close();
    await service.call('POST', '/registry/agents', { body: HR_AGENT });
    expect(router.records.has('hr_agent')).toBe(false);
  });
});

describe('DynamicRouter', () => {
  it('picks up registrations, capability changes, disabling and removal; a 304 rebuilds nothing', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    const router = dynamicRouter(registry);
    expect(router.isLoaded).toBe(false);

    // The service's capability probes run after start-up and after each change, and their findings are part
    // of the agents' views: each refresh comes once they are done, so it sees exactly what the change did.
    await settled(service, 3);
    expect(await router.refresh()).toEqual({
      notModified: false,
      upserted: ['finops_agent', 'oxygen_agent', 'tickets_agent'],
      removed: [],
    });
    expect(router.isLoaded).toBe(true);
    const cached = router.records;
    expect([...cached.keys()]).toEqual(['finops_agent', 'oxygen_agent', 'tickets_agent']);
    expect(await router.refresh()).toEqual({ notModified: true, upserted: [], removed: [] });
    expect(router.records).toBe(cached);
    expect((await router.route('what is the parental leave policy')).selected).toEqual([]);

    await registry.registerAgent(HR_AGENT);
    await settled(service, 4);
    expect(await router.refresh()).toEqual({ notModified: false, upserted: ['hr_agent'], removed: [] });
    expect((await router.route('what is the parental leave policy')).selected).toEqual(['hr_agent']);

    await registry.updateCapabilities('hr_agent', { examples: ['when is the office holiday party'] });
    await settled(service, 4);
    expect((await router.refresh()).upserted).toEqual(['hr_agent']);
    expect(router.records.get('hr_agent')?.capabilities).toEqual({
      examples: ['when is the office holiday party'],
    });
    expect((await router.route('when is the office holiday party')).selected).toEqual(['hr_agent']);

    await registry.setEnabled('tickets_agent', false);
    await settled(service, 4);
    expect((await router.refresh()).upserted).toEqual(['tickets_agent']);
    expect(router.records.get('tickets_agent')?.enabled).toBe(false);
    expect((await router.route('show my open tickets')).selected).not.toContain('tickets_agent');

    await registry.deleteAgent('hr_agent');
    await settled(service, 3);
    expect(await router.refresh()).toEqual({ notModified: false, upserted: [], removed: ['hr_agent'] });
    expect(router.records.has('hr_agent')).toBe(false);
    expect((await router.route('when is the office holiday party')).selected).toEqual([]);
  });

  it('asks the service at most once per refresh interval, and shares one request between callers', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    let now = 1_000_000;
    const router = dynamicRouter(registry, { refreshIntervalMs: 2000, now: () => now });
    const [a, b] = await Promise.all([router.refresh(), router.refresh()]);
    expect(a).toBe(b);

    await registry.registerAgent(HR_AGENT);
    await router.refreshIfDue();
    expect(router.records.has('hr_agent')).toBe(false);
    now += 2000;
    await router.refreshIfDue();
    expect(router.records.has('hr_agent')).toBe(true);
  });

  it('keeps the cached agents when the service goes away, but cannot route without it', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    const router = dynamicRouter(registry);
    await router.refresh();
    await service.stop();

    // Routing is the service's: without it there is no answer, only a clear error (the chat's 502).
    const routing = await router.route('show my open tickets').catch((caught: unknown) => caught);
    expect(routing).toBeInstanceOf(ServiceCallError);
    expect((routing as ServiceCallError).message).toContain(
      `cannot connect to POST ${service.url}/registry/route`,
    );
    expect([...router.records.keys()]).toEqual(['finops_agent', 'oxygen_agent', 'tickets_agent']);
    await expect(router.refresh()).rejects.toBeInstanceOf(ServiceCallError);

    const fresh = dynamicRouter(registry);
    const error = await fresh.route('show my open tickets').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as ServiceCallError).message).toContain(
      `cannot connect to GET ${service.url}/registry/agents`,
    );
  });

  it('answers exactly as POST /registry/route does, with and without a session', async () => {
    const service = await startService();
    const { registry, sessions } = clients(service.url);
    await registry.registerAgent(HR_AGENT);
    // Both answers from the same model: compare once the service has learned the new agent.
    await waitUntilTrained(service, 4);
    const jarvis = dynamicRouter(registry);
    await jarvis.refresh();
    const sessionId = await sessions.createSession('alice');
    await sessions.trackInvocation(sessionId, {
      agent_name: 'tickets_agent',
      query: 'show my open tickets',
      response: 'INC-1001, INC-1004',
      success: true,
      duration_ms: 12,
    });
    const queries = [
      'show my open tickets',
      'what did we spend on cloud last month',
      "show my tickets and last month's cloud spend",
      'how many vacation days do I have left',
      'show details',
      'and what did that cost us on cloud last month',
      'bake a chocolate cake',
    ];
    for (const query of queries) {
      for (const session of [undefined, sessionId]) {
        const direct = await registry.route({ query, ...(session !== undefined && { session_id: session }) });
        const { agents, ...routed } = await jarvis.route(query, session);
        expect(routed, `${query} (session ${session ?? 'none'})`).toEqual(direct);
        expect(agents.map((agent) => agent.name)).toEqual(direct.selected);
      }
    }
  });

  it('gets what to ask each of several selected agents from the service', async () => {
    const service = await startService();
    const jarvis = dynamicRouter(clients(service.url).registry);
    const routed = await jarvis.route("show my tickets and last month's cloud spend");
    expect([...routed.selected].sort()).toEqual(['finops_agent', 'tickets_agent']);
    expect(routed.parts).toEqual({
      tickets_agent: 'show my tickets',
      finops_agent: "last month's cloud spend",
    });
    expect((await jarvis.route('show my tickets')).parts).toBeUndefined();
  });

  it('refreshes its records when the service selects an agent registered since the last listing', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    const jarvis = dynamicRouter(registry, { refreshIntervalMs: 60_000 });
    await jarvis.refresh();
    await registry.registerAgent(HR_AGENT);
    await waitUntilTrained(service, 4);
    const routed = await jarvis.route('how many vacation days do I have left');
    expect(routed.selected).toEqual(['hr_agent']);
    expect(routed.agents.map((agent) => agent.name)).toEqual(['hr_agent']);
  });
});
