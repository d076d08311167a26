import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/sessions/migrations.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { useTempDirs } from '../support/temp-dir.js';
import { describeSessionStoreContract, expectAppError, TestClock } from './session-store.contract.js';

const tempDir = useTempDirs('sqlite-session-store-');

describeSessionStoreContract('SQLite', async ({ now }) => {
  const dir = tempDir();
  const store = await SqliteSessionStore.open(path.join(dir, 'sessions.db'), { now });
  return { store, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
});

function rows(dbPath: string, sql: string, ...params: unknown[]): unknown[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

describe('SqliteSessionStore', () => {
  it('cascades a delete to every table (foreign keys are on for the store connection)', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const store = await SqliteSessionStore.open(dbPath);
    const id = await store.createSession('alice');
    await store.addToHistory(id, 'user', 'hi');
    await store.trackInvocation(id, {
      agent_name: 'a',
      query: 'q',
      response: 'r',
      success: true,
      duration_ms: 5,
    });
    const count = (table: string) =>
      rows(dbPath, `SELECT count(*) AS n FROM ${table} WHERE session_id = ?`, id);
    for (const table of ['conversation_history', 'agent_invocations', 'session_context']) {
      expect(count(table)).toEqual([{ n: 1 }]);
    }
    await store.deleteSession(id);
    for (const table of ['sessions', 'conversation_history', 'agent_invocations', 'session_context']) {
      expect(count(table)).toEqual([{ n: 0 }]);
    }
    await store.close();
  });

  it('stores rows in the seed schema columns', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const clock = new TestClock();
    const store = await SqliteSessionStore.open(dbPath, { now: clock.now });
    const id = await store.createSession('alice', { team: 'it' });
    await store.trackInvocation(id, {
      agent_name: 'a',
      query: 'q',
      success: false,
      error_message: 'boom',
      duration_ms: 7,
    });
    await store.close();
    expect(rows(dbPath, 'SELECT * FROM sessions')).toEqual([
      {
        session_id: id,
        user_id: 'alice',
        created_at: '2026-01-05T12:00:00.000Z',
        updated_at: '2026-01-05T12:00:00.000Z',
        status: 'active',
        metadata: '{"team":"it"}',
        version: 1,
      },
    ]);
    expect(rows(dbPath, 'SELECT * FROM agent_invocations')).toEqual([
      {
        id: 1,
        session_id: id,
        agent_name: 'a',
        query: 'q',
        response: null,
        success: 0,
        error_message: 'boom',
        duration_ms: 7,
        timestamp: '2026-01-05T12:00:00.000Z',
      },
    ]);
  });

  it('keeps committed sessions across a reopen', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const first = await SqliteSessionStore.open(dbPath);
    const id = await first.createSession('alice');
    await first.addToHistory(id, 'user', 'remember me');
    await first.close();
    const second = await SqliteSessionStore.open(dbPath);
    expect((await second.getSession(id)).conversation_history.map((m) => m.content)).toEqual(['remember me']);
    expect(await second.health()).toMatchObject({
      status: 'ok',
      backend: 'sqlite',
      path: dbPath,
      schema_version: MIGRATIONS.at(-1)!.version,
      journal_mode: 'wal',
      synchronous: 'FULL',
      pending_writes: 0,
    });
    await second.close();
  });

  it('honours the configured synchronous level', async () => {
    const store = await SqliteSessionStore.open(path.join(tempDir(), 'sessions.db'), {
      synchronous: 'NORMAL',
    });
    expect(await store.health()).toMatchObject({ synchronous: 'NORMAL' });
    await store.close();
  });

  it('splits a large burst into several transactions without losing order', async () => {
    const store = await SqliteSessionStore.open(path.join(tempDir(), 'sessions.db'), { maxBatchSize: 7 });
    const id = await store.createSession('alice');
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.addToHistory(id, 'user', `m${i}`)));
    expect((await store.getConversationHistory(id)).map((m) => m.content)).toEqual(
      Array.from({ length: 50 }, (_, i) => `m${i}`),
    );
    await store.close();
  });

  it('fails writes with database_unavailable while another process holds the write lock, and recovers', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const store = await SqliteSessionStore.open(dbPath, { busyTimeoutMs: 20 });
    const id = await store.createSession('alice');
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    const results = await Promise.allSettled([
      store.addToHistory(id, 'user', 'blocked 1'),
      store.addToHistory(id, 'user', 'blocked 2'),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as { code: string; message: string };
      expect(reason.code).toBe('database_unavailable');
      expect(reason.message).toMatch(/locked by another connection/);
    }
    other.exec('ROLLBACK');
    other.close();
    await store.addToHistory(id, 'user', 'after');
    expect((await store.getConversationHistory(id)).map((m) => m.content)).toEqual(['after']);
    await store.close();
  });

  it('refuses writes beyond the size limit with a disk-full error and saves exactly what it acknowledged', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    // max_page_count makes SQLite report SQLITE_FULL exactly as a full disk does.
    const store = await SqliteSessionStore.open(dbPath, { pragmas: { max_page_count: 60 } });
    const id = await store.createSession('alice');
    const big = 'x'.repeat(20_000);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => store.addToHistory(id, 'user', `${i}:${big}`)),
    );
    const acknowledged = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    const failures = results.filter((result) => result.status === 'rejected');
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      const reason = (failure as PromiseRejectedResult).reason as { code: string; message: string };
      expect(reason.code).toBe('storage_error');
      expect(reason.message).toMatch(/disk holding the session database is full/);
    }
    const saved = (await store.getConversationHistory(id)).map((m) => Number(m.content.split(':')[0]));
    expect(saved).toEqual(acknowledged);
    await store.close();
  });

  it('reports corruption found while running and asks for a restart', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const writer = await SqliteSessionStore.open(dbPath);
    const id = await writer.createSession('alice');
    await Promise.all(
      Array.from({ length: 400 }, (_, i) => writer.addToHistory(id, 'user', `${i} ${'y'.repeat(300)}`)),
    );
    await writer.close();
    // A small cache and no open-time check, so the damaged page is first read by getSession.
    const store = await SqliteSessionStore.open(dbPath, { quickCheck: false, pragmas: { cache_size: 2 } });
    const pageSize = 4096;
    const pages = statSync(dbPath).size / pageSize;
    const handle = openSync(dbPath, 'r+');
    for (let page = 3; page < pages; page++)
      writeSync(handle, Buffer.alloc(64, 0xa5), 0, 64, page * pageSize);
    closeSync(handle);
    await expectAppError(store.getSession(id), 'database_unavailable', /corrupt.*Restart the service/);
    expect(await store.health()).toMatchObject({
      status: 'unavailable',
      error: expect.stringMatching(/corrupt/),
    });
    await store.close();
  });
});
