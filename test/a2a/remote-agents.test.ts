/**
 * Remote A2A agents end to end: real A2A servers on loopback (ADK's A2AAgentExecutor behind @a2a-js/sdk),
 * the real service and Jarvis. Register by card URL, route to the agent, chat through Jarvis; the server
 * stopped makes the agent unavailable (the others still answer); a changed card is refreshed (on demand and
 * on the schedule, through an injected timer); refusals store nothing.
 */
import { ClientFactory } from '@a2a-js/sdk/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createJarvis, type Jarvis } from '../../jarvis_agent/main-with-registry.js';
import type { Every } from '../../src/a2a/remote-agents.js';
import { DEFAULT_AGENT_FACTORY_ROOT, loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { type A2aTestServer, startA2aServer } from '../support/a2a-server.js';
import { call, startService, TEST_FACTORY_ROOT } from '../support/service.js';

const servers: A2aTestServer[] = [];
const jarvises: Jarvis[] = [];
afterEach(async () => {
  for (const jarvis of jarvises.splice(0)) await jarvis.stop();
  for (const server of servers.splice(0)) await server.stop();
});

async function a2aServer(options: Parameters<typeof startA2aServer>[0] = {}) {
  const server = await startA2aServer(options);
  servers.push(server);
  return server;
}

const ALLOW = { A2A_ALLOWED_HOSTS: '127.0.0.1,metadata.test' };

async function startJarvis(registryUrl: string) {
  const config = loadConfig({
    JARVIS_PORT: '0',
    REGISTRY_URL: registryUrl,
    AGENT_FACTORY_ROOTS: [DEFAULT_AGENT_FACTORY_ROOT, TEST_FACTORY_ROOT].join(','),
    ...ALLOW,
  });
  const jarvis = await createJarvis(config, { logger: silentLogger(), refreshIntervalMs: 0 });
  jarvises.push(jarvis);
  const url = await jarvis.start();
  return { jarvis, url };
}

describe('remote A2A agents', () => {
  it('registers by card URL, routes to it, answers through Jarvis, and is tracked like any agent', async () => {
    const remote = await a2aServer();
    const service = await startService(ALLOW);
    const registered = await service.call('POST', '/registry/agents', {
      body: { agent_type: 'a2a', card_url: remote.cardUrl, tags: ['remote'] },
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({ status: 'registered', agent_name: 'Weather_Agent' });

    const agent = (await service.call('GET', '/registry/agents/Weather_Agent')).body;
    expect(agent).toMatchObject({
      agent_type: 'a2a',
      description: 'Weather forecasts for any city',
      status: 'available',
      tags: ['remote'],
      factory_params: { card_url: remote.cardUrl, card: { name: 'Weather Agent' } },
    });
    expect(agent.capabilities.examples).toContain('will it rain tomorrow in London');
    expect(agent.capabilities.skills).toEqual([
      expect.objectContaining({ id: 'forecast', name: 'Weather forecast' }),
    ]);
    const card = await service.call('GET', '/registry/agents/Weather_Agent/card');
    expect(card.body).toEqual(remote.card);

    await service.service.router.whenTrained();
    const route = await service.call('POST', '/registry/route', {
      body: { query: 'will it rain in London tomorrow' },
    });
    expect(route.body.selected).toEqual(['Weather_Agent']);

    const { url } = await startJarvis(service.url);
    const chat = await call(url, 'POST', '/chat', {
      body: { user_id: 'alice', message: 'will it rain in London tomorrow' },
    });
    expect(chat.status).toBe(200);
    expect(chat.body.agents).toEqual(['Weather_Agent']);
    expect(chat.body.response).toContain('Forecast: ');
    expect(chat.body.response).toContain('will it rain in London tomorrow');
    expect(remote.received).toContain('will it rain in London tomorrow');
    const session = (await service.call('GET', `/sessions/${chat.body.session_id}`)).body;
    expect(session.agents_invoked).toEqual([
      expect.objectContaining({ agent_name: 'Weather_Agent', success: true }),
    ]);
    expect(session.last_agent_called).toBe('Weather_Agent');
  });

  it('marks an unreachable agent unavailable with the error, keeps it, and the others still answer', async () => {
    const remote = await a2aServer();
    const service = await startService(ALLOW);
    await service.call('POST', '/registry/agents', {
      body: { agent_type: 'a2a', card_url: remote.cardUrl, name: 'weather' },
    });
    const { url } = await startJarvis(service.url);
    await remote.stop();

    const refreshed = await service.call('POST', '/registry/agents/weather/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ status: 'unavailable', agent_name: 'weather' });
    expect(refreshed.body.error).toContain('Could not fetch the agent card');
    const agent = (await service.call('GET', '/registry/agents/weather')).body;
    expect(agent.status).toBe('unavailable');
    expect(agent.error).toBe(refreshed.body.error);
    // The same failure again writes nothing.
    const revision = service.service.registry.revision;
    const again = await service.call('POST', '/registry/agents/weather/refresh');
    expect(again.body).toEqual(refreshed.body);
    expect(service.service.registry.revision).toBe(revision);

    await service.service.router.whenTrained();
    const chat = await call(url, 'POST', '/chat', {
      body: { user_id: 'bob', message: 'show my open tickets' },
    });
    expect(chat.status).toBe(200);
    expect(chat.body.agents).toEqual(['tickets_agent']);
    const weather = await call(url, 'POST', '/chat', {
      body: { user_id: 'bob', message: 'will it rain tomorrow in London' },
    });
    expect(weather.body.agents).not.toContain('weather');
  });

  it('refreshes a changed card on demand and on the schedule, and becomes available again', async () => {
    const remote = await a2aServer();
    let tick: (() => void) | undefined;
    const every: Every = (_ms, task) => {
      tick = task;
      return () => {
        tick = undefined;
      };
    };
    const service = await startService({ ...ALLOW, A2A_CARD_REFRESH_SECONDS: '60' }, undefined, {
      a2aRefreshTimer: every,
    });
    await service.call('POST', '/registry/agents', {
      body: {
        agent_type: 'a2a',
        card_url: remote.cardUrl,
        name: 'weather',
        capabilities: { examples: ['is it sunny'] },
      },
    });
    const before = await service.call('GET', '/registry/agents/weather/card');
    expect((await service.call('POST', '/registry/agents/weather/refresh')).body.status).toBe('unchanged');

    remote.card = {
      ...remote.card,
      description: 'Weather and air quality',
      version: '2.0.0',
      skills: [
        ...remote.card.skills,
        {
          id: 'air',
          name: 'Air quality',
          description: 'Air quality',
          tags: ['air'],
          examples: ['how is the air quality in Delhi'],
        },
      ],
    };
    expect((await service.call('POST', '/registry/agents/weather/refresh')).body.status).toBe('refreshed');
    const agent = (await service.call('GET', '/registry/agents/weather')).body;
    expect(agent.description).toBe('Weather and air quality');
    expect(agent.capabilities.examples).toEqual(
      expect.arrayContaining(['is it sunny', 'how is the air quality in Delhi']),
    );
    const after = await service.call('GET', '/registry/agents/weather/card');
    expect(after.body.version).toBe('2.0.0');
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));

    // The schedule: one tick re-fetches; the change is seen through the registry's change event.
    remote.card = { ...remote.card, description: 'Weather, air quality and pollen' };
    expect(tick).toBeDefined();
    const changed = new Promise<void>((resolve) => {
      const stop = service.service.registry.onChange((event) => {
        if (event.name === 'weather') {
          stop();
          resolve();
        }
      });
    });
    tick!();
    await changed;
    expect((await service.call('GET', '/registry/agents/weather')).body.description).toBe(
      'Weather, air quality and pollen',
    );
  });

  it('refuses disallowed hosts, oversized, invalid and unreachable cards, and stores nothing', async () => {
    const remote = await a2aServer();
    remote.route('/big.json', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      // No Content-Length: the limit is enforced while streaming.
      response.write('{"pad": "');
      response.write('x'.repeat(300 * 1024));
      response.end('"}');
    });
    remote.route('/invalid.json', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ name: 'no skills', url: 'http://127.0.0.1/' }));
    });
    remote.route('/not-json', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>');
    });
    remote.route('/elsewhere', (_request, response) => {
      response.writeHead(302, { location: 'http://localhost:1/.well-known/agent-card.json' });
      response.end();
    });
    remote.route('/moved', (_request, response) => {
      response.writeHead(301, { location: '/.well-known/agent-card.json' });
      response.end();
    });
    remote.route('/foreign-url.json', (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ...remote.card, url: 'http://10.1.2.3/jsonrpc' }));
    });
    const service = await startService(ALLOW, undefined, {
      a2aResolveHost: async (host) =>
        host === 'metadata.test'
          ? [{ address: '169.254.169.254', family: 4 }]
          : [{ address: '127.0.0.1', family: 4 }],
    });
    const register = (card_url: string, extra: Record<string, unknown> = {}) =>
      service.call('POST', '/registry/agents', { body: { agent_type: 'a2a', card_url, ...extra } });
    const refusals: [string, number, string][] = [
      [`http://localhost:${new URL(remote.url).port}/.well-known/agent-card.json`, 400, 'host_not_allowed'],
      ['http://metadata.test/latest/meta-data', 400, 'host_not_allowed'],
      ['http://[fe80::1]/card', 400, 'host_not_allowed'],
      ['ftp://127.0.0.1/card', 400, 'validation_error'],
      [`${remote.url}/big.json`, 400, 'invalid_agent_card'],
      [`${remote.url}/invalid.json`, 400, 'invalid_agent_card'],
      [`${remote.url}/not-json`, 400, 'invalid_agent_card'],
      [`${remote.url}/elsewhere`, 400, 'host_not_allowed'],
      [`${remote.url}/foreign-url.json`, 400, 'host_not_allowed'],
      [`${remote.url}/missing.json`, 502, 'card_fetch_failed'],
    ];
    const before = (await service.call('GET', '/registry/agents')).body.total;
    for (const [url, status, code] of refusals) {
      const answer = await register(url);
      expect({ url, status: answer.status, code: answer.body.error?.code }).toEqual({ url, status, code });
    }
    expect((await service.call('GET', '/registry/agents')).body.total).toBe(before);
    const bigMessage = (await register(`${remote.url}/big.json`)).body.error.message;
    expect(bigMessage).toContain('262144 bytes');

    // A factory registration may not claim the a2a type; a card name taken is a 409; a redirect on the
    // allowed host is followed.
    const claimed = await service.call('POST', '/registry/agents', {
      body: { agent_type: 'a2a', factory_module: 'x', factory_function: 'y' },
    });
    expect(claimed.status).toBe(400);
    expect((await register(`${remote.url}/moved`)).status).toBe(201);
    expect((await register(remote.cardUrl)).status).toBe(409);
    expect((await service.call('POST', '/registry/agents/tickets_agent/refresh')).status).toBe(400);
  });
});

describe('agent cards and Jarvis as an A2A agent', () => {
  it('serves our agents as A2A 0.3.0 cards with an ETag whose version changes with every update', async () => {
    const service = await startService();
    const first = await service.call('GET', '/registry/agents/tickets_agent/card');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      protocolVersion: '0.3.0',
      name: 'tickets_agent',
      preferredTransport: 'JSONRPC',
      url: expect.stringContaining('/a2a/jsonrpc'),
    });
    expect(first.body.skills[0]).toMatchObject({ id: 'tickets_agent', tags: expect.any(Array) });
    expect(first.body.skills[0].examples.length).toBeGreaterThan(0);
    const etag = first.headers.get('etag')!;
    const same = await service.call('GET', '/registry/agents/tickets_agent/card', {
      headers: { 'if-none-match': etag },
    });
    expect(same.status).toBe(304);
    await service.call('PUT', '/registry/agents/tickets_agent/capabilities', {
      body: { capabilities: { examples: ['list my tickets'], operations: ['list_tickets'] } },
    });
    const next = await service.call('GET', '/registry/agents/tickets_agent/card', {
      headers: { 'if-none-match': etag },
    });
    expect(next.status).toBe(200);
    expect(next.body.version).not.toBe(first.body.version);
    expect(next.body.skills.map((skill: { id: string }) => skill.id)).toEqual([
      'tickets_agent',
      'tickets_agent.list_tickets',
    ]);
    expect((await service.call('GET', '/registry/agents/nobody/card')).status).toBe(404);
  });

  it('Jarvis serves its card and answers message/send, recording the conversation as a session', async () => {
    const service = await startService();
    const { url } = await startJarvis(service.url);
    const card = await call(url, 'GET', '/.well-known/agent-card.json');
    expect(card.body).toMatchObject({ protocolVersion: '0.3.0', name: 'jarvis', url: `${url}/a2a/jsonrpc` });
    expect(card.body.skills.map((skill: { id: string }) => skill.id)).toContain('tickets_agent');

    const client = await new ClientFactory().createFromUrl(url);
    const message = (text: string, contextId?: string) => ({
      message: {
        kind: 'message' as const,
        messageId: crypto.randomUUID(),
        role: 'user' as const,
        parts: [{ kind: 'text' as const, text }],
        metadata: { user_id: 'carol' },
        ...(contextId !== undefined && { contextId }),
      },
    });
    const first = await client.sendMessage(message('show my open tickets'));
    expect(first.kind).toBe('message');
    const reply = first as unknown as {
      contextId: string;
      parts: { text: string }[];
      metadata: { session_id: string };
    };
    expect(reply.parts[0]!.text).toContain('INC-1001');
    const second = (await client.sendMessage(
      message('show details of the second one', reply.contextId),
    )) as unknown as typeof reply;
    expect(second.metadata.session_id).toBe(reply.metadata.session_id);

    const session = (await service.call('GET', `/sessions/${reply.metadata.session_id}`)).body;
    expect(session.user_id).toBe('carol');
    expect(session.conversation_history.map((entry: { role: string }) => entry.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(session.agents_invoked[0].agent_name).toBe('tickets_agent');

    const stream = await call(url, 'POST', '/a2a/jsonrpc', {
      body: { jsonrpc: '2.0', id: 1, method: 'message/stream', params: message('hi') },
    });
    expect(stream.body.error.code).toBe(-32004);
  });
});
