import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/logger.js';
import { call, startService } from '../support/service.js';

const TOKEN = 'test-admin-token-0123456789';

describe('admin token', () => {
  it('guards every mutating registry call, leaves reads and routing open, and compares the token exactly', async () => {
    const { call: send } = await startService({ REGISTRY_ADMIN_TOKEN: TOKEN });
    const mutations: [string, string, unknown][] = [
      [
        'POST',
        '/registry/agents',
        { agent_type: 'x', factory_module: 'test_factories', factory_function: 'create_echo_agent' },
      ],
      ['PUT', '/registry/agents/tickets_agent/capabilities', { capabilities: {} }],
      ['PATCH', '/registry/agents/tickets_agent/status', { enabled: false }],
      ['DELETE', '/registry/agents/tickets_agent', undefined],
    ];
    for (const [method, route, body] of mutations) {
      const missing = await send(method, route, { body });
      expect(missing.status).toBe(401);
      expect(missing.body.error).toEqual({
        code: 'unauthorized',
        message: 'This call changes the registry: send Authorization: Bearer <REGISTRY_ADMIN_TOKEN>',
      });
      expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="agent-registry"');
      for (const wrong of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(1)}`,
        'Bearer ',
        `Basic ${TOKEN}`,
        TOKEN,
      ]) {
        expect((await send(method, route, { body, headers: { authorization: wrong } })).status).toBe(401);
      }
    }
    // Nothing changed while refused.
    expect((await send('GET', '/registry/agents')).body.total).toBe(3);
    expect((await send('GET', '/registry/agents/tickets_agent')).body.enabled).toBe(true);
    expect((await send('POST', '/registry/route', { body: { query: 'show my tickets' } })).status).toBe(200);

    const authorized = { authorization: `Bearer ${TOKEN}` };
    expect(
      (
        await send('PATCH', '/registry/agents/tickets_agent/status', {
          body: { enabled: false },
          headers: authorized,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await send('DELETE', '/registry/agents/tickets_agent', {
          headers: { authorization: `bearer   ${TOKEN}` },
        })
      ).status,
    ).toBe(200);
  });

  it('is not required when no token is configured (loopback only)', async () => {
    const { call: send } = await startService();
    expect(
      (await send('PATCH', '/registry/agents/tickets_agent/status', { body: { enabled: false } })).status,
    ).toBe(200);
  });
});

describe('CORS', () => {
  it('answers only the configured origins', async () => {
    const { call: send } = await startService({ CORS_ORIGINS: 'https://admin.example.com' });
    const allowed = await send('GET', '/registry/agents', {
      headers: { origin: 'https://admin.example.com' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/ETag/);
    const other = await send('GET', '/registry/agents', { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await send('OPTIONS', '/registry/agents', {
      headers: {
        origin: 'https://admin.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });

  it('allows no cross-origin access by default', async () => {
    const { call: send } = await startService();
    const response = await send('GET', '/registry/agents', {
      headers: { origin: 'https://admin.example.com' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request bodies', () => {
  it('refuses a body over 1 MiB with 413 and stores nothing', async () => {
    const { call: send } = await startService();
    const { body } = await send('POST', '/sessions', { body: { user_id: 'alice' } });
    const sessionId = body.session_id;
    const big = { role: 'user', content: 'x'.repeat(1024 * 1024) };
    const refused = await send('POST', `/sessions/${sessionId}/history`, { body: big });
    expect(refused.status).toBe(413);
    expect(refused.body.error).toEqual({
      code: 'payload_too_large',
      message: 'Request body is larger than the 1 MiB limit',
    });
    expect((await send('GET', `/sessions/${sessionId}`)).body.conversation_history).toEqual([]);
    const justUnder = { role: 'user', content: 'x'.repeat(1024 * 1024 - 100) };
    expect((await send('POST', `/sessions/${sessionId}/history`, { body: justUnder })).status).toBe(201);
  });

  it('accepts only JSON (415 otherwise)', async () => {
    const { call: send } = await startService();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await send('POST', '/sessions', {
        raw: 'user_id=alice',
        headers: { 'content-type': type },
      });
      expect(response.status).toBe(415);
      expect(response.body.error.code).toBe('unsupported_media_type');
      expect(response.body.error.message).toContain('application/json');
    }
    const json = await send('POST', '/sessions', {
      raw: '{"user_id":"alice"}',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(json.status).toBe(201);
  });

  it('refuses malformed JSON, an empty body and unknown fields with 400', async () => {
    const { call: send } = await startService();
    const malformed = await send('POST', '/sessions', {
      raw: '{"user_id": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/not valid JSON/);
    const empty = await send('POST', '/sessions', {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.status).toBe(400);
    const missingBody = await send('POST', '/sessions');
    expect(missingBody.status).toBe(400);
    const unknown = await send('POST', '/sessions', { body: { user_id: 'alice', admin: true } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('Invalid body: (root) has unknown field(s) "admin"');
  });

  it('refuses prototype-pollution keys with 400, changes nothing and pollutes nothing', async () => {
    const { call: send, dataDir } = await startService();
    const file = path.join(dataDir, 'registry_config.json');
    const before = readFileSync(file);
    const bodies = [
      '{"capabilities": {"__proto__": {"isAdmin": true}}}',
      '{"capabilities": {"constructor": {"prototype": {"isAdmin": true}}}}',
      '{"capabilities": {"examples": [], "nested": [{"__proto__": {}}]}}',
    ];
    for (const raw of bodies) {
      const response = await send('PUT', '/registry/agents/tickets_agent/capabilities', {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_error');
      expect(response.body.error.message).toMatch(/forbidden key/);
    }
    expect(readFileSync(file)).toEqual(before);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe('errors and headers', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const { call: send } = await startService();
    const response = await send('GET', '/nowhere?x=1');
    expect(response).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', message: 'No route GET /nowhere; see /docs for the API' } },
    });
  });

  it('echoes a caller’s request id, makes one otherwise, and sets security headers', async () => {
    const { call: send } = await startService();
    const given = await send('GET', '/health', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const made = await send('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.headers.get('x-content-type-options')).toBe('nosniff');
    expect(made.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers an unexpected failure with a bare 500: no message, no stack', async () => {
    const { service } = await startService();
    const app = await createApp({
      registry: service.registry,
      sessions: service.sessions,
      logger: silentLogger(),
      router: {
        stats: () => service.router.stats(),
        route: async () => {
          throw new TypeError(
            "Cannot read properties of undefined (reading 'secret') at /srv/app/src/routing/x.ts:12",
          );
        },
      },
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await call(url, 'POST', '/registry/route', {
        body: { query: 'anything' },
        headers: { 'x-request-id': 'req-500' },
      });
      expect(response.status).toBe(500);
      expect(response.body).toEqual({
        error: { code: 'internal_error', message: 'Internal server error (request id req-500)' },
      });
    } finally {
      await app.close();
    }
  });
});

describe('GET / and /health', () => {
  it('describes the service and links its docs', async () => {
    const { call: send } = await startService();
    expect((await send('GET', '/')).body).toEqual({
      service: 'Agent Registry Service',
      version: '1.0.0',
      docs: '/docs',
      openapi: '/openapi.json',
      health: '/health',
      ui: '/ui',
    });
  });

  it('reports the registry, the router and the database, and 503 once the database is unusable', async () => {
    const { call: send, service } = await startService();
    await service.router.whenTrained();
    expect((await send('GET', '/health')).body.router).toMatchObject({ trained: true, pending_agents: 0 });
    const healthy = await send('GET', '/health');
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({
      status: 'ok',
      version: '1.0.0',
      registry: {
        agents: 3,
        available: 3,
        unavailable: [],
        loaded_from: 'empty',
        revision: service.registry.revision,
      },
      router: { agents: 3, trained: expect.any(Boolean), pending_agents: expect.any(Number) },
      stores: {
        registry: { status: 'ok', backend: 'file', recovery: [], loaded_from: 'empty' },
        sessions: { status: 'ok', backend: 'sqlite' },
      },
    });
    // Backend details live under their store; nothing file-specific at the top of `registry`.
    expect(Object.keys(healthy.body.registry).sort()).toEqual([
      'agents',
      'available',
      'loaded_from',
      'revision',
      'unavailable',
    ]);
    await service.sessions.close();
    const down = await send('GET', '/health');
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.stores.sessions.status).toBe('unavailable');
  });
});
