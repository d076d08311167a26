/**
 * The orchestrator's HTTP clients: retries, timeouts and errors against a small real HTTP server that fails
 * on purpose, and every typed call against the real service.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/client/registry-client.js';
import {
  isServiceCallError,
  type ServiceCallError,
  ServiceHttpClient,
  type ServiceHttpClientOptions,
} from '../../src/client/service-http-client.js';
import { SessionClient } from '../../src/client/session-client.js';
import { startService } from '../support/service.js';

interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What the test server does with the n-th request (1-based). */
type Behaviour = (hit: number, request: IncomingMessage, response: ServerResponse) => void;

interface TestServer {
  url: string;
  hits: Hit[];
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function testServer(behaviour: Behaviour): Promise<TestServer> {
  const hits: Hit[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += String(chunk);
    });
    request.on('end', () => {
      hits.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      behaviour(hits.length, request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** A URL where nothing listens: a port that was just free. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const serviceError = (code: string, message: string) => ({ error: { code, message } });

const AGENT = {
  name: 'tickets_agent',
  description: 'IT tickets',
  agent_type: 'tickets',
  factory_module: 'jarvis_agent.mcp_agents.agent_factory',
  factory_function: 'create_tickets_agent',
  factory_params: {},
  capabilities: {},
  tags: [],
  enabled: true,
  registered_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  status: 'available',
};

function client(url: string, options: Partial<ServiceHttpClientOptions> = {}): ServiceHttpClient {
  return new ServiceHttpClient({
    baseUrl: url,
    timeoutMs: 500,
    maxAttempts: 3,
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<ServiceCallError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isServiceCallError(error)).toBe(true);
  return error as ServiceCallError;
}

describe('ServiceHttpClient retries', () => {
  it('retries an idempotent GET on 5xx and succeeds, counting the attempts', async () => {
    const server = await testServer((hit, _request, response) => {
      if (hit < 3) json(response, 503, serviceError('storage_error', 'disk busy'));
      else json(response, 200, AGENT);
    });
    const http = client(server.url);
    const response = await http.request<typeof AGENT>({
      call: 'registry.get("tickets_agent")',
      method: 'GET',
      path: '/registry/agents/tickets_agent',
    });
    expect(response).toMatchObject({ status: 200, attempts: 3, body: { name: 'tickets_agent' } });
    expect(server.hits.map((hit) => hit.url)).toEqual(Array(3).fill('/registry/agents/tickets_agent'));

    // The typed client goes through the same path.
    const agent = await new RegistryClient(http).getAgent('tickets_agent');
    expect(agent.status).toBe('available');
    expect(server.hits).toHaveLength(4);
  });

  it('gives up after the configured attempts with the last status and code in the error', async () => {
    const server = await testServer((_hit, _request, response) =>
      json(response, 503, serviceError('database_unavailable', 'The session database is closed')),
    );
    const error = await failure(new SessionClient(client(server.url)).getSession('s-1'));
    expect(error).toMatchObject({
      call: 'sessions.get("s-1")',
      status: 503,
      code: 'database_unavailable',
      attempts: 3,
      failure: 'http',
      method: 'GET',
      url: `${server.url}/sessions/s-1`,
    });
    expect(error.message).toBe(
      'sessions.get("s-1") failed after 3 attempts: 503 database_unavailable: The session database is closed',
    );
    expect(server.hits).toHaveLength(3);
  });

  it('never retries a non-idempotent POST on 5xx, and says why', async () => {
    const server = await testServer((_hit, _request, response) =>
      json(response, 503, serviceError('storage_error', 'Could not save')),
    );
    const error = await failure(new SessionClient(client(server.url)).createSession('alice'));
    expect(error).toMatchObject({ status: 503, code: 'storage_error', attempts: 1 });
    expect(error.message).toBe(
      'sessions.create("alice") failed: 503 storage_error: Could not save ' +
        '(not retried: the call is not idempotent and may have reached the service)',
    );
    expect(server.hits).toHaveLength(1);
    expect(JSON.parse(server.hits[0]!.body)).toEqual({ user_id: 'alice' });
  });

  it('retries POST /registry/route, which only reads', async () => {
    const server = await testServer((hit, _request, response) => {
      if (hit === 1) json(response, 500, serviceError('internal_error', 'boom'));
      else json(response, 200, { selected: ['tickets_agent'], candidates: [], follow_up: false });
    });
    const routed = await new RegistryClient(client(server.url)).route({ query: 'show my tickets' });
    expect(routed.selected).toEqual(['tickets_agent']);
    expect(server.hits).toHaveLength(2);
  });

  it('never retries a 4xx, and reports the service error code and message', async () => {
    const server = await testServer((_hit, _request, response) =>
      json(response, 404, serviceError('agent_not_found', 'No agent named "tickets_agent" is registered')),
    );
    const error = await failure(new RegistryClient(client(server.url)).getAgent('tickets_agent'));
    expect(error.message).toBe(
      'registry.get("tickets_agent") failed: 404 agent_not_found: No agent named "tickets_agent" is registered',
    );
    expect(error).toMatchObject({ status: 404, code: 'agent_not_found', attempts: 1 });
    expect(server.hits).toHaveLength(1);
  });

  it('aborts an attempt that takes too long and retries an idempotent call', async () => {
    const server = await testServer((hit, _request, response) => {
      if (hit === 1) return; // never answers
      json(response, 200, { agents: [], total: 0 });
    });
    const listing = await new RegistryClient(client(server.url, { timeoutMs: 150 })).listAgents();
    expect(listing).toMatchObject({ notModified: false, agents: [], total: 0 });
    expect(server.hits).toHaveLength(2);
  });

  it('does not resend a timed-out POST, and says it timed out', async () => {
    const server = await testServer(() => {});
    const error = await failure(
      new SessionClient(client(server.url, { timeoutMs: 150 })).addHistory('s-1', {
        role: 'user',
        content: 'hello',
      }),
    );
    expect(error).toMatchObject({ failure: 'timeout', attempts: 1, status: undefined, code: undefined });
    expect(error.message).toBe(
      `sessions.addHistory("s-1", "user") failed: no answer from POST ${server.url}/sessions/s-1/history ` +
        'within 150 ms (not retried: the call is not idempotent and may have reached the service)',
    );
    expect(server.hits).toHaveLength(1);
  });

  it('retries a GET whose connection is reset, but not a POST', async () => {
    const server = await testServer((hit, request, response) => {
      if (hit === 1 || request.method === 'POST') request.socket.destroy();
      else json(response, 200, { version: '1.0.0', last_updated: AGENT.updated_at, agents: {} });
    });
    const registry = new RegistryClient(client(server.url));
    expect((await registry.exportRegistry()).version).toBe('1.0.0');
    expect(server.hits).toHaveLength(2);

    const error = await failure(
      new SessionClient(client(server.url)).trackInvocation('s-1', {
        agent_name: 'tickets_agent',
        query: 'q',
        success: true,
        duration_ms: 1,
      }),
    );
    expect(error.failure).toBe('connection');
    expect(error.attempts).toBe(1);
    expect(error.message).toMatch(
      /^sessions\.trackInvocation\("s-1", "tickets_agent"\) failed: the connection to POST http:\/\/127\.0\.0\.1:\d+\/sessions\/s-1\/invocations failed before an answer \(.+\) \(not retried/,
    );
    expect(server.hits).toHaveLength(3);
  });

  it('retries even a POST when the connection is refused, then names the call and the URL', async () => {
    const url = await closedPortUrl();
    const error = await failure(
      new RegistryClient(client(url, { maxAttempts: 4 })).registerAgent({
        agent_type: 'tickets',
        factory_module: 'jarvis_agent.mcp_agents.agent_factory',
        factory_function: 'create_tickets_agent',
      }),
    );
    expect(error).toMatchObject({ failure: 'connection', attempts: 4, url: `${url}/registry/agents` });
    expect(error.message).toBe(
      `registry.register("create_tickets_agent") failed after 4 attempts: cannot connect to POST ${url}/registry/agents ` +
        `(ECONNREFUSED): is the service running at ${url}?`,
    );
  });

  it('treats a 404 on a retried DELETE as done: the lost attempt deleted it', async () => {
    const server = await testServer((hit, _request, response) => {
      if (hit % 2 === 1) json(response, 502, serviceError('upstream_error', 'proxy lost the answer'));
      else json(response, 404, serviceError('agent_not_found', 'No agent named "x" is registered'));
    });
    expect(await new RegistryClient(client(server.url)).deleteAgent('x')).toEqual({ status: 'deleted' });
    expect(server.hits.map((hit) => hit.method)).toEqual(['DELETE', 'DELETE']);
    expect(await new SessionClient(client(server.url)).deleteSession('s-1')).toEqual({ status: 'deleted' });
    expect(server.hits.map((hit) => hit.url).slice(2)).toEqual(['/sessions/s-1', '/sessions/s-1']);

    // A 404 on the first attempt is an answer: there was nothing to delete.
    const direct = await testServer((_hit, _request, response) =>
      json(response, 404, serviceError('session_not_found', 'No session "s"')),
    );
    const error = await failure(new SessionClient(client(direct.url)).deleteSession('s'));
    expect(error).toMatchObject({ status: 404, code: 'session_not_found', attempts: 1 });
  });

  it('reports answers that are not the service JSON readably', async () => {
    const server = await testServer((hit, _request, response) => {
      if (hit === 1) response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad   gateway</h1>');
      else if (hit === 2) response.writeHead(400).end();
      else if (hit === 3) response.writeHead(200, { 'content-type': 'application/json' }).end('{not json');
      else if (hit === 4) json(response, 500, { error: 'boom' });
      else if (hit === 5) json(response, 500, { error: { code: 5 } });
      else json(response, 500, { error: { code: 'internal_error' } });
    });
    const http = client(server.url, { maxAttempts: 1 });
    const registry = new RegistryClient(http);
    expect((await failure(registry.exportRegistry())).message).toBe(
      'registry.export() failed: 502: <h1>Bad gateway</h1>',
    );
    expect((await failure(registry.exportRegistry())).message).toBe('registry.export() failed: 400');
    const invalid = await failure(registry.exportRegistry());
    expect(invalid).toMatchObject({ failure: 'invalid_response', status: 200 });
    expect(invalid.message).toBe('registry.export() failed: 200 answer is not JSON: {not json');
    expect(invalid.cause).toBeInstanceOf(SyntaxError);
    // Error bodies that are not quite the service's shape are quoted instead of half-read.
    expect((await failure(registry.exportRegistry())).message).toBe(
      'registry.export() failed: 500: {"error":"boom"}',
    );
    expect((await failure(registry.exportRegistry())).message).toBe(
      'registry.export() failed: 500: {"error":{"code":5}}',
    );
    const bare = await failure(registry.exportRegistry());
    expect(bare).toMatchObject({
      code: 'internal_error',
      message: 'registry.export() failed: 500 internal_error: ',
    });
  });

  it('sends the admin token only on admin calls', async () => {
    const server = await testServer((_hit, request, response) => {
      if (request.method === 'GET') json(response, 200, { agents: [], total: 0 });
      else json(response, 200, { status: 'enabled' });
    });
    const registry = new RegistryClient(client(server.url, { adminToken: 'secret-token-0123456789' }));
    await registry.listAgents({ enabledOnly: true, tags: ['demo', 'it'] });
    await registry.setEnabled('tickets_agent', true);
    expect(server.hits[0]!.headers.authorization).toBeUndefined();
    expect(server.hits[0]!.url).toBe('/registry/agents?enabled_only=true&tags=demo%2Cit');
    expect(server.hits[1]!.headers.authorization).toBe('Bearer secret-token-0123456789');
    expect(JSON.parse(server.hits[1]!.body)).toEqual({ enabled: true });
  });

  it('backs off with full jitter under an exponential cap', () => {
    const high = new ServiceHttpClient({
      baseUrl: 'http://x/',
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      random: () => 0.999,
    });
    expect([1, 2, 3, 4, 5, 6].map((attempt) => high.backoff(attempt))).toEqual([99, 199, 399, 799, 999, 999]);
    const low = new ServiceHttpClient({ baseUrl: 'http://x', random: () => 0 });
    expect(low.backoff(3)).toBe(0);
    expect(low.baseUrl).toBe('http://x');
    expect(high.baseUrl).toBe('http://x');
  });
});

describe('RegistryClient and SessionClient against the real service', () => {
  it('lists with an ETag and a 304, gets, registers, updates, enables, routes, exports and deletes', async () => {
    const service = await startService();
    const registry = new RegistryClient(client(service.url));
    expect(registry.baseUrl).toBe(service.url);

    const first = await registry.listAgents();
    if (first.notModified) throw new Error('the first listing cannot be "not modified"');
    expect(first.agents.map((agent) => agent.name)).toEqual([
      'finops_agent',
      'oxygen_agent',
      'tickets_agent',
    ]);
    expect(first.total).toBe(3);
    expect(first.etag).toMatch(/^W\/".+"$/);
    expect(await registry.listAgents({ ifNoneMatch: first.etag! })).toEqual({
      notModified: true,
      etag: first.etag,
    });

    const tickets = await registry.getAgent('tickets_agent');
    expect(tickets).toMatchObject({ name: 'tickets_agent', status: 'available', enabled: true });

    const registered = await registry.registerAgent({
      agent_type: 'generic',
      factory_module: 'jarvis_agent.mcp_agents.agent_factory',
      factory_function: 'create_generic_agent',
      factory_params: { name: 'hr_agent', description: 'Answers HR policy questions' },
      capabilities: { examples: ['how many vacation days do I have left'] },
      tags: ['hr'],
    });
    expect(registered).toEqual({ status: 'registered', agent_name: 'hr_agent', overlaps: expect.any(Array) });
    const changed = await registry.listAgents({ ifNoneMatch: first.etag! });
    expect(changed.notModified).toBe(false);
    expect(changed.etag).not.toBe(first.etag);

    const conflict = await failure(
      registry.registerAgent({
        agent_type: 'generic',
        factory_module: 'jarvis_agent.mcp_agents.agent_factory',
        factory_function: 'create_generic_agent',
        factory_params: { name: 'hr_agent', description: 'Again' },
      }),
    );
    expect(conflict).toMatchObject({ status: 409, code: 'agent_exists', attempts: 1 });

    expect(
      await registry.updateCapabilities('hr_agent', { examples: ['what is the parental leave policy'] }),
    ).toEqual({ status: 'updated' });
    expect((await registry.getAgent('hr_agent')).capabilities).toEqual({
      examples: ['what is the parental leave policy'],
    });
    expect(await registry.setEnabled('hr_agent', false)).toEqual({ status: 'disabled' });
    const enabledOnly = await registry.listAgents({ enabledOnly: true });
    expect(enabledOnly.notModified ? [] : enabledOnly.agents.map((agent) => agent.name)).not.toContain(
      'hr_agent',
    );
    const tagged = await registry.listAgents({ tags: ['hr'] });
    expect(tagged.notModified ? [] : tagged.agents.map((agent) => agent.name)).toEqual(['hr_agent']);
    expect(await registry.setEnabled('hr_agent', true)).toEqual({ status: 'enabled' });

    const routed = await registry.route({ query: 'what is the parental leave policy', top_k: 2 });
    expect(routed.selected).toEqual(['hr_agent']);
    expect(routed.candidates.length).toBeLessThanOrEqual(2);

    const exported = await registry.exportRegistry();
    expect(Object.keys(exported.agents)).toEqual([
      'finops_agent',
      'hr_agent',
      'oxygen_agent',
      'tickets_agent',
    ]);
    expect(exported.version).toBe('1.0.0');

    expect(await registry.deleteAgent('hr_agent')).toEqual({ status: 'deleted' });
    const missing = await failure(registry.getAgent('hr_agent'));
    expect(missing.message).toBe(
      'registry.get("hr_agent") failed: 404 agent_not_found: No agent named "hr_agent" is registered',
    );
    const invalid = await failure(registry.route({ query: '' }));
    expect(invalid).toMatchObject({ status: 400, code: 'validation_error' });
  });

  it('needs the admin token for changes when the service requires one', async () => {
    const token = 'admin-token-for-tests-0123';
    const service = await startService({ REGISTRY_ADMIN_TOKEN: token });
    const anonymous = await failure(
      new RegistryClient(client(service.url)).setEnabled('tickets_agent', false),
    );
    expect(anonymous).toMatchObject({ status: 401, code: 'unauthorized', attempts: 1 });
    const admin = new RegistryClient(client(service.url, { adminToken: token }));
    expect(await admin.setEnabled('tickets_agent', false)).toEqual({ status: 'disabled' });
  });

  it('creates, reads, pages, lists, records, changes and deletes sessions', async () => {
    const service = await startService();
    const sessions = new SessionClient(client(service.url));
    expect(sessions.baseUrl).toBe(service.url);

    const id = await sessions.createSession('alice', { channel: 'test' });
    const other = await sessions.createSession('bob');
    expect(await sessions.addHistory(id, { role: 'user', content: 'show my tickets' })).toEqual({
      status: 'added',
    });
    await sessions.addHistory(id, { role: 'assistant', content: 'INC-1001' });
    expect(
      await sessions.trackInvocation(id, {
        agent_name: 'tickets_agent',
        query: 'show my tickets',
        response: 'INC-1001',
        success: true,
        duration_ms: 12,
      }),
    ).toEqual({ status: 'tracked' });

    const session = await sessions.getSession(id);
    expect(session).toMatchObject({
      session_id: id,
      user_id: 'alice',
      status: 'active',
      metadata: { channel: 'test' },
      last_agent_called: 'tickets_agent',
      context: {
        last_agent_called: 'tickets_agent',
        last_query: 'show my tickets',
        last_response: 'INC-1001',
      },
    });
    expect(session.conversation_history.map((entry) => entry.role)).toEqual(['user', 'assistant']);
    expect(session.agents_invoked[0]).toMatchObject({ success: true, duration_ms: 12, error_message: null });

    const page = await sessions.getSession(id, { historyOffset: 1, historyLimit: 1, invocationsLimit: 1 });
    expect(page.conversation_history.map((entry) => entry.content)).toEqual(['INC-1001']);

    expect(await sessions.setStatus(id, 'completed')).toEqual({ status: 'updated' });
    const completed = await sessions.listSessions({ status: 'completed' });
    expect(completed.sessions.map((summary) => summary.session_id)).toEqual([id]);
    const bobs = await sessions.listSessions({ user_id: 'bob', limit: 5 });
    expect(bobs).toMatchObject({ total: 1, sessions: [{ session_id: other }] });

    expect(await sessions.deleteSession(id)).toEqual({ status: 'deleted' });
    const gone = await failure(sessions.getSession(id));
    expect(gone).toMatchObject({ status: 404, code: 'session_not_found', call: `sessions.get("${id}")` });
    const invalid = await failure(sessions.setStatus(other, 'paused' as never));
    expect(invalid).toMatchObject({ status: 400, code: 'validation_error', attempts: 1 });
  });
});
