import { describe, expect, it } from 'vitest';
import { openPostgresDatabase } from '../../src/postgres/postgres-database.js';
import type { PostgresPool } from '../../src/postgres/postgres-pool.js';
import { PostgresRegistryStore } from '../../src/registry/postgres-registry-store.js';
import { expectAppError } from '../sessions/session-store.contract.js';
import { useTestPostgres } from '../support/postgres.js';
import { makeRecord } from '../support/records.js';
import { describeRegistryStoreContract } from './registry-store.contract.js';

const postgres = await useTestPostgres('postgres-registry-store');

async function openStore(url: string, pool: PostgresPool, changesKept?: number, versionsKept?: number) {
  const store = new PostgresRegistryStore(pool, {
    url,
    ...(changesKept !== undefined && { changesKept }),
    ...(versionsKept !== undefined && { versionsKept }),
  });
  await store.open();
  await store.load();
  return store;
}

describe.skipIf(!postgres.available)('PostgresRegistryStore', () => {
  describeRegistryStoreContract('PostgreSQL', async ({ changesKept, versionsKept }) => {
    const url = await postgres.schema();
    const pools: PostgresPool[] = [(await openPostgresDatabase(url)).pool];
    return {
      store: await openStore(url, pools[0]!, changesKept, versionsKept),
      async reopen(store) {
        await store.close();
        return openStore(url, pools[0]!, changesKept, versionsKept);
      },
      async another() {
        const pool = (await openPostgresDatabase(url)).pool;
        pools.push(pool);
        return openStore(url, pool, changesKept, versionsKept);
      },
      async dispose() {
        for (const pool of pools) await pool.end();
      },
    };
  });

  it('keeps each record byte for byte (json, not jsonb) and its version across processes', async () => {
    const url = await postgres.schema();
    const { pool } = await openPostgresDatabase(url);
    try {
      const store = await openStore(url, pool);
      const record = makeRecord('alpha', { capabilities: { zebra: 1, apple: { '': 'nul \u0000 kept' } } });
      await store.insert(record);
      const rows = await postgres.run<{ text: string }>(
        url,
        'SELECT record::text AS text FROM registry_agents',
      );
      expect(rows[0]?.text).toBe(JSON.stringify(record));
      expect((await store.snapshot()).agents[0]?.record).toEqual(record);
      await store.close();
    } finally {
      await pool.end();
    }
  });

  it('answers database_unavailable, acknowledging nothing, when the database is gone; recovers when it is back', async () => {
    const url = await postgres.createDatabase();
    const { pool } = await openPostgresDatabase(url);
    const store = await openStore(url, pool);
    try {
      await store.insert(makeRecord('before'));
      const name = new URL(url).pathname.slice(1);
      await postgres.admin(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      // The pool's connections were terminated: the next call may fail once, then the pool reconnects.
      const outcome = await store.insert(makeRecord('during')).then(
        () => 'stored',
        (error: { code?: string }) => error.code,
      );
      expect(['stored', 'database_unavailable']).toContain(outcome);
      await store.insert(makeRecord('after'));
      const names = (await store.snapshot()).agents.map((agent) => agent.record.name);
      expect(names).toEqual(outcome === 'stored' ? ['after', 'before', 'during'] : ['after', 'before']);
      await postgres.admin(`DROP DATABASE ${name} WITH (FORCE)`);
      await expectAppError(store.insert(makeRecord('lost')), 'database_unavailable', /unavailable/);
      await expectAppError(store.snapshot(), 'database_unavailable');
    } finally {
      await store.close();
      await pool.end();
    }
  });
});
