import { describe, expect, it } from 'vitest';
import {
  applyPostgresMigrations,
  MIGRATION_LOCK_KEY,
  type PostgresMigration,
  postgresSchemaVersion,
  sqlMigration,
} from '../../src/postgres/migration-runner.js';
import { POSTGRES_MIGRATIONS } from '../../src/postgres/migrations.js';
import { initializePostgres, openPostgresDatabase } from '../../src/postgres/postgres-database.js';
import { PostgresPool } from '../../src/postgres/postgres-pool.js';
import { expectAppError } from '../sessions/session-store.contract.js';
import { useTestPostgres } from '../support/postgres.js';

const postgres = await useTestPostgres('pg-migrations');

const LATEST = POSTGRES_MIGRATIONS.at(-1)!.version;
const shipped = POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name }));
const notes = sqlMigration(1, 'notes', 'CREATE TABLE notes (id int PRIMARY KEY, text text)');
const tags = sqlMigration(2, 'tags', 'CREATE TABLE tags (name text PRIMARY KEY)');

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!postgres.available)('PostgreSQL migrations', () => {
  it('initializePostgres (db-init) creates the schema once, records it, and does nothing on later runs', async () => {
    const url = await postgres.createDatabase();
    const database = `postgres://postgres@${new URL(url).host}${new URL(url).pathname}`;
    const first = await initializePostgres(url, { now: () => new Date('2026-02-01T00:00:00.000Z') });
    expect(first).toEqual({ database, schema_version: LATEST, applied_migrations: shipped });
    expect(await initializePostgres(url)).toEqual({
      database,
      schema_version: LATEST,
      applied_migrations: [],
    });
    const rows = await postgres.run<{ version: number; name: string; applied_at: Date }>(
      url,
      'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((row) => ({ ...row, applied_at: row.applied_at.toISOString() }))).toEqual(
      shipped.map((migration) => ({ ...migration, applied_at: '2026-02-01T00:00:00.000Z' })),
    );
  });

  it('migrates once when several processes start together: the others wait for the lock, then find nothing to do', async () => {
    const url = await postgres.schema();
    // The first migration waits on a lock the test holds, so every runner is provably in flight at once.
    const gate = 0x7e57;
    const gated: PostgresMigration = {
      version: 1,
      name: 'gated',
      up: async (db) => {
        await db.query('SELECT pg_advisory_lock_shared($1)', [gate]);
        await db.query('CREATE TABLE notes (id int PRIMARY KEY)');
        await db.query('SELECT pg_advisory_unlock_shared($1)', [gate]);
      },
    };
    const holder = new PostgresPool(url, { max: 1 });
    const pools = Array.from({ length: 4 }, () => new PostgresPool(url, { max: 1 }));
    try {
      const results = await holder.withClient(async (lock) => {
        await lock.query('SELECT pg_advisory_lock($1)', [gate]);
        const running = pools.map((pool) => applyPostgresMigrations(pool, [gated, tags]));
        const waiting = async (key: number) =>
          (
            await lock.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_locks
               WHERE locktype = 'advisory' AND NOT granted AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
              [key],
            )
          ).rows[0]!.n;
        await until(
          async () => (await waiting(gate)) === 1 && (await waiting(MIGRATION_LOCK_KEY)) === 3,
          'every runner to wait',
        );
        await lock.query('SELECT pg_advisory_unlock($1)', [gate]);
        return Promise.all(running);
      });
      expect(results.flatMap((result) => result.applied)).toEqual([
        { version: 1, name: 'gated' },
        { version: 2, name: 'tags' },
      ]);
      for (const result of results) expect(result.to).toBe(2);
      expect(await postgres.run(url, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual([
        { version: 1 },
        { version: 2 },
      ]);
    } finally {
      for (const pool of [holder, ...pools]) await pool.end();
    }
  });

  it('applies only the pending migrations of a longer list', async () => {
    const pool = new PostgresPool(await postgres.schema());
    expect(await postgresSchemaVersion(pool)).toBe(0);
    expect(await applyPostgresMigrations(pool, [notes])).toEqual({
      from: 0,
      to: 1,
      applied: [{ version: 1, name: 'notes' }],
    });
    expect(await applyPostgresMigrations(pool, [notes, tags])).toEqual({
      from: 1,
      to: 2,
      applied: [{ version: 2, name: 'tags' }],
    });
    expect(await postgresSchemaVersion(pool)).toBe(2);
    await pool.end();
  });

  it('rolls a failing migration back whole and names it', async () => {
    const pool = new PostgresPool(await postgres.schema());
    const broken = sqlMigration(2, 'half done', 'CREATE TABLE tags (name text); SELECT 1/0');
    await expectAppError(
      applyPostgresMigrations(pool, [notes, broken]),
      'database_unavailable',
      /^PostgreSQL migration 2 \(half done\) failed on postgres:\/\/\S+ and was rolled back: division by zero\. The database stays at schema version 1\./,
    );
    expect(await postgresSchemaVersion(pool)).toBe(1);
    expect((await pool.query("SELECT to_regclass('tags') AS t")).rows).toEqual([{ t: null }]);
    expect((await pool.query("SELECT to_regclass('notes')::text AS t")).rows).toEqual([{ t: 'notes' }]);
    // The lock was released: a fixed list applies.
    expect((await applyPostgresMigrations(pool, [notes, tags])).applied).toEqual([
      { version: 2, name: 'tags' },
    ]);
    await pool.end();
  });

  it('refuses a database newer than the code, and a list that is not numbered 1, 2, 3, ...', async () => {
    const pool = new PostgresPool(await postgres.schema());
    await applyPostgresMigrations(pool, [notes, tags]);
    await expectAppError(
      applyPostgresMigrations(pool, [notes]),
      'database_unavailable',
      /has schema version 2, but this version of the service knows up to 1\. Run the newer service version/,
    );
    await expectAppError(applyPostgresMigrations(pool, [tags]), 'internal_error', /entry 0 has version 2/);
    await pool.end();
  });

  it('openPostgresDatabase hands over a migrated pool, and ends it when migrating fails', async () => {
    const url = await postgres.schema();
    const opened = await openPostgresDatabase(url);
    expect(opened.schemaVersion).toBe(LATEST);
    expect(opened.appliedMigrations).toEqual(shipped);
    expect((await opened.pool.query("SELECT to_regclass('sessions')::text AS t")).rows).toEqual([
      { t: 'sessions' },
    ]);
    await opened.pool.end();
    // A database a newer release migrated past this one's last migration is refused.
    const newer = await postgres.schema();
    const pool = new PostgresPool(newer);
    const beyond = Array.from({ length: LATEST + 1 }, (_, i) =>
      sqlMigration(i + 1, `step ${i + 1}`, `CREATE TABLE step_${i + 1} (id int)`),
    );
    await applyPostgresMigrations(pool, beyond);
    await pool.end();
    await expectAppError(
      openPostgresDatabase(newer),
      'database_unavailable',
      new RegExp(`has schema version ${LATEST + 1}`),
    );
  });
});
