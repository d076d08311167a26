/**
 * The seed's `test_query_routing_with_session` end to end over HTTP, and the orchestrator's router fed from
 * the real registry service: changes picked up on refresh, 304s that rebuild nothing, the cached list kept
 * when the service goes away, follow-ups steered by the session context.
 */
import { describe, expect, it } from 'vitest';
import { DynamicRouter } from '../../jarvis_agent/dynamic-router.js';
import { RegistryClient } from '../../jarvis_agent/registry-client.js';
import { ServiceCallError, ServiceHttpClient } from '../../jarvis_agent/service-http-client.js';
import { SessionClient } from '../../jarvis_agent/session-client.js';
import { AgentRouter } from '../../src/routing/agent-router.js';
import { startService } from '../support/service.js';

function clients(url: string) {
  const http = new ServiceHttpClient({ baseUrl: url, maxAttempts: 2, backoffBaseMs: 1, timeoutMs: 2000 });
  return { registry: new RegistryClient(http), sessions: new SessionClient(http) };
}

function dynamicRouter(
  registry: RegistryClient,
  options: { refreshIntervalMs?: number; now?: () => number } = {},
) {
  return new DynamicRouter({ registry, router: new AgentRouter(), refreshIntervalMs: 0, ...options });
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

    // The orchestrator's local router reads the same context the same way; an old context is not used.
    const local = dynamicRouter(registry);
    const { context } = await sessions.getSession(other);
    expect(await local.route('and the second one?', context)).toMatchObject({
      selected: ['oxygen_agent'],
      follow_up: true,
    });
    const hoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    expect((await local.route('and the second one?', { ...context, updated_at: hoursAgo })).follow_up).toBe(
      false,
    );
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

describe('DynamicRouter', () => {
  it('picks up registrations, capability changes, disabling and removal; a 304 rebuilds nothing', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    const router = dynamicRouter(registry);
    expect(router.isLoaded).toBe(false);

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
    expect((await router.route('how many vacation days do I have left')).selected).toEqual([]);

    await registry.registerAgent(HR_AGENT);
    expect(await router.refresh()).toEqual({ notModified: false, upserted: ['hr_agent'], removed: [] });
    expect((await router.route('how many vacation days do I have left')).selected).toEqual(['hr_agent']);

    await registry.updateCapabilities('hr_agent', { examples: ['when is the office holiday party'] });
    expect((await router.refresh()).upserted).toEqual(['hr_agent']);
    expect(router.records.get('hr_agent')?.capabilities).toEqual({
      examples: ['when is the office holiday party'],
    });
    expect((await router.route('when is the office holiday party')).selected).toEqual(['hr_agent']);

    await registry.setEnabled('tickets_agent', false);
    expect((await router.refresh()).upserted).toEqual(['tickets_agent']);
    expect(router.records.get('tickets_agent')?.enabled).toBe(false);
    expect((await router.route('show my open tickets')).selected).not.toContain('tickets_agent');

    await registry.deleteAgent('hr_agent');
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

  it('keeps routing with the cached agents when the service goes away, but fails before the first listing', async () => {
    const service = await startService();
    const { registry } = clients(service.url);
    const router = dynamicRouter(registry);
    await router.refresh();
    await service.stop();

    expect((await router.route('show my open tickets')).selected).toEqual(['tickets_agent']);
    await expect(router.refresh()).rejects.toBeInstanceOf(ServiceCallError);

    const fresh = dynamicRouter(registry);
    const error = await fresh.route('show my open tickets').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceCallError);
    expect((error as ServiceCallError).message).toContain(
      `cannot connect to GET ${service.url}/registry/agents`,
    );
  });

  it('gives each of several selected agents the clauses meant for it', async () => {
    const service = await startService();
    const router = dynamicRouter(clients(service.url).registry);
    await router.refresh();
    const query = "show my tickets and last month's cloud spend";
    expect(Object.fromEntries(router.partsFor(query, ['tickets_agent', 'finops_agent']))).toEqual({
      tickets_agent: 'show my tickets',
      finops_agent: "last month's cloud spend",
    });
    // One agent, or nothing to split: everyone gets the whole message.
    expect(Object.fromEntries(router.partsFor(query, ['tickets_agent']))).toEqual({ tickets_agent: query });
    expect(Object.fromEntries(router.partsFor('show my tickets', ['tickets_agent', 'finops_agent']))).toEqual(
      {
        tickets_agent: 'show my tickets',
        finops_agent: 'show my tickets',
      },
    );
  });
});
