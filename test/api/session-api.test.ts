import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

describe('session API', () => {
  it('creates a session with an unguessable id and returns the contract shape', async () => {
    const { call } = await startService();
    const created = await call('POST', '/sessions', {
      body: { user_id: 'alice', metadata: { channel: 'web' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.session_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const { status, body } = await call('GET', `/sessions/${created.body.session_id}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      session_id: created.body.session_id,
      user_id: 'alice',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      status: 'active',
      metadata: { channel: 'web' },
      conversation_history: [],
      agents_invoked: [],
      last_agent_called: null,
      context: { last_agent_called: null, last_query: null, last_response: null, updated_at: null },
    });
  });

  it('records history and invocations; a successful invocation becomes the context', async () => {
    const { call } = await startService();
    const id = (await call('POST', '/sessions', { body: { user_id: 'bob' } })).body.session_id;
    expect(
      (await call('POST', `/sessions/${id}/history`, { body: { role: 'user', content: 'show my tickets' } }))
        .body,
    ).toEqual({
      status: 'added',
    });
    const tracked = await call('POST', `/sessions/${id}/invocations`, {
      body: {
        agent_name: 'tickets_agent',
        query: 'show my tickets',
        response: '2 open tickets',
        success: true,
        duration_ms: 42,
      },
    });
    expect(tracked).toMatchObject({ status: 201, body: { status: 'tracked' } });
    await call('POST', `/sessions/${id}/invocations`, {
      body: {
        agent_name: 'finops_agent',
        query: 'and costs?',
        success: false,
        error_message: 'timeout',
        duration_ms: 5000,
      },
    });
    await call('POST', `/sessions/${id}/history`, { body: { role: 'assistant', content: '2 open tickets' } });

    const { body } = await call('GET', `/sessions/${id}`);
    expect(
      body.conversation_history.map((m: { role: string; content: string }) => [m.role, m.content]),
    ).toEqual([
      ['user', 'show my tickets'],
      ['assistant', '2 open tickets'],
    ]);
    expect(body.agents_invoked).toEqual([
      expect.objectContaining({
        agent_name: 'tickets_agent',
        success: true,
        response: '2 open tickets',
        error_message: null,
        duration_ms: 42,
      }),
      expect.objectContaining({
        agent_name: 'finops_agent',
        success: false,
        response: null,
        error_message: 'timeout',
      }),
    ]);
    expect(body.last_agent_called).toBe('tickets_agent');
    expect(body.context).toMatchObject({
      last_agent_called: 'tickets_agent',
      last_query: 'show my tickets',
      last_response: '2 open tickets',
    });
  });

  it('answers 304 while a session is unchanged, and shows every change at once (no stale cached read)', async () => {
    const { call } = await startService();
    const id = (await call('POST', '/sessions', { body: { user_id: 'hal' } })).body.session_id;
    const first = await call('GET', `/sessions/${id}`);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"\d+"$/);
    const unchanged = await call('GET', `/sessions/${id}`, { headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('content-length')).toBeNull();

    const changes: [string, string, unknown][] = [
      ['POST', '/history', { role: 'user', content: 'one' }],
      [
        'POST',
        '/invocations',
        { agent_name: 'tickets_agent', query: 'one', response: 'r', success: true, duration_ms: 3 },
      ],
      ['PATCH', '/status', { status: 'completed' }],
    ];
    let previous = etag;
    for (const [method, suffix, body] of changes) {
      await call(method, `/sessions/${id}${suffix}`, { body });
      const read = await call('GET', `/sessions/${id}`, { headers: { 'if-none-match': previous } });
      expect(read.status, `${method} ${suffix}`).toBe(200);
      expect(read.headers.get('etag')).not.toBe(previous);
      previous = read.headers.get('etag')!;
    }
    const latest = (await call('GET', `/sessions/${id}`)).body;
    expect(latest.conversation_history.map((m: { content: string }) => m.content)).toEqual(['one']);
    expect(latest.agents_invoked).toHaveLength(1);
    expect(latest.status).toBe('completed');
    // Pages of the same session are cached apart from the whole.
    await call('POST', `/sessions/${id}/history`, { body: { role: 'assistant', content: 'two' } });
    const page = (await call('GET', `/sessions/${id}?history_offset=1&history_limit=1`)).body;
    expect(page.conversation_history.map((m: { content: string }) => m.content)).toEqual(['two']);
    const whole = (await call('GET', `/sessions/${id}`)).body;
    expect(whole.conversation_history.map((m: { content: string }) => m.content)).toEqual(['one', 'two']);
  });

  it('reads long sessions in pages', async () => {
    const { call } = await startService();
    const id = (await call('POST', '/sessions', { body: { user_id: 'carol' } })).body.session_id;
    for (let i = 0; i < 12; i++)
      await call('POST', `/sessions/${id}/history`, { body: { role: 'user', content: `message ${i}` } });
    const page = await call('GET', `/sessions/${id}?history_offset=5&history_limit=3`);
    expect(page.body.conversation_history.map((m: { content: string }) => m.content)).toEqual([
      'message 5',
      'message 6',
      'message 7',
    ]);
    expect((await call('GET', `/sessions/${id}?history_limit=0`)).status).toBe(400);
  });

  it('lists sessions by user and status, and changes status', async () => {
    const { call } = await startService();
    const ids: string[] = [];
    for (const user of ['dan', 'dan', 'erin'])
      ids.push((await call('POST', '/sessions', { body: { user_id: user } })).body.session_id);
    expect(
      (await call('PATCH', `/sessions/${ids[0]}/status`, { body: { status: 'completed' } })).body,
    ).toEqual({ status: 'updated' });
    const dans = await call('GET', '/sessions?user_id=dan');
    expect(dans.body.total).toBe(2);
    const completed = await call('GET', '/sessions?user_id=dan&status=completed');
    expect(completed.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([ids[0]]);
    expect(completed.body.sessions[0]).not.toHaveProperty('conversation_history');
    expect((await call('GET', '/sessions?limit=1')).body.sessions).toHaveLength(1);
  });

  it('pages the listing by cursor with counts in each summary, and refuses a bad cursor with 400', async () => {
    const { call } = await startService();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await call('POST', '/sessions', { body: { user_id: 'hank' } })).body.session_id);
    await call('POST', `/sessions/${ids[0]}/history`, { body: { role: 'user', content: 'hi' } });
    await call('POST', `/sessions/${ids[0]}/invocations`, {
      body: { agent_name: 'tickets_agent', query: 'hi', success: true, duration_ms: 3 },
    });
    const all = (await call('GET', '/sessions?user_id=hank')).body;
    expect(all.next_cursor).toBeNull();
    expect(all.sessions[0]).toMatchObject({
      session_id: ids[0],
      message_count: 1,
      invocation_count: 1,
      last_agent_called: 'tickets_agent',
    });
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await call('GET', `/sessions?user_id=hank&limit=2${query}`);
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(5);
      walked.push(...page.body.sessions.map((s: { session_id: string }) => s.session_id));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(walked).toEqual(all.sessions.map((s: { session_id: string }) => s.session_id));
    for (const bad of ['garbage!', 'WzFd', `${all.sessions[0].session_id}`]) {
      const refused = await call('GET', `/sessions?cursor=${encodeURIComponent(bad)}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: 'validation_error',
        message: expect.stringMatching(/cursor/),
      });
    }
    const first = (await call('GET', '/sessions?limit=1')).body;
    const both = await call('GET', `/sessions?offset=1&cursor=${first.next_cursor}`);
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/cursor or offset/);
  });

  it('deletes a session with everything that hangs off it', async () => {
    const { call } = await startService();
    const id = (await call('POST', '/sessions', { body: { user_id: 'frank' } })).body.session_id;
    await call('POST', `/sessions/${id}/history`, { body: { role: 'user', content: 'hi' } });
    expect((await call('DELETE', `/sessions/${id}`)).body).toEqual({ status: 'deleted' });
    expect((await call('GET', `/sessions/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/sessions/${id}`)).status).toBe(404);
  });

  const refusals: [string, string, string, unknown][] = [
    ['an unknown role', 'POST', '/history', { role: 'robot', content: 'x' }],
    ['a missing content', 'POST', '/history', { role: 'user' }],
    ['an unknown status', 'PATCH', '/status', { status: 'archived' }],
    [
      'a negative duration',
      'POST',
      '/invocations',
      { agent_name: 'a', query: 'q', success: true, duration_ms: -1 },
    ],
    ['a missing success flag', 'POST', '/invocations', { agent_name: 'a', query: 'q', duration_ms: 1 }],
    [
      'success as a string',
      'POST',
      '/invocations',
      { agent_name: 'a', query: 'q', success: 'true', duration_ms: 1 },
    ],
  ];
  for (const [what, method, suffix, body] of refusals) {
    it(`refuses ${what} with 400 and writes nothing`, async () => {
      const { call } = await startService();
      const id = (await call('POST', '/sessions', { body: { user_id: 'gina' } })).body.session_id;
      const before = (await call('GET', `/sessions/${id}`)).body;
      const response = await call(method, `/sessions/${id}${suffix}`, { body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_error');
      expect((await call('GET', `/sessions/${id}`)).body).toEqual(before);
    });
  }

  it('answers 404 for an unknown session on every call, and 400 for a missing user id', async () => {
    const { call } = await startService();
    const ghost = '00000000-0000-4000-8000-000000000000';
    for (const [method, suffix, body] of [
      ['GET', '', undefined],
      ['POST', '/history', { role: 'user', content: 'x' }],
      ['POST', '/invocations', { agent_name: 'a', query: 'q', success: true, duration_ms: 1 }],
      ['PATCH', '/status', { status: 'completed' }],
      ['DELETE', '', undefined],
    ] as const) {
      const response = await call(method, `/sessions/${ghost}${suffix}`, { body });
      expect(response.status, `${method} ${suffix}`).toBe(404);
      expect(response.body.error.code).toBe('session_not_found');
    }
    expect((await call('POST', '/sessions', { body: {} })).status).toBe(400);
  });
});
