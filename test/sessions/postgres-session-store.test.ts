import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../src/errors.js';
import { POSTGRES_MIGRATIONS } from '../../src/postgres/migrations.js';
import { PostgresPool } from '../../src/postgres/postgres-pool.js';
import { initializeDatabase } from '../../src/sessions/db-init.js';
import { PostgresSessionStore } from '../../src/sessions/postgres-session-store.js';
import { useTestPostgres } from '../support/postgres.js';
import { useTempDirs } from '../support/temp-dir.js';
import { describeSessionStoreContract, expectAppError, TestClock } from './session-store.contract.js';

const postgres = await useTestPostgres('postgres-session-store');
const tempDir = useTempDirs('pg-session-store-');

describe.skipIf(!postgres.available)('PostgresSessionStore', () => {
  describeSessionStoreContract('PostgreSQL', async ({ now }) => ({
    store: await PostgresSessionStore.open(await postgres.schema(), { now }),
    dispose: async () => {},
  }));

  const SESSION_TABLES = ['sessions', 'conversation_history', 'agent_invocations', 'session_context'];

  it("has the SQLite store's tables and columns, the seed's indexes, and cascading foreign keys", async () => {
    const url = await postgres.schema();
    await (await PostgresSessionStore.open(url)).close();
    const dbPath = path.join(tempDir(), 'sessions.db');
    await initializeDatabase(dbPath);
    const sqlite = new Database(dbPath, { readonly: true });
    for (const table of SESSION_TABLES) {
      const columns = await postgres.run<{ column_name: string }>(
        url,
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1
         ORDER BY ordinal_position`,
        [table],
      );
      const sqliteColumns = (sqlite.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
      expect(columns.map((c) => c.column_name)).toEqual(sqliteColumns);
    }
    sqlite.close();
    const types = await postgres.run<{ table_name: string; column_name: string; data_type: string }>(
      url,
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = current_schema() AND (column_name IN ('created_at', 'updated_at', 'timestamp'))`,
    );
    expect(types.length).toBe(5);
    for (const column of types) expect(column.data_type).toBe('timestamp with time zone');
    const indexes = await postgres.run<{ indexname: string }>(
      url,
      'SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()',
    );
    expect(indexes.map((i) => i.indexname)).toEqual(
      expect.arrayContaining([
        'idx_sessions_user',
        'idx_sessions_created',
        'idx_history_session',
        'idx_invocations_session',
        'idx_invocations_agent',
        'idx_sessions_status_updated',
      ]),
    );
    const foreignKeys = await postgres.run<{ child: string; parent: string; on_delete: string }>(
      url,
      `SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent, confdeltype AS on_delete
       FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY 1`,
    );
    expect(foreignKeys).toEqual(
      [
        ['adk_events', 'adk_sessions'],
        ...['adk_sessions', 'agent_invocations', 'conversation_history', 'session_context'].map((child) => [
          child,
          'sessions',
        ]),
      ].map(([child, parent]) => ({ child, parent, on_delete: 'c' })),
    );
  });

  it('stores rows in the seed schema columns and cascades a delete to every table', async () => {
    const url = await postgres.schema();
    const clock = new TestClock();
    const store = await PostgresSessionStore.open(url, { now: clock.now });
    const id = await store.createSession('alice', { team: 'it' });
    await store.trackInvocation(id, {
      agent_name: 'a',
      query: 'q',
      success: false,
      error_message: 'boom',
      duration_ms: Number.MAX_SAFE_INTEGER,
    });
    await store.addToHistory(id, 'user', 'hi');
    await store.updateContext(id, { last_agent_called: 'a', last_query: 'q', last_response: null });
    expect(
      await postgres.run(
        url,
        `SELECT session_id, user_id, created_at = '2026-01-05T12:00:00Z' AS created, status, metadata::text,
          version::int FROM sessions`,
      ),
    ).toEqual([
      {
        session_id: id,
        user_id: 'alice',
        created: true,
        status: 'active',
        metadata: '{"team":"it"}',
        version: 3,
      },
    ]);
    expect(
      await postgres.run(
        url,
        'SELECT session_id, agent_name, query, response, success, error_message, duration_ms FROM agent_invocations',
      ),
    ).toEqual([
      {
        session_id: id,
        agent_name: 'a',
        query: 'q',
        response: null,
        success: false,
        error_message: 'boom',
        duration_ms: String(Number.MAX_SAFE_INTEGER),
      },
    ]);
    expect((await store.getInvocations(id))[0]?.duration_ms).toBe(Number.MAX_SAFE_INTEGER);
    const count = async (table: string) =>
      (
        await postgres.run<{ n: number }>(
          url,
          `SELECT count(*)::int AS n FROM ${table} WHERE session_id = $1`,
          [id],
        )
      )[0]!.n;
    for (const table of SESSION_TABLES) expect(await count(table)).toBe(1);
    await store.deleteSession(id);
    for (const table of SESSION_TABLES) expect(await count(table)).toBe(0);
    await store.close();
  });

  it('keeps U+0000 and U+FFFF in every text field, and finds a user id containing them', async () => {
    const store = await PostgresSessionStore.open(await postgres.schema());
    const odd = (label: string) => `${label}\u0000nul \uFFFF ff \uFFFF0 \uFFFF\uFFFF end\u0000`;
    const id = await store.createSession(odd('user'), { text: odd('meta') });
    await store.addToHistory(id, 'user', odd('content'));
    await store.trackInvocation(id, {
      agent_name: odd('agent'),
      query: odd('query'),
      response: odd('response'),
      success: true,
      duration_ms: 1,
    });
    await store.trackInvocation(id, {
      agent_name: 'b',
      query: 'q',
      success: false,
      error_message: odd('error'),
      duration_ms: 1,
    });
    const session = await store.getSession(id);
    expect(session.user_id).toBe(odd('user'));
    expect(session.metadata).toEqual({ text: odd('meta') });
    expect(session.conversation_history[0]?.content).toBe(odd('content'));
    expect(
      session.agents_invoked.map((call) => [call.agent_name, call.query, call.response, call.error_message]),
    ).toEqual([
      [odd('agent'), odd('query'), odd('response'), null],
      ['b', 'q', null, odd('error')],
    ]);
    expect(session.context).toMatchObject({
      last_agent_called: odd('agent'),
      last_query: odd('query'),
      last_response: odd('response'),
    });
    expect(session.last_agent_called).toBe(odd('agent'));
    expect((await store.getConversationHistory(id))[0]?.content).toBe(odd('content'));
    expect((await store.getInvocations(id))[1]?.error_message).toBe(odd('error'));
    expect((await store.getContext(id)).last_query).toBe(odd('query'));
    const listed = await store.listSessions({ user_id: odd('user') });
    expect(listed.sessions.map((s) => [s.session_id, s.user_id, s.last_agent_called])).toEqual([
      [id, odd('user'), odd('agent')],
    ]);
    await expectAppError(store.getSession('no\u0000such'), 'session_not_found');
    await store.close();
  });

  it('fails only the write the database refuses, and commits the others of its batch', async () => {
    const url = await postgres.schema();
    const store = await PostgresSessionStore.open(url);
    const id = await store.createSession('alice');
    // A real server-side refusal the input validation cannot foresee.
    await postgres.run(
      url,
      `CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.content = 'boom' THEN RAISE EXCEPTION 'content refused by a trigger'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER refuse_boom BEFORE INSERT ON conversation_history FOR EACH ROW EXECUTE FUNCTION refuse_boom()`,
    );
    const results = await Promise.allSettled(
      ['one', 'boom', 'two', 'boom', 'three'].map((content) => store.addToHistory(id, 'user', content)),
    );
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      const reason = (result as PromiseRejectedResult).reason as AppError;
      expect(reason.code).toBe('storage_error');
      expect(reason.message).toMatch(
        /^Could not add the message: PostgreSQL at .* reported error P0001 \(content refused/,
      );
    }
    expect((await store.getConversationHistory(id)).map((m) => m.content)).toEqual(['one', 'two', 'three']);
    // The refused writes did not count as changes either.
    expect(await store.getSessionVersion(id)).toBe(3);
    await store.close();
  });

  it('runs a batch again after a serialization failure, and gives up after its retries', async () => {
    const url = await postgres.schema();
    const store = await PostgresSessionStore.open(url);
    const id = await store.createSession('alice');
    // nextval is not rolled back with the transaction: the first `failures` attempts fail, then it passes.
    await postgres.run(
      url,
      `CREATE SEQUENCE attempts;
       CREATE TABLE failures (n int); INSERT INTO failures VALUES (2);
       CREATE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF nextval('attempts') <= (SELECT n FROM failures) THEN
         RAISE EXCEPTION 'simulated conflict' USING ERRCODE = 'serialization_failure'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER conflict BEFORE INSERT ON conversation_history FOR EACH ROW EXECUTE FUNCTION conflict()`,
    );
    await Promise.all([store.addToHistory(id, 'user', 'a'), store.addToHistory(id, 'user', 'b')]);
    expect((await store.getConversationHistory(id)).map((m) => m.content)).toEqual(['a', 'b']);

    await postgres.run(url, `UPDATE failures SET n = 1000000`);
    await expectAppError(
      store.addToHistory(id, 'user', 'never'),
      'database_unavailable',
      /serialization failure.*retry/,
    );
    expect((await store.getConversationHistory(id)).map((m) => m.content)).toEqual(['a', 'b']);
    await store.close();
  });

  it('keeps committed sessions across a reopen and reports its health without the password', async () => {
    const url = new URL(await postgres.schema());
    const first = await PostgresSessionStore.open(url.toString());
    const id = await first.createSession('alice');
    await first.addToHistory(id, 'user', 'remember me');
    await first.close();
    url.password = 'not-needed-with-trust';
    const second = await PostgresSessionStore.open(url.toString());
    expect((await second.getSession(id)).conversation_history.map((m) => m.content)).toEqual(['remember me']);
    const health = await second.health();
    expect(health).toEqual({
      status: 'ok',
      backend: 'postgresql',
      database: `postgres://postgres@${url.hostname}:${url.port || 5432}${url.pathname}`,
      schema_version: POSTGRES_MIGRATIONS.at(-1)!.version,
      pool: { total: expect.any(Number), idle: expect.any(Number), waiting: 0, max: 10 },
      pending_writes: 0,
    });
    expect(JSON.stringify(health)).not.toContain('not-needed-with-trust');
    await second.close();
  });

  it('shares a pool with other stores and leaves it open when closed', async () => {
    const url = await postgres.schema();
    const pool = new PostgresPool(url, { max: 4 });
    const a = await PostgresSessionStore.open(pool);
    const b = await PostgresSessionStore.open(pool);
    const id = await a.createSession('alice');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).addToHistory(id, 'user', `m${i}`)),
    );
    await a.close();
    expect((await b.getConversationHistory(id)).length).toBe(20);
    expect(
      (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM conversation_history')).rows,
    ).toEqual([{ n: 20 }]);
    await b.close();
    await pool.end();
  });

  it('two stores on one database (two replicas) lose and misattribute nothing, each keeping its own order', async () => {
    const url = await postgres.schema();
    const replicas = [await PostgresSessionStore.open(url), await PostgresSessionStore.open(url)];
    const sessions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.createSession(`u${i}`)),
    );
    await Promise.all(
      sessions.flatMap((id, s) =>
        replicas.map(async (replica, r) => {
          for (let i = 0; i < 15; i++) await replica.addToHistory(id, 'user', `s${s}-r${r}-${i}`);
        }),
      ),
    );
    for (const [s, id] of sessions.entries()) {
      const history = (await replicas[s % 2]!.getConversationHistory(id)).map((m) => m.content);
      expect(history).toHaveLength(30);
      for (const r of [0, 1]) {
        expect(history.filter((c) => c.startsWith(`s${s}-r${r}-`))).toEqual(
          Array.from({ length: 15 }, (_, i) => `s${s}-r${r}-${i}`),
        );
      }
    }
    for (const replica of replicas) await replica.close();
  });
});
