import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { isConnectionFailure, toPostgresError } from '../../src/postgres/postgres-error.js';
import { describePostgresUrl, inTransaction, PostgresPool } from '../../src/postgres/postgres-pool.js';
import { useTestPostgres } from '../support/postgres.js';

const postgres = await useTestPostgres('postgres-pool');

describe('describePostgresUrl', () => {
  it('names user, host, port and database, never the password or the parameters', () => {
    expect(describePostgresUrl('postgres://app:s3cret@db.internal:6432/registry?sslmode=require')).toBe(
      'postgres://app@db.internal:6432/registry',
    );
    expect(describePostgresUrl('postgresql://db/sessions')).toBe('postgres://db:5432/sessions');
    expect(describePostgresUrl('postgres://us%40er:p%40ss@h/d%20b')).toBe('postgres://us@er@h:5432/d b');
    expect(describePostgresUrl('postgres:///sessions?host=/var/run/postgresql')).toBe(
      'postgres:///var/run/postgresql:5432/sessions',
    );
    expect(describePostgresUrl('postgres:///sessions')).toBe('postgres://localhost:5432/sessions');
    expect(describePostgresUrl('not a url :: s3cret')).toBe('(unparsable DATABASE_URL)');
  });
});

/** A logger whose lines the test can wait for. */
function capturingLogger() {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const line = String(chunk);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      done();
    },
  });
  return {
    logger: pino({ level: 'debug' }, destination),
    lines,
    waitFor: (pattern: RegExp) =>
      lines.some((line) => pattern.test(line))
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
  };
}

describe.skipIf(!postgres.available)('PostgresPool on a real server', () => {
  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const pool = new PostgresPool(await postgres.schema());
    await pool.query('CREATE TABLE notes (text text NOT NULL)');
    expect(
      await pool.transaction(async (tx) => (await tx.query("INSERT INTO notes VALUES ('kept')")).rowCount),
    ).toBe(1);
    await expect(
      pool.transaction(async (tx) => {
        await tx.query("INSERT INTO notes VALUES ('lost')");
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(pool.transaction((tx) => tx.query('INSERT INTO notes VALUES (NULL)'))).rejects.toMatchObject(
      {
        code: '23502',
      },
    );
    expect((await pool.query('SELECT text FROM notes')).rows).toEqual([{ text: 'kept' }]);
    expect(
      await pool.transaction(async (tx) => (await tx.query('SHOW transaction_isolation')).rows, {
        isolation: 'serializable',
        readOnly: true,
      }),
    ).toEqual([{ transaction_isolation: 'serializable' }]);
    await pool.end();
  });

  it('refuses to report a commit for a transaction the server had aborted', async () => {
    const pool = new PostgresPool(await postgres.schema());
    await pool.query('CREATE TABLE notes (text text)');
    const error = await pool
      .transaction(async (tx) => {
        await tx.query("INSERT INTO notes VALUES ('lost')");
        await tx.query('SELECT 1/0').catch(() => undefined); // swallowed, but the transaction is aborted
      })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/rolled back instead of committed.*Nothing of it was saved/);
    expect((await pool.query('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 0 }]);
    await pool.end();
  });

  it('runs a transaction again after a serialization failure, up to its retries', async () => {
    const pool = new PostgresPool(await postgres.schema());
    await pool.query('CREATE TABLE notes (text text)');
    const conflict = "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$";
    let attempts = 0;
    await pool.transaction(async (tx) => {
      attempts++;
      await tx.query('INSERT INTO notes VALUES ($1)', [`attempt ${attempts}`]);
      if (attempts < 3) await tx.query(conflict);
    });
    expect(attempts).toBe(3);
    expect((await pool.query('SELECT text FROM notes')).rows).toEqual([{ text: 'attempt 3' }]);
    attempts = 0;
    await expect(
      pool.transaction(
        async (tx) => {
          attempts++;
          await tx.query(conflict);
        },
        { retries: 1 },
      ),
    ).rejects.toMatchObject({ code: '40001' });
    expect(attempts).toBe(2);
    await pool.end();
  });

  it('drops a connection that failed while checked out and serves the next caller on a new one', async () => {
    const pool = new PostgresPool(await postgres.schema(), { max: 1 });
    const error = await pool
      .withClient(async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await postgres.admin('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await client.query('SELECT 1');
      })
      .catch((reason: unknown) => reason);
    expect(isConnectionFailure(error)).toBe(true);
    expect(toPostgresError(error, 'x', pool.target).code).toBe('database_unavailable');
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(
      await inTransaction({ query: (text, values) => pool.query(text, values) }, async () => 'ok', {
        retries: 0,
      }),
    ).toBe('ok');
    await pool.end();
  });

  it('logs an idle connection the server closed, without ending the process, and reconnects', async () => {
    const { logger, waitFor } = capturingLogger();
    const application = `pool-idle-${process.pid}`;
    const pool = new PostgresPool(await postgres.schema(), { logger, applicationName: application });
    await pool.query('SELECT 1');
    expect(pool.stats()).toMatchObject({ total: 1, idle: 1, waiting: 0, max: 10 });
    await postgres.admin(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [application],
    );
    await waitFor(/PostgreSQL closed an idle connection/);
    expect(pool.stats().total).toBe(0);
    expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await pool.end();
  });

  it('turns synchronous_commit back on where the server has it off', async () => {
    const url = await postgres.createDatabase();
    const name = new URL(url).pathname.slice(1);
    await postgres.admin(`ALTER DATABASE ${name} SET synchronous_commit = off`);
    expect(await postgres.run(url, 'SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'off' }]);
    const pool = new PostgresPool(url);
    expect((await pool.query('SHOW synchronous_commit')).rows).toEqual([{ synchronous_commit: 'on' }]);
    await pool.end();
  });

  it('passes the statement timeout and application name to the server, and refuses use after end', async () => {
    const pool = new PostgresPool(await postgres.schema(), {
      statementTimeoutMs: 1234,
      applicationName: 'pool-test',
    });
    expect((await pool.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '1234ms' }]);
    expect((await pool.query('SELECT current_setting($1) AS name', ['application_name'])).rows).toEqual([
      { name: 'pool-test' },
    ]);
    await Promise.all([pool.end(), pool.end()]);
    const error = await pool.query('SELECT 1').catch((reason: unknown) => reason);
    expect(toPostgresError(error, 'read', pool.target)).toMatchObject({ code: 'database_unavailable' });
  });
});
