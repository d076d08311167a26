/**
 * Access control through the real service: which token each part of the API takes, what a refused caller
 * is told, and that no token ever reaches a log line.
 */
import { describe, expect, it } from 'vitest';
import { createJarvis } from '../../jarvis_agent/main-with-registry.js';
import { DEFAULT_AGENT_FACTORY_ROOT, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { call, startService } from '../support/service.js';

const ADMIN = 'admin-token-for-access-tests';
const API = 'api-token-for-access-tests-';
const READ = 'read-token-for-access-tests';
const TOKENS = { REGISTRY_ADMIN_TOKEN: ADMIN, REGISTRY_API_TOKEN: API, REGISTRY_READ_TOKEN: READ };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const ECHO = {
  agent_type: 'echo',
  factory_module: 'test_factories',
  factory_function: 'create_echo_agent',
  factory_params: { name: 'guarded' },
};

describe('access control', () => {
  it('sessions take only the API token; reads the read or the admin token; changes only the admin token', async () => {
    const { call } = await startService(TOKENS);

    const anonymous = await call('POST', '/sessions', { body: { user_id: 'alice' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toEqual({
      code: 'unauthorized',
      message: 'Sessions and chats need Authorization: Bearer <REGISTRY_API_TOKEN>',
    });
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="agent-registry"');
    for (const token of [ADMIN, READ, 'not-the-api-token-at-all']) {
      const refused = await call('POST', '/sessions', { body: { user_id: 'alice' }, headers: bearer(token) });
      expect(refused.body.error).toEqual({ code: 'unauthorized', message: 'The bearer token is not valid' });
    }
    const created = await call('POST', '/sessions', { body: { user_id: 'alice' }, headers: bearer(API) });
    expect(created.status).toBe(201);
    const sessionId = created.body.session_id as string;
    expect((await call('GET', `/sessions/${sessionId}`)).status).toBe(401);
    expect((await call('GET', `/sessions/${sessionId}`, { headers: bearer(API) })).status).toBe(200);
    expect((await call('GET', '/sessions', { headers: bearer(API) })).body.total).toBe(1);

    // Reads and routing: the read token or the admin token, nothing else.
    const read = await call('GET', '/registry/agents');
    expect(read.status).toBe(401);
    expect(read.body.error.message).toBe(
      'Registry reads need Authorization: Bearer <REGISTRY_READ_TOKEN> (or the admin token)',
    );
    expect((await call('GET', '/registry/agents', { headers: bearer(API) })).status).toBe(401);
    expect((await call('GET', '/registry/agents', { headers: bearer(READ) })).body.total).toBe(3);
    expect((await call('GET', '/registry/agents', { headers: bearer(ADMIN) })).body.total).toBe(3);
    expect((await call('GET', '/registry/agents/tickets_agent', { headers: bearer(READ) })).status).toBe(200);
    expect((await call('GET', '/registry/export', {})).status).toBe(401);
    const route = { query: 'show my open tickets', session_id: sessionId };
    expect((await call('POST', '/registry/route', { body: route })).status).toBe(401);
    expect(
      (await call('POST', '/registry/route', { body: route, headers: bearer(READ) })).body.selected,
    ).toEqual(['tickets_agent']);

    // Changes: the admin token only; the read token does not grant them.
    const asReader = await call('POST', '/registry/agents', { body: ECHO, headers: bearer(READ) });
    expect(asReader.status).toBe(401);
    expect(asReader.body.error.message).toBe('The bearer token is not valid');
    expect((await call('POST', '/registry/agents', { body: ECHO, headers: bearer(ADMIN) })).status).toBe(201);
    expect((await call('GET', '/registry/agents', { headers: bearer(ADMIN) })).body.total).toBe(4);

    // Metrics take the read token; liveness, readiness and the service description stay open.
    expect((await call('GET', '/metrics')).status).toBe(401);
    expect((await call('GET', '/metrics', { headers: bearer(READ) })).status).toBe(200);
    for (const open of ['/', '/health', '/health/ready', '/openapi.json']) {
      expect((await call('GET', open)).status, open).toBe(200);
    }
  });

  it('without a read token, reads stay open while sessions still need the API token', async () => {
    const { call } = await startService({ REGISTRY_API_TOKEN: API });
    expect((await call('GET', '/registry/agents')).status).toBe(200);
    expect((await call('GET', '/metrics')).status).toBe(200);
    expect((await call('POST', '/sessions', { body: { user_id: 'alice' } })).status).toBe(401);
    // Changes stay open on loopback without an admin token (config refuses that anywhere else).
    expect((await call('POST', '/registry/agents', { body: ECHO })).status).toBe(201);
  });

  it('never logs a token, accepted or refused', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'trace',
      format: 'json',
      destination: { write: (line) => lines.push(line) },
    });
    const { call } = await startService(TOKENS, undefined, { logger });
    await call('POST', '/sessions', { body: { user_id: 'alice' }, headers: bearer(API) });
    await call('GET', '/registry/agents', { headers: bearer('a-wrong-token-that-must-not-be-logged') });
    await call('GET', '/registry/agents', { headers: { authorization: `Basic ${READ}` } });
    await call('POST', '/registry/agents', { body: ECHO, headers: bearer(ADMIN) });
    expect(lines.length).toBeGreaterThan(8);
    const all = lines.join('\n');
    for (const secret of [ADMIN, API, READ, 'a-wrong-token-that-must-not-be-logged']) {
      expect(all).not.toContain(secret);
    }
    // The redaction is there for whoever logs a request's headers.
    logger.info({ req: { headers: bearer(API) }, headers: bearer(API), authorization: API }, 'headers');
    expect(lines.at(-1)).not.toContain(API);
    expect(lines.at(-1)).toContain('[redacted]');
  });

  it("Jarvis's /chat takes the API token and sends its tokens to the service", async () => {
    const service = await startService(TOKENS);
    const config = loadConfig({
      JARVIS_PORT: '0',
      REGISTRY_URL: service.url,
      AGENT_FACTORY_ROOTS: DEFAULT_AGENT_FACTORY_ROOT,
      REGISTRY_API_TOKEN: API,
      REGISTRY_READ_TOKEN: READ,
    });
    const jarvis = await createJarvis(config, { logger: createLogger({ level: 'silent', format: 'json' }) });
    try {
      const url = await jarvis.start();
      const message = { user_id: 'alice', message: 'show my open tickets' };
      const refused = await call(url, 'POST', '/chat', { body: message });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('unauthorized');
      const answered = await call(url, 'POST', '/chat', { body: message, headers: bearer(API) });
      expect(answered.status).toBe(200);
      expect(answered.body.agents).toEqual(['tickets_agent']);
      const session = await service.call('GET', `/sessions/${answered.body.session_id}`, {
        headers: bearer(API),
      });
      expect(session.body.agents_invoked.map((call: { agent_name: string }) => call.agent_name)).toEqual([
        'tickets_agent',
      ]);
    } finally {
      await jarvis.stop();
    }
  });
});
