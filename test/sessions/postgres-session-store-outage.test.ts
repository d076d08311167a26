/**
 * Losing the database under a running PostgresSessionStore, on the real server: its connections terminated
 * under load (pg_terminate_backend), the server unreachable (a proxy in front of it stopped, a closed port),
 * and its database dropped. Calls fail with database_unavailable, nothing unsaved is acknowledged, and the
 * store recovers by itself once the database is back.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { PostgresSessionStore } from '../../src/sessions/postgres-session-store.js';
import { TEST_DATABASE_URL, useTestPostgres } from '../support/postgres.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { expectAppError } from './session-store.contract.js';

const postgres = await useTestPostgres('pg-session-outage');

/** Wait for a condition the code under test brings about (bounded, so a bug fails instead of hanging). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function historyIn(url: string, sessionId: string): Promise<string[]> {
  const rows = await postgres.run<{ content: string }>(
    url,
    'SELECT content FROM conversation_history WHERE session_id = $1 ORDER BY id',
    [sessionId],
  );
  return rows.map((row) => row.content);
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!postgres.available)('PostgresSessionStore when the database goes away', () => {
  it('fails in-flight calls with database_unavailable when its connections are terminated under load, acknowledges only committed writes, and recovers without a restart', async () => {
    const url = await postgres.schema();
    const application = `outage-${randomUUID().slice(0, 8)}`;
    const store = await PostgresSessionStore.open(url, { applicationName: application });
    const sessionId = await store.createSession('load');
    const acknowledged: string[] = [];
    const failures: unknown[] = [];
    let running = true;

    const lane = async (lane: number) => {
      for (let i = 0; running; i++) {
        const content = `l${lane}-${i}`;
        try {
          await store.addToHistory(sessionId, 'user', content);
          acknowledged.push(content);
        } catch (error) {
          failures.push(error);
        }
        if (i % 4 === 0)
          await store.getSession(sessionId, { historyLimit: 1 }).catch((e) => failures.push(e));
      }
    };
    const lanes = Array.from({ length: 8 }, (_, i) => lane(i));

    // Terminate every connection of the store while writes and reads are in flight, until some failed.
    for (let round = 0; round < 3 || failures.length === 0; round++) {
      if (round > 100) throw new Error('no call was in flight during 100 terminations');
      const before = acknowledged.length;
      await until(() => acknowledged.length >= before + 10, 'more acknowledged appends');
      await postgres.admin(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [application],
      );
    }
    // Still under load, the store serves again without anything being restarted.
    const afterLastTermination = acknowledged.length;
    await until(() => acknowledged.length >= afterLastTermination + 50, 'appends after the last termination');
    running = false;
    await Promise.all(lanes);

    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(AppError);
      expect((failure as AppError).code).toBe('database_unavailable');
      expect((failure as AppError).message).toMatch(
        /^Could not (add the message|read the session): PostgreSQL at postgres:\/\/\S+ is unavailable: .*retry/,
      );
    }
    // Every acknowledged append is stored, once, and each lane's appends in the order it made them.
    const stored = await historyIn(url, sessionId);
    expect(acknowledged.filter((content) => !stored.includes(content))).toEqual([]);
    expect(new Set(stored).size).toBe(stored.length);
    for (let lane = 0; lane < 8; lane++) {
      const sequence = stored.filter((c) => c.startsWith(`l${lane}-`)).map((c) => Number(c.split('-')[1]));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }
    await store.addToHistory(sessionId, 'assistant', 'recovered');
    expect((await store.getConversationHistory(sessionId)).at(-1)?.content).toBe('recovered');
    expect(await store.health()).toMatchObject({ status: 'ok', backend: 'postgresql' });
    await store.close();
  }, 120_000);

  it('answers database_unavailable while the server is unreachable, reports it in health, and reconnects when it is back', async () => {
    const target = new URL(TEST_DATABASE_URL);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const url = new URL(await postgres.schema());
    url.host = `127.0.0.1:${proxy.port}`;
    const store = await PostgresSessionStore.open(url.toString(), { connectionTimeoutMs: 2000 });
    try {
      const sessionId = await store.createSession('alice');
      await store.addToHistory(sessionId, 'user', 'before');

      await proxy.stop();
      await expectAppError(
        store.addToHistory(sessionId, 'user', 'while down'),
        'database_unavailable',
        /^Could not add the message: PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/\S+ is unavailable/,
      );
      await expectAppError(store.getSession(sessionId), 'database_unavailable', /refused the connection/);
      await expectAppError(store.createSession('bob'), 'database_unavailable', /refused the connection/);
      expect(await store.health()).toMatchObject({
        status: 'unavailable',
        backend: 'postgresql',
        error: expect.stringMatching(
          /^Could not check the database: .*refused the connection \(is it running\?\)/,
        ),
      });

      await proxy.start();
      await store.addToHistory(sessionId, 'user', 'after');
      expect((await store.getConversationHistory(sessionId)).map((m) => m.content)).toEqual([
        'before',
        'after',
      ]);
      expect((await store.listSessions()).total).toBe(1);
      expect(await store.health()).toMatchObject({ status: 'ok' });
    } finally {
      await store.close();
      await proxy.stop();
    }
  });

  it('refuses to open on a closed port with a clear error that does not show the password', async () => {
    const port = await closedPort();
    const error = await expectAppError(
      PostgresSessionStore.open(`postgres://postgres:s3cret-pw@127.0.0.1:${port}/sessions`, {
        connectionTimeoutMs: 2000,
      }),
      'database_unavailable',
      new RegExp(
        `^Could not migrate the database: PostgreSQL at postgres://postgres@127\\.0\\.0\\.1:${port}/sessions is unavailable: the server refused the connection`,
      ),
    );
    expect(error.message).not.toContain('s3cret-pw');
    expect(error.status).toBe(503);
  });

  it('answers database_unavailable when its database is dropped under it', async () => {
    const url = await postgres.createDatabase();
    const store = await PostgresSessionStore.open(url);
    const sessionId = await store.createSession('alice');
    await postgres.admin(`DROP DATABASE ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
    await expectAppError(store.addToHistory(sessionId, 'user', 'lost'), 'database_unavailable');
    await expectAppError(store.getSession(sessionId), 'database_unavailable', /database does not exist/);
    expect(await store.health()).toMatchObject({
      status: 'unavailable',
      error: expect.stringMatching(/the database does not exist/),
    });
    await store.close();
  });
});
