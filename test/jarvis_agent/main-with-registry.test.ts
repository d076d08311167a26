/**
 * Jarvis end to end: the real service, Jarvis on an ephemeral port, the demo agents on the offline model
 * through ADK's Runner. Only models are faked (agents from `jarvis_test_factories` whose model fails).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createJarvis, type Jarvis, type JarvisOptions } from '../../jarvis_agent/main-with-registry.js';
import { OFFLINE_MODEL_MARKER } from '../../jarvis_agent/offline-model/offline-llm.js';
import { RegistryClient } from '../../src/client/registry-client.js';
import { ServiceHttpClient } from '../../src/client/service-http-client.js';
import { SessionClient } from '../../src/client/session-client.js';
import { DEFAULT_AGENT_FACTORY_ROOT, loadConfig } from '../../src/config.js';
import { isMainModule } from '../../src/is-main-module.js';
import { silentLogger } from '../../src/logger.js';
import { exited, lines, spawnTs } from '../support/child-process.js';
import { call, type RunningService, startService, TEST_FACTORY_ROOT } from '../support/service.js';
import { useTempDirs } from '../support/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../jarvis_agent/main-with-registry.ts', import.meta.url));
const BOTH_ROOTS = [DEFAULT_AGENT_FACTORY_ROOT, TEST_FACTORY_ROOT].join(',');

const running: Jarvis[] = [];
afterEach(async () => {
  for (const jarvis of running.splice(0)) await jarvis.stop();
});

interface RunningJarvis {
  jarvis: Jarvis;
  url: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  chat(body: Record<string, unknown>): Promise<{ status: number; body: any }>;
}

async function startJarvis(
  registryUrl: string,
  env: Record<string, string> = {},
  options: JarvisOptions = {},
): Promise<RunningJarvis> {
  const config = loadConfig({
    JARVIS_PORT: '0',
    REGISTRY_URL: registryUrl,
    AGENT_FACTORY_ROOTS: BOTH_ROOTS,
    ...env,
  });
  const jarvis = await createJarvis(config, {
    logger: silentLogger(),
    refreshIntervalMs: 0,
    serviceMaxAttempts: 2,
    ...options,
  });
  running.push(jarvis);
  const url = await jarvis.start();
  return { jarvis, url, chat: (body) => call(url, 'POST', '/chat', { body }) };
}

function clients(service: RunningService) {
  const http = new ServiceHttpClient({ baseUrl: service.url, backoffBaseMs: 1 });
  return { registry: new RegistryClient(http), sessions: new SessionClient(http) };
}

const tempDataDir = useTempDirs('jarvis-adk-');

/** Ticket ids in the order a listing shows them. */
function listedIds(text: string): string[] {
  return [...text.matchAll(/^- (INC-\d+)/gm)].map((match) => match[1]!);
}

describe('POST /chat', () => {
  it('answers with the offline model, follows up, spans domains, and says when no agent fits', async () => {
    const service = await startService();
    const { sessions } = clients(service);
    const { chat } = await startJarvis(service.url);

    const listing = await chat({ user_id: 'alice', message: 'show my open tickets' });
    expect(listing.status).toBe(200);
    const { session_id: sessionId, response, agents, invocations } = listing.body;
    expect(agents).toEqual(['tickets_agent']);
    const ids = listedIds(response);
    expect([...ids].sort()).toEqual(['INC-1001', 'INC-1002', 'INC-1004', 'INC-1009']);
    expect(response).toContain(OFFLINE_MODEL_MARKER);
    expect(invocations).toEqual([
      {
        agent_name: 'tickets_agent',
        success: true,
        duration_ms: expect.any(Number),
        response,
        error_message: null,
      },
    ]);
    expect(Number.isInteger(invocations[0].duration_ms)).toBe(true);

    const stored = await sessions.getSession(sessionId);
    expect(stored).toMatchObject({ user_id: 'alice', status: 'active', metadata: { channel: 'jarvis' } });
    expect(stored.conversation_history.map(({ role, content }) => ({ role, content }))).toEqual([
      { role: 'user', content: 'show my open tickets' },
      { role: 'assistant', content: response },
    ]);
    expect(stored.agents_invoked).toEqual([
      {
        agent_name: 'tickets_agent',
        query: 'show my open tickets',
        response,
        success: true,
        error_message: null,
        duration_ms: invocations[0].duration_ms,
        timestamp: expect.any(String),
      },
    ]);
    expect(stored.context).toMatchObject({
      last_agent_called: 'tickets_agent',
      last_query: 'show my open tickets',
    });

    // The agent remembers its own listing in this chat: "the second one" is the second ticket shown.
    const details = await chat({
      user_id: 'alice',
      message: 'show details of the second one',
      session_id: sessionId,
    });
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({ session_id: sessionId, agents: ['tickets_agent'] });
    expect(details.body.response).toContain(`id: ${ids[1]}`);
    expect(details.body.response).toContain('description: ');
    expect(details.body.response).not.toContain(`id: ${ids[0]}`);

    const both = await chat({
      user_id: 'alice',
      message: "show my tickets and last month's cloud spend",
      session_id: sessionId,
    });
    expect(both.status).toBe(200);
    expect([...both.body.agents].sort()).toEqual(['finops_agent', 'tickets_agent']);
    expect(both.body.invocations.map((i: { success: boolean }) => i.success)).toEqual([true, true]);
    expect(both.body.response).toContain('[tickets_agent]\nResult of list_tickets');
    expect(both.body.response).toContain('[finops_agent]\nResult of get_cloud_spend (period: last_month)');
    // Each agent was asked its own part of the message.
    const recorded = (await sessions.getSession(sessionId)).agents_invoked.slice(2);
    expect(Object.fromEntries(recorded.map((i) => [i.agent_name, i.query]))).toEqual({
      tickets_agent: 'show my tickets',
      finops_agent: "last month's cloud spend",
    });

    const cake = await chat({ user_id: 'alice', message: 'bake me a chocolate cake', session_id: sessionId });
    expect(cake.status).toBe(200);
    expect(cake.body.agents).toEqual([]);
    expect(cake.body.invocations).toEqual([]);
    expect(cake.body.response).toMatch(/^I don't have an agent that can answer that\. The available agents/);
    for (const name of ['tickets_agent', 'finops_agent', 'oxygen_agent']) {
      expect(cake.body.response).toContain(`- ${name}: `);
    }
    expect(cake.body.response).toContain('IT support tickets');
    const after = await sessions.getSession(sessionId);
    expect(after.agents_invoked).toHaveLength(4);
    expect(after.conversation_history.slice(-2).map((entry) => entry.content)).toEqual([
      'bake me a chocolate cake',
      cake.body.response,
    ]);
  });

  it('gives an agent its earlier turns back after Jarvis restarts', async () => {
    const service = await startService();
    const first = await startJarvis(service.url);
    const listing = await first.chat({ user_id: 'alice', message: 'show my open tickets' });
    const ids = listedIds(listing.body.response);
    await first.jarvis.stop();

    const second = await startJarvis(service.url);
    const details = await second.chat({
      user_id: 'alice',
      message: 'show details of the second one',
      session_id: listing.body.session_id,
    });
    expect(details.status).toBe(200);
    expect(details.body.response).toContain(`id: ${ids[1]}`);
  });

  it('keeps every ADK event in the service: after both restart, "the second one" is answered from the earlier tool result', async () => {
    const dataDir = tempDataDir();
    let service = await startService({}, dataDir);
    let jarvis = await startJarvis(service.url);
    const listing = await jarvis.chat({ user_id: 'alice', message: 'show my open tickets' });
    const ids = listedIds(listing.body.response);
    const sessionId = listing.body.session_id;
    await jarvis.jarvis.stop();
    await service.stop();

    service = await startService({}, dataDir);
    jarvis = await startJarvis(service.url);
    const details = await jarvis.chat({
      user_id: 'alice',
      message: 'show details of the second one',
      session_id: sessionId,
    });
    expect(details.status).toBe(200);
    expect(details.body.response).toContain(`id: ${ids[1]}`);
    // The agent's ADK session in the store: the listing's call and result, then one details call, no new listing.
    const stored = await service.call('GET', `/sessions/${sessionId}/adk/jarvis.tickets_agent`);
    expect(stored.status).toBe(200);
    const parts = (
      stored.body.events as { content?: { parts?: Record<string, { name?: string }>[] } }[]
    ).flatMap((event) => event.content?.parts ?? []);
    expect(parts.filter((part) => part.functionCall).map((part) => part.functionCall?.name)).toEqual([
      'list_tickets',
      'get_ticket_details',
    ]);
    expect(parts.filter((part) => part.functionResponse).map((part) => part.functionResponse?.name)).toEqual([
      'list_tickets',
      'get_ticket_details',
    ]);
    // The seed's tables keep their contract beside it: two turns, two invocations.
    const session = await service.call('GET', `/sessions/${sessionId}`);
    expect(session.body.agents_invoked.map((call: { agent_name: string }) => call.agent_name)).toEqual([
      'tickets_agent',
      'tickets_agent',
    ]);
    await service.stop();
  });

  it('rebuilds an agent whose registration changed, and restores evicted ADK sessions from the service', async () => {
    const service = await startService();
    const { registry } = clients(service);
    const { jarvis, chat } = await startJarvis(service.url, {}, { maxSessionsPerAgent: 1 });

    const raised = await chat({ user_id: 'alice', message: 'Raise a ticket: my laptop battery is swelling' });
    const created = /id: (INC-\d+)/.exec(raised.body.response)?.[1];
    expect(created).toBeDefined();
    const sessionId = raised.body.session_id;
    const shown = await chat({
      user_id: 'alice',
      message: `show details of ticket ${created}`,
      session_id: sessionId,
    });
    expect(shown.body.response).toContain(`id: ${created}`);

    // Another chat pushes this one's ADK session out (one kept per agent): its turns come back from the service.
    const listing = await chat({ user_id: 'bob', message: 'show my open tickets' });
    const ids = listedIds(listing.body.response);
    await chat({ user_id: 'alice', message: 'show my open tickets', session_id: sessionId });
    const second = await chat({
      user_id: 'bob',
      message: 'show details of the second one',
      session_id: listing.body.session_id,
    });
    expect(second.body.response).toContain(`id: ${ids[1]}`);
    expect(jarvis.pool.size).toBe(1);

    // Deleted and registered again: a new instance, whose in-memory tickets start afresh.
    const tickets = await registry.getAgent('tickets_agent');
    await registry.deleteAgent('tickets_agent');
    await registry.registerAgent({
      agent_type: tickets.agent_type,
      factory_module: tickets.factory_module,
      factory_function: tickets.factory_function,
      capabilities: tickets.capabilities,
    });
    const again = await chat({
      user_id: 'alice',
      message: `show details of ticket ${created}`,
      session_id: sessionId,
    });
    expect(again.body.response).toContain(`There is no ticket ${created}`);
  });

  it('answers two messages of one session at once, one after the other per agent', async () => {
    const service = await startService();
    const { chat } = await startJarvis(service.url);
    const opened = await chat({ user_id: 'alice', message: 'show my open tickets' });
    const sessionId = opened.body.session_id;
    const [a, b] = await Promise.all([
      chat({ user_id: 'alice', message: 'show my closed tickets', session_id: sessionId }),
      chat({ user_id: 'alice', message: 'list all critical support tickets', session_id: sessionId }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.response).toContain('Result of list_tickets (status: closed)');
    expect(b.body.response).toContain('Result of list_tickets (priority: critical)');
    const { sessions } = clients(service);
    expect((await sessions.getSession(sessionId)).agents_invoked).toHaveLength(3);
  });
});

describe('POST /chat with failing agents', () => {
  it('records a failing agent as a failed invocation and still returns the other answer', async () => {
    const service = await startService();
    const { registry, sessions } = clients(service);
    // Its own domain, so a two-part message selects it with tickets_agent (a tie on shared examples would
    // leave the choice to the router's tie-breaking).
    await registry.registerAgent({
      agent_type: 'test',
      factory_module: 'jarvis_test_factories',
      factory_function: 'create_broken_model_agent',
      factory_params: {
        name: 'facilities_agent',
        description: 'Office facilities: plants, desks and meeting rooms',
        error: 'the model backend is unreachable',
      },
      capabilities: {
        examples: [
          'water the office plants',
          'are the plants watered',
          'book a desk on floor 2',
          'book a meeting room for tomorrow',
          'is there a free desk near the window',
        ],
      },
    });
    const { chat } = await startJarvis(service.url);

    const answer = await chat({
      user_id: 'alice',
      message: 'show my open tickets and water the office plants',
    });
    expect(answer.status).toBe(200);
    expect([...answer.body.agents].sort()).toEqual(['facilities_agent', 'tickets_agent']);
    const byName = Object.fromEntries(
      answer.body.invocations.map((i: { agent_name: string }) => [i.agent_name, i]),
    );
    expect(byName.facilities_agent).toEqual({
      agent_name: 'facilities_agent',
      success: false,
      duration_ms: expect.any(Number),
      response: null,
      error_message: 'the model backend is unreachable',
    });
    expect(byName.tickets_agent.success).toBe(true);
    expect(answer.body.response).toContain(
      'facilities_agent could not answer: the model backend is unreachable',
    );
    expect(answer.body.response).toContain('[tickets_agent]\nResult of list_tickets (status: open)');
    expect(answer.body.response).toContain('INC-1001');

    const stored = await sessions.getSession(answer.body.session_id);
    const failed = stored.agents_invoked.find((i) => i.agent_name === 'facilities_agent');
    expect(failed).toMatchObject({
      query: 'water the office plants',
      success: false,
      response: null,
      error_message: 'the model backend is unreachable',
    });
    expect(stored.context.last_agent_called).toBe('tickets_agent');
  });

  it('reports an agent Jarvis cannot build, a hung one and a silent one as failed invocations, not 500s', async () => {
    const service = await startService();
    const { registry } = clients(service);
    const testAgent = (factory: string, name: string, examples: string[]) =>
      registry.registerAgent({
        agent_type: 'test',
        factory_module: factory === 'create_echo_agent' ? 'test_factories' : 'jarvis_test_factories',
        factory_function: factory,
        factory_params: { name },
        capabilities: { examples },
      });
    await testAgent('create_echo_agent', 'cake_agent', ['bake me a chocolate cake', 'how do I bake a cake']);
    await testAgent('create_stalling_agent', 'plants_agent', [
      'water the office plants',
      'are the plants watered',
    ]);
    await testAgent('create_silent_agent', 'song_agent', ['sing me a song', 'play some music']);

    // This Jarvis may only load the demo factories: the service's test root is not among its roots.
    const demoOnly = await startJarvis(service.url, { AGENT_FACTORY_ROOTS: DEFAULT_AGENT_FACTORY_ROOT });
    const cake = await demoOnly.chat({ user_id: 'alice', message: 'bake me a chocolate cake' });
    expect(cake.status).toBe(200);
    expect(cake.body.agents).toEqual(['cake_agent']);
    expect(cake.body.invocations[0]).toMatchObject({ success: false, response: null });
    expect(cake.body.invocations[0].error_message).toMatch(
      /^Module test_factories was not found under the factory roots/,
    );
    expect(cake.body.response).toMatch(/^cake_agent could not answer: Module test_factories was not found/);
    // Still failing on the next turn, still answered: a factory failure is not cached as a broken agent.
    expect((await demoOnly.chat({ user_id: 'alice', message: 'how do I bake a cake' })).status).toBe(200);

    const withTestRoot = await startJarvis(service.url, {}, { turnTimeoutMs: 300 });
    const plants = await withTestRoot.chat({ user_id: 'alice', message: 'water the office plants' });
    expect(plants.body.invocations[0]).toMatchObject({
      agent_name: 'plants_agent',
      success: false,
      error_message: 'plants_agent did not answer within 300 ms',
    });
    const song = await withTestRoot.chat({ user_id: 'alice', message: 'sing me a song' });
    expect(song.body.invocations[0]).toMatchObject({
      agent_name: 'song_agent',
      success: false,
      error_message: 'the agent finished without a reply',
    });
    expect(song.body.response).toBe('song_agent could not answer: the agent finished without a reply');
  });
});

describe('POST /chat errors and GET /health', () => {
  it('refuses invalid bodies, unknown and foreign sessions; resumes a completed session', async () => {
    const service = await startService();
    const { sessions } = clients(service);
    const { url, chat } = await startJarvis(service.url);

    for (const body of [
      { user_id: 'alice' },
      { user_id: 'alice', message: '   ' },
      { user_id: 'alice', message: 'hi', extra: true },
      { user_id: '', message: 'hi' },
      { user_id: 'alice', message: 'x'.repeat(4001) },
    ]) {
      const refused = await chat(body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('validation_error');
    }
    expect(
      (
        await call(url, 'POST', '/chat', {
          raw: '{"user_id":',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400);
    const wrongType = await call(url, 'POST', '/chat', {
      raw: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('unsupported_media_type');

    const unknown = await chat({ user_id: 'alice', message: 'hi', session_id: 'no-such-session' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({
      code: 'session_not_found',
      message:
        'No session "no-such-session" for this user: send the message without session_id to start a new one',
    });
    const alices = await sessions.createSession('alice');
    const foreign = await chat({ user_id: 'bob', message: 'show my open tickets', session_id: alices });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('session_not_found');
    expect((await sessions.getSession(alices)).conversation_history).toEqual([]);

    await sessions.setStatus(alices, 'completed');
    const resumed = await chat({ user_id: 'alice', message: 'show my open tickets', session_id: alices });
    expect(resumed.status).toBe(200);
    expect((await sessions.getSession(alices)).status).toBe('active');
  });

  it("speaks the service's HTTP: request ids, security headers, JSON-only bodies, error bodies", async () => {
    const service = await startService();
    const { url } = await startJarvis(service.url);
    const traced = await call(url, 'GET', '/health', {
      headers: { 'x-request-id': 'trace-42', 'content-type': 'application/json' },
    });
    expect(traced.status).toBe(200);
    expect(traced.headers.get('x-request-id')).toBe('trace-42');
    expect(traced.headers.get('x-content-type-options')).toBe('nosniff');
    expect(traced.headers.get('x-frame-options')).toBe('DENY');
    const generated = await call(url, 'GET', '/health', { headers: { 'x-request-id': 'bad id!' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const json = { 'content-type': 'application/json' };
    const empty = await call(url, 'POST', '/chat', { raw: '', headers: json });
    expect(empty.body.error).toEqual({
      code: 'validation_error',
      message: 'Request body is empty: send a JSON object',
    });
    const polluted = await call(url, 'POST', '/chat', {
      raw: '{"user_id": "a", "message": "hi", "__proto__": {"admin": true}}',
      headers: json,
    });
    expect(polluted.status).toBe(400);
    expect(polluted.body.error.message).toMatch(/^Request body refused: /);
    const missing = await call(url, 'GET', '/docs');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    expect(missing.headers.get('x-frame-options')).toBeNull();
  });

  it('knows whether it is the program being run', () => {
    expect(isMainModule(import.meta.url)).toBe(false);
    const argv = process.argv;
    try {
      process.argv = [argv[0]!, MAIN];
      expect(isMainModule(pathToFileURL(MAIN).href)).toBe(true);
      process.argv = [argv[0]!, '/no/such/file.js'];
      expect(isMainModule(pathToFileURL('/no/such/file.js').href)).toBe(false);
      process.argv = [argv[0]!];
      expect(isMainModule(import.meta.url)).toBe(false);
    } finally {
      process.argv = argv;
    }
  });

  it('says plainly when no agent is available at all', async () => {
    const service = await startService();
    const { registry } = clients(service);
    for (const name of ['finops_agent', 'oxygen_agent', 'tickets_agent'])
      await registry.setEnabled(name, false);
    await registry.registerAgent({
      agent_type: 'test',
      factory_module: 'jarvis_test_factories',
      factory_function: 'create_silent_agent',
      factory_params: { name: 'mystery_agent', description: '' },
    });
    const { chat } = await startJarvis(service.url);
    const undescribed = await chat({ user_id: 'alice', message: 'show my open tickets' });
    expect(undescribed.body.response).toBe(
      "I don't have an agent that can answer that. The available agents can help with:\n- mystery_agent",
    );

    await registry.setEnabled('mystery_agent', false);
    const answer = await chat({ user_id: 'alice', message: 'show my open tickets' });
    expect(answer.body).toMatchObject({
      agents: [],
      invocations: [],
      response: "I don't have an agent that can answer that, and no agents are available right now.",
    });
  });

  it('answers 502 naming the service when it is down, and /health says so', async () => {
    const service = await startService();
    const { url, chat } = await startJarvis(service.url);
    const health = await call(url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'ok',
      registry: { url: service.url, reachable: true, agents: 3 },
    });

    await service.stop();
    const down = await chat({ user_id: 'alice', message: 'show my open tickets' });
    expect(down.status).toBe(502);
    expect(down.body.error.code).toBe('upstream_error');
    expect(down.body.error.message).toBe(
      `The registry service at ${service.url} failed: sessions.create("alice") failed after 2 attempts: ` +
        `cannot connect to POST ${service.url}/sessions (ECONNREFUSED): is the service running at ${service.url}?`,
    );
    const unhealthy = await call(url, 'GET', '/health');
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body).toMatchObject({
      status: 'unavailable',
      registry: { url: service.url, reachable: false, agents: 3 },
    });
    expect(unhealthy.body.registry.error).toContain(
      'registry.list() failed after 2 attempts: cannot connect',
    );

    // Started while the service is down: it listens, and chats fail with 502 until the service is back.
    const early = await startJarvis(service.url);
    expect(early.jarvis.router.isLoaded).toBe(false);
    expect((await early.chat({ user_id: 'alice', message: 'hi' })).status).toBe(502);
  });

  it('answers 504 when the service does not answer in time', async () => {
    const server = createServer(() => {}); // accepts requests, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { chat } = await startJarvis(serviceUrl, {}, { serviceTimeoutMs: 100, serviceMaxAttempts: 1 });
      const slow = await chat({ user_id: 'alice', message: 'show my open tickets' });
      expect(slow.status).toBe(504);
      expect(slow.body.error.code).toBe('timeout');
      expect(slow.body.error.message).toMatch(
        new RegExp(
          `^The registry service at ${serviceUrl} did not answer in time: sessions\\.create\\("alice"\\) failed: no answer`,
        ),
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('runs as `npm run jarvis` does: a real process that chats and stops on SIGTERM', async () => {
    const service = await startService();
    const child = spawnTs(MAIN, [], {
      JARVIS_PORT: '0',
      REGISTRY_URL: service.url,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    });
    const output = lines(child);
    try {
      const listening = JSON.parse(await output.waitFor((line) => line.includes('Jarvis listening on')));
      expect(listening).toMatchObject({ registry_url: service.url, agents: 3 });
      const answer = await call(listening.address, 'POST', '/chat', {
        body: { user_id: 'alice', message: 'show my open tickets' },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.response).toContain(OFFLINE_MODEL_MARKER);
      child.kill('SIGTERM');
      expect(await exited(child)).toEqual({ code: 0, signal: null });
      expect(output.all.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
