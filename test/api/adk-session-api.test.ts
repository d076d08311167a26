/**
 * The ADK session routes, and Jarvis's HTTP client of them under StoreSessionService: what they store, what
 * they refuse (changing nothing), and that they need the session token.
 */
import { createEvent, InMemorySessionService } from '@google/adk';
import { describe, expect, it } from 'vitest';
import { AdkSessionClient } from '../../jarvis_agent/adk-session-client.js';
import { StoreSessionService } from '../../src/adk/store-session-service.js';
import { ServiceHttpClient } from '../../src/client/service-http-client.js';
import { startService } from '../support/service.js';

const EVENT = { id: 'e1', invocationId: 'i', author: 'user', timestamp: 5, actions: { stateDelta: {} } };
const APPEND = {
  event: EVENT,
  state_delta: { a: 1 },
  app_state_delta: {},
  user_state_delta: { u: 2 },
  last_update_time: 5,
};

describe('ADK session routes', () => {
  it('create, read, append and list; refusals change nothing', async () => {
    const { call } = await startService();
    const path = '/sessions/s-1/adk/app';
    const created = await call('PUT', path, { body: { user_id: 'alice', last_update_time: 1 } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      session_id: 's-1',
      app_name: 'app',
      user_id: 'alice',
      state: {},
      last_update_time: 1,
    });
    expect(
      (await call('PUT', path, { body: { user_id: 'alice', last_update_time: 1 } })).body.error.code,
    ).toBe('session_exists');
    expect((await call('PUT', path, { body: { user_id: 'alice' } })).status).toBe(400);
    expect((await call('POST', `${path}/events`, { body: APPEND })).status).toBe(201);
    expect((await call('POST', `${path}/events`, { body: { ...APPEND, event: [] } })).status).toBe(400);
    expect((await call('POST', '/sessions/nope/adk/app/events', { body: APPEND })).status).toBe(404);
    const read = await call('GET', path);
    expect(read.body).toEqual({
      session_id: 's-1',
      app_name: 'app',
      user_id: 'alice',
      state: { a: 1 },
      last_update_time: 5,
      events: [EVENT],
      app_state: {},
      user_state: { u: 2 },
    });
    const missing = await call('GET', '/sessions/s-1/adk/other');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('session_not_found');
    expect((await call('GET', '/adk/apps/app/sessions?user_id=alice')).body.sessions).toHaveLength(1);
    expect((await call('GET', '/adk/apps/app/sessions?user_id=bob')).body.sessions).toEqual([]);
    // The ordinary session beside it.
    expect((await call('GET', '/sessions/s-1')).body.user_id).toBe('alice');
  });

  it('need the session token when one is set', async () => {
    const { call } = await startService({ REGISTRY_API_TOKEN: 'secret-token-0123456789' });
    expect((await call('GET', '/sessions/s/adk/app')).status).toBe(401);
    expect((await call('GET', '/adk/apps/app/sessions')).status).toBe(401);
    const authorized = await call('GET', '/adk/apps/app/sessions', {
      headers: { authorization: 'Bearer secret-token-0123456789' },
    });
    expect(authorized.status).toBe(200);
  });

  it("serve StoreSessionService over HTTP as ADK's InMemorySessionService behaves", async () => {
    const { url } = await startService();
    const remote = new StoreSessionService(new AdkSessionClient(new ServiceHttpClient({ baseUrl: url })));
    const memory = new InMemorySessionService();
    const results = [];
    for (const service of [memory, remote]) {
      const session = await service.createSession({
        appName: 'app',
        userId: 'alice',
        sessionId: 'x',
        state: { k: 1 },
      });
      await service.appendEvent({
        session,
        event: createEvent({
          ...EVENT,
          timestamp: 7,
          actions: { stateDelta: { 'user:lang': 'en', n: 2 } } as never,
        }),
      });
      const read = await service.getSession({ appName: 'app', userId: 'alice', sessionId: 'x' });
      const listed = await service.listSessions({ appName: 'app', userId: 'alice' });
      await service.deleteSession({ appName: 'app', userId: 'alice', sessionId: 'x' });
      const gone = await service.getSession({ appName: 'app', userId: 'alice', sessionId: 'x' });
      results.push({
        state: read?.state,
        events: JSON.parse(JSON.stringify(read?.events)),
        listed: listed.sessions.map((s) => s.id),
        gone,
      });
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]?.state).toEqual({ k: 1, n: 2, 'user:lang': 'en' });
  });
});
