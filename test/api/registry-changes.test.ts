import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

const echo = (name: string) => ({
  agent_type: 'echo',
  factory_module: 'test_factories',
  factory_function: 'create_echo_agent',
  factory_params: { name, topic: 'billing questions' },
});

describe('GET /registry/changes', () => {
  it('without since answers the current revision, which the list’s ETag starts with', async () => {
    const { call } = await startService();
    const current = await call('GET', '/registry/changes');
    expect(current.status).toBe(200);
    expect(current.body.changes).toEqual([]);
    const list = await call('GET', '/registry/agents');
    // `W/"<revision>.<digest>"`: the digest part is test/api/agent-etags.test.ts's.
    expect(list.headers.get('etag')).toMatch(new RegExp(`^W/"${current.body.revision}\\.[A-Za-z0-9_-]+"$`));
  });

  it('answers the changes after a revision, oldest first, with the agent as it was changed', async () => {
    const { call } = await startService();
    const { revision: start } = (await call('GET', '/registry/changes')).body;
    await call('POST', '/registry/agents', { body: echo('billing_agent') });
    await call('PATCH', '/registry/agents/billing_agent/status', { body: { enabled: false } });
    await call('DELETE', '/registry/agents/billing_agent');

    const { status, body } = await call('GET', `/registry/changes?since=${start}`);
    expect(status).toBe(200);
    expect(body.revision).toBe(start + 3);
    expect(
      body.changes.map((c: { revision: number; type: string; version: number }) => [
        c.revision,
        c.type,
        c.version,
      ]),
    ).toEqual([
      [start + 1, 'registered', 1],
      [start + 2, 'updated', 2],
      [start + 3, 'deleted', 3],
    ]);
    expect(body.changes[0]).toMatchObject({
      agent_name: 'billing_agent',
      agent: { name: 'billing_agent', enabled: true, status: 'available', agent_type: 'echo' },
    });
    expect(body.changes[1].agent.enabled).toBe(false);
    expect(body.changes[2].agent).toBeNull();
    expect(Date.parse(body.changes[2].at)).not.toBeNaN();

    const paged = await call('GET', `/registry/changes?since=${start + 1}&limit=1`);
    expect(paged.body.changes.map((c: { type: string }) => c.type)).toEqual(['updated']);
    expect((await call('GET', `/registry/changes?since=${start + 3}`)).body.changes).toEqual([]);
  });

  it('with wait, holds the request until a change arrives', async () => {
    const { call } = await startService();
    const { revision } = (await call('GET', '/registry/changes')).body;
    const polling = call('GET', `/registry/changes?since=${revision}&wait=30`);
    const changed = await call('PATCH', '/registry/agents/tickets_agent/status', {
      body: { enabled: false },
    });
    expect(changed.status).toBe(200);
    const { body } = await polling;
    expect(body.changes).toHaveLength(1);
    expect(body.changes[0]).toMatchObject({ type: 'updated', agent_name: 'tickets_agent' });
    // Nothing happens: the wait runs out and the answer is empty.
    expect((await call('GET', `/registry/changes?since=${body.revision}&wait=0.05`)).body).toEqual({
      revision: body.revision,
      changes: [],
    });
  });

  it('answers 410 history_expired for a revision older than the kept changes, and 400 for bad parameters', async () => {
    const { call } = await startService();
    const expired = await call('GET', '/registry/changes?since=1');
    expect(expired.status).toBe(410);
    expect(expired.body.error).toMatchObject({
      code: 'history_expired',
      message: expect.stringMatching(/reload/),
    });
    for (const query of ['since=-1', 'since=x', 'limit=0', 'limit=1001', 'wait=31', 'wait=-1', 'other=1']) {
      const refused = await call('GET', `/registry/changes?${query}`);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error.code).toBe('validation_error');
    }
  });
});
