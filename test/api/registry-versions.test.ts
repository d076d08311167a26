import { describe, expect, it } from 'vitest';
import { useTestPostgres } from '../support/postgres.js';
import { startService } from '../support/service.js';
import { useTempDirs } from '../support/temp-dir.js';

const postgres = await useTestPostgres('registry-versions');
const tempDir = useTempDirs('registry-versions-');

const OPS = 'ops-token-0123456789abcdef';
const CI = 'ci-token-0123456789abcdefgh';
const ADMIN = 'admin-token-0123456789abcdef';

const echo = (name: string) => ({
  agent_type: 'echo',
  factory_module: 'test_factories',
  factory_function: 'create_echo_agent',
  factory_params: { name, topic: 'billing questions' },
});

const backends = [
  { name: 'file', available: true, env: async () => ({}) },
  {
    name: 'PostgreSQL',
    available: postgres.available,
    env: async () => ({ DATABASE_URL: await postgres.schema() }),
  },
];

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe.each(backends)('agent versions and rollback ($name)', (backend) => {
  const start = async (env: Record<string, string> = {}) =>
    startService({ ...(await backend.env()), ...env });
  const withTokens = () =>
    start({ REGISTRY_ADMIN_TOKEN: ADMIN, REGISTRY_ADMIN_TOKENS: `ops:${OPS}, ci:${CI}` });

  it.skipIf(!backend.available)(
    'every change makes a version with its actor; a deleted agent keeps its history and continues its numbering',
    async () => {
      const { call } = await withTokens();
      const { revision: since } = (await call('GET', '/registry/changes')).body;
      expect(
        (await call('POST', '/registry/agents', { body: echo('billing_agent'), ...bearer(OPS) })).status,
      ).toBe(201);
      const capabilities = { examples: ['refund my invoice'] };
      expect(
        (
          await call('PUT', '/registry/agents/billing_agent/capabilities', {
            body: { capabilities },
            ...bearer(CI),
          })
        ).status,
      ).toBe(200);
      await call('PATCH', '/registry/agents/billing_agent/status', {
        body: { enabled: false },
        ...bearer(ADMIN),
      });
      await call('DELETE', '/registry/agents/billing_agent', bearer(OPS));

      const listed = await call('GET', '/registry/agents/billing_agent/versions');
      expect(listed.status).toBe(200);
      const changes = (await call('GET', `/registry/changes?since=${since}`)).body.changes;
      expect(listed.body.versions).toEqual(
        [...changes]
          .reverse()
          .map((change: { revision: number; type: string; at: string; version: number }) => ({
            version: change.version,
            revision: change.revision,
            type: change.type,
            at: change.at,
            actor: expect.any(String),
          })),
      );
      expect(
        listed.body.versions.map((v: { version: number; type: string; actor: string }) => [
          v.version,
          v.type,
          v.actor,
        ]),
      ).toEqual([
        [4, 'deleted', 'ops'],
        [3, 'updated', 'admin'],
        [2, 'updated', 'ci'],
        [1, 'registered', 'ops'],
      ]);

      const first = await call('GET', '/registry/agents/billing_agent/versions/1');
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        name: 'billing_agent',
        enabled: true,
        capabilities: {},
        status: 'available',
      });
      const second = await call('GET', '/registry/agents/billing_agent/versions/2');
      expect(second.body).toMatchObject({ enabled: true, capabilities });
      const deleted = await call('GET', '/registry/agents/billing_agent/versions/4');
      expect(deleted.body).toMatchObject({ enabled: false, capabilities });
      expect((await call('GET', '/registry/agents/billing_agent')).status).toBe(404);

      await call('POST', '/registry/agents', { body: echo('billing_agent'), ...bearer(CI) });
      const again = (await call('GET', '/registry/agents/billing_agent/versions')).body.versions;
      expect(again[0]).toMatchObject({ version: 5, type: 'registered', actor: 'ci' });
      expect(again).toHaveLength(5);
      const feed = (await call('GET', `/registry/changes?since=${changes.at(-1).revision}`)).body.changes;
      expect(feed).toEqual([expect.objectContaining({ type: 'registered', version: 5 })]);
    },
  );

  it.skipIf(!backend.available)(
    'rolls back to a version as a new version, also a deleted agent; refuses unknown versions and bad bodies',
    async () => {
      const { call } = await start();
      await call('POST', '/registry/agents', { body: echo('billing_agent') });
      const original = (await call('GET', '/registry/agents/billing_agent')).body;
      await call('PUT', '/registry/agents/billing_agent/capabilities', {
        body: { capabilities: { examples: ['refund my invoice'] } },
      });

      const rolled = await call('POST', '/registry/agents/billing_agent/rollback', { body: { version: 1 } });
      expect(rolled).toMatchObject({ status: 200, body: { status: 'rolled_back', version: 3 } });
      const now = (await call('GET', '/registry/agents/billing_agent')).body;
      expect({ ...now, updated_at: original.updated_at }).toEqual(original);
      expect(Date.parse(now.updated_at)).toBeGreaterThanOrEqual(Date.parse(original.updated_at));
      const versions = (await call('GET', '/registry/agents/billing_agent/versions')).body.versions;
      expect(versions[0]).toMatchObject({ version: 3, type: 'updated', actor: 'anonymous' });

      await call('DELETE', '/registry/agents/billing_agent');
      const restored = await call('POST', '/registry/agents/billing_agent/rollback', {
        body: { version: 2 },
      });
      expect(restored.body).toEqual({ status: 'rolled_back', version: 5 });
      const back = (await call('GET', '/registry/agents/billing_agent')).body;
      expect(back).toMatchObject({ status: 'available', capabilities: { examples: ['refund my invoice'] } });
      const route = await call('POST', '/registry/route', { body: { query: 'refund my invoice' } });
      expect(route.status).toBe(200);

      const missing = await call('POST', '/registry/agents/billing_agent/rollback', {
        body: { version: 99 },
      });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('version_not_found');
      expect((await call('GET', '/registry/agents/billing_agent/versions/99')).body.error.code).toBe(
        'version_not_found',
      );
      for (const body of [
        {},
        { version: 0 },
        { version: 'one' },
        { version: 1, extra: true },
        { version: 1.5 },
      ]) {
        const refused = await call('POST', '/registry/agents/billing_agent/rollback', { body });
        expect(refused.status, JSON.stringify(body)).toBe(400);
      }
      expect((await call('GET', '/registry/agents/billing_agent/versions/0')).status).toBe(400);
      const never = await call('GET', '/registry/agents/never_was/versions');
      expect(never.status).toBe(404);
      expect(never.body.error.code).toBe('agent_not_found');
      expect(
        (await call('POST', '/registry/agents/never_was/rollback', { body: { version: 1 } })).status,
      ).toBe(404);
      // Nothing the refusals asked for was made.
      expect((await call('GET', '/registry/agents/billing_agent/versions')).body.versions).toHaveLength(5);
    },
  );

  it.skipIf(!backend.available)('rollback needs the admin token; reads of versions do not', async () => {
    const { call } = await withTokens();
    await call('POST', '/registry/agents', { body: echo('billing_agent'), ...bearer(OPS) });
    const refused = await call('POST', '/registry/agents/billing_agent/rollback', { body: { version: 1 } });
    expect(refused.status).toBe(401);
    const wrong = await call('POST', '/registry/agents/billing_agent/rollback', {
      body: { version: 1 },
      ...bearer('not-a-token-0123456789abcdef'),
    });
    expect(wrong.status).toBe(401);
    expect((await call('GET', '/registry/agents/billing_agent/versions')).body.versions).toHaveLength(1);
    const done = await call('POST', '/registry/agents/billing_agent/rollback', {
      body: { version: 1 },
      ...bearer(CI),
    });
    expect(done.body.version).toBe(2);
    const versions = (await call('GET', '/registry/agents/billing_agent/versions')).body.versions;
    expect(versions[0]).toMatchObject({ version: 2, actor: 'ci' });
  });

  it.skipIf(!backend.available)('keeps REGISTRY_VERSIONS_KEPT versions per agent', async () => {
    const { call } = await start({ REGISTRY_VERSIONS_KEPT: '2' });
    await call('POST', '/registry/agents', { body: echo('billing_agent') });
    for (const enabled of [false, true, false]) {
      await call('PATCH', '/registry/agents/billing_agent/status', { body: { enabled } });
    }
    const versions = (await call('GET', '/registry/agents/billing_agent/versions')).body.versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([4, 3]);
    expect((await call('GET', '/registry/agents/billing_agent/versions/1')).status).toBe(404);
    expect(
      (await call('POST', '/registry/agents/billing_agent/rollback', { body: { version: 1 } })).status,
    ).toBe(404);
  });
});

describe('agent versions across a restart (file)', () => {
  it('keeps the history and continues the numbering after a restart', async () => {
    const dir = tempDir();
    const first = await startService({}, dir);
    await first.call('POST', '/registry/agents', { body: echo('billing_agent') });
    await first.call('PATCH', '/registry/agents/billing_agent/status', { body: { enabled: false } });
    const before = (await first.call('GET', '/registry/agents/billing_agent/versions')).body;
    await first.stop();
    const second = await startService({}, dir);
    expect((await second.call('GET', '/registry/agents/billing_agent/versions')).body).toEqual(before);
    await second.call('PATCH', '/registry/agents/billing_agent/status', { body: { enabled: true } });
    const after = (await second.call('GET', '/registry/agents/billing_agent/versions')).body.versions;
    expect(after[0]).toMatchObject({ version: 3, type: 'updated' });
  });
});
