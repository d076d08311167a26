import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { isConnectionFailure } from '../../src/postgres/postgres-error.js';
import { type CombinedWrite, PostgresGroupCommit } from '../../src/postgres/postgres-group-commit.js';
import { PostgresPool, type PostgresQueryable } from '../../src/postgres/postgres-pool.js';
import { useTestPostgres } from '../support/postgres.js';

const postgres = await useTestPostgres('pg-group-commit');

async function setup(options: { maxBatchSize?: number; retries?: number } = {}) {
  const pool = new PostgresPool(await postgres.schema());
  await pool.query('CREATE TABLE log (id serial PRIMARY KEY, value text UNIQUE, tx bigint NOT NULL)');
  const queue = new PostgresGroupCommit(pool, options);
  const insert = (value: string) => (db: PostgresQueryable) =>
    db.query('INSERT INTO log (value, tx) VALUES ($1, txid_current())', [value]).then(() => value);
  const rows = async () =>
    (await pool.query<{ value: string; tx: string }>('SELECT value, tx FROM log ORDER BY id')).rows;
  return { pool, queue, insert, rows };
}

describe.skipIf(!postgres.available)('PostgresGroupCommit', () => {
  it('commits the writes of one turn in one transaction, in call order', async () => {
    const { pool, queue, insert, rows } = await setup();
    const values = Array.from({ length: 100 }, (_, i) => `v${i}`);
    const pending = values.map((value) => queue.enqueue(insert(value)));
    expect(queue.size).toBe(100);
    expect(await Promise.all(pending)).toEqual(values);
    const stored = await rows();
    expect(stored.map((row) => row.value)).toEqual(values);
    expect(new Set(stored.map((row) => row.tx)).size).toBe(1);
    expect(queue.size).toBe(0);
    await pool.end();
  });

  it('splits a burst into batches of at most maxBatchSize, keeping the order', async () => {
    const { pool, queue, insert, rows } = await setup({ maxBatchSize: 3 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => queue.enqueue(insert(`v${i}`))));
    const stored = await rows();
    expect(stored.map((row) => row.value)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
    expect(new Set(stored.map((row) => row.tx)).size).toBe(4);
    await pool.end();
  });

  it('fails a write that refuses (AppError) or that the database refuses, and commits the rest', async () => {
    const { pool, queue, insert, rows } = await setup();
    const refused = new AppError('session_not_found', 'no such thing');
    const results = await Promise.allSettled([
      queue.enqueue(insert('a')),
      queue.enqueue(async () => {
        throw refused;
      }),
      queue.enqueue(insert('b')),
      queue.enqueue(insert('a')), // unique violation: aborts the transaction, which runs again without it
      queue.enqueue(insert('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((results[1] as PromiseRejectedResult).reason).toBe(refused);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    const stored = await rows();
    expect(stored.map((row) => row.value)).toEqual(['a', 'b', 'c']);
    expect(new Set(stored.map((row) => row.tx)).size).toBe(1);
    await pool.end();
  });

  it('acknowledges nothing of a batch whose transaction the server aborted behind a caught error', async () => {
    const { pool, queue, insert, rows } = await setup();
    const results = await Promise.allSettled([
      queue.enqueue(insert('a')),
      queue.enqueue(async (db) => {
        await db.query('SELECT 1/0').catch(() => undefined);
      }),
      queue.enqueue(insert('b')),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'storage_error',
        message: expect.stringMatching(/rolled back instead of committed/),
      });
    }
    expect(await rows()).toEqual([]);
    await pool.end();
  });

  it('runs a batch again after a serialization failure, and fails it whole after its retries', async () => {
    const { pool, queue, insert, rows } = await setup({ retries: 2 });
    const conflict = "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$";
    let attempts = 0;
    const flaky = async (db: PostgresQueryable) => {
      attempts++;
      if (attempts <= 2) await db.query(conflict);
      return attempts;
    };
    expect(await Promise.all([queue.enqueue(insert('a')), queue.enqueue(flaky)])).toEqual(['a', 3]);
    expect((await rows()).map((row) => row.value)).toEqual(['a']);

    const results = await Promise.allSettled([
      queue.enqueue(insert('b')),
      queue.enqueue(async (db) => {
        await db.query(conflict);
      }),
    ]);
    for (const result of results)
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: '40001' });
    expect((await rows()).map((row) => row.value)).toEqual(['a']);
    await pool.end();
  });

  it('fails every write of a batch whose connection breaks, then commits on a new connection', async () => {
    const { pool, queue, insert, rows } = await setup();
    const results = await Promise.allSettled([
      queue.enqueue(insert('lost')),
      queue.enqueue(async (db) => {
        await db.query('SELECT pg_terminate_backend(pg_backend_pid())');
      }),
      queue.enqueue(insert('lost too')),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect(isConnectionFailure((result as PromiseRejectedResult).reason)).toBe(true);
    }
    expect(await queue.enqueue(insert('after'))).toBe('after');
    expect((await rows()).map((row) => row.value)).toEqual(['after']);
    await pool.end();
  });

  it('runs consecutive calls of a combined write as one, finding the culprit one by one when it fails', async () => {
    const { pool, queue, insert, rows } = await setup();
    const runs: string[][] = [];
    // Inserts many values in one statement; a value starting with "!" is refused, "dup" hits a unique key.
    const many: CombinedWrite<string, string> = {
      async runMany(db, values) {
        runs.push([...values]);
        const accepted = values.filter((value) => !value.startsWith('!'));
        await db.query(
          'INSERT INTO log (value, tx) SELECT v, txid_current() FROM unnest($1::text[]) WITH ORDINALITY AS t (v, n) ORDER BY n',
          [accepted],
        );
        return values.map((value) =>
          value.startsWith('!')
            ? { refused: new AppError('validation_error', `refused ${value}`) }
            : { value: value.toUpperCase() },
        );
      },
    };
    const first = await Promise.allSettled([
      queue.enqueueCombined(many, 'a'),
      queue.enqueueCombined(many, '!b'),
      queue.enqueueCombined(many, 'c'),
      queue.enqueue(insert('plain')),
      queue.enqueueCombined(many, 'd'),
    ]);
    expect(first.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'A',
      'refused !b',
      'C',
      'plain',
      'D',
    ]);
    expect(runs).toEqual([['a', '!b', 'c'], ['d']]);
    runs.length = 0;

    const second = await Promise.allSettled(
      ['e', 'a', 'f'].map((value) => queue.enqueueCombined(many, value)),
    );
    expect(second.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((second[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect(runs).toEqual([['e', 'a', 'f'], ['e'], ['a'], ['e'], ['f']]);
    const stored = await rows();
    expect(stored.map((row) => row.value)).toEqual(['a', 'c', 'plain', 'd', 'e', 'f']);
    expect(new Set(stored.map((row) => row.tx)).size).toBe(2);

    const short: CombinedWrite<string, string> = { runMany: async () => [] };
    await expect(queue.enqueueCombined(short, 'x')).rejects.toThrow(/too few outcomes/);
    await pool.end();
  });

  it('drains what is queued, and fails writes when no connection can be had', async () => {
    const { pool, queue, insert, rows } = await setup();
    await queue.drain();
    const pending = [queue.enqueue(insert('a')), queue.enqueue(insert('b'))];
    await queue.drain();
    expect(queue.size).toBe(0);
    await Promise.all(pending);
    expect((await rows()).map((row) => row.value)).toEqual(['a', 'b']);
    await pool.end();
    await expect(queue.enqueue(insert('c'))).rejects.toThrow(/Cannot use a pool after calling end/);
  });
});
