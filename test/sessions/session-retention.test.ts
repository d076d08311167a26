import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SessionRetention } from '../../src/sessions/session-retention.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { useTempDirs } from '../support/temp-dir.js';
import { TestClock } from './session-store.contract.js';

const tempDir = useTempDirs('session-retention-');

function capture() {
  const entries: { level: number; msg: string; retention?: unknown }[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: { write: (line: string) => entries.push(JSON.parse(line) as (typeof entries)[number]) },
  });
  return { logger, entries };
}

async function storeWithOldSessions(clock: TestClock) {
  const store = await SqliteSessionStore.open(path.join(tempDir(), 'sessions.db'), { now: clock.now });
  const completed = await store.createSession('alice');
  await store.addToHistory(completed, 'user', 'bye');
  await store.updateSessionStatus(completed, 'completed');
  const active = await store.createSession('bob');
  clock.advanceDays(3);
  return { store, completed, active };
}

describe('SessionRetention', () => {
  it('runs a pass with the configured ages and logs the counts', async () => {
    const clock = new TestClock();
    const { store, completed, active } = await storeWithOldSessions(clock);
    const { logger, entries } = capture();
    const retention = new SessionRetention({
      store,
      logger,
      retentionDays: 2,
      idleTimeoutMinutes: 60,
      intervalMinutes: 60,
    });

    expect(await retention.runOnce()).toEqual({
      deleted_sessions: 1,
      deleted_messages: 1,
      deleted_invocations: 0,
      expired_sessions: 1,
    });
    await expect(store.getSession(completed)).rejects.toMatchObject({ code: 'session_not_found' });
    expect((await store.getSession(active)).status).toBe('expired');
    expect(entries.at(-1)).toMatchObject({
      level: 30,
      msg: expect.stringMatching(
        /deleted 1 sessions older than 2 days \(1 messages, 0 invocations\), expired 1/,
      ),
    });
    await retention.runOnce();
    expect(entries.at(-1)).toMatchObject({ level: 20 });
    await store.close();
  });

  it('runs at start and then periodically until stopped', async () => {
    const clock = new TestClock();
    const { store, active } = await storeWithOldSessions(clock);
    const cleanup = vi.spyOn(store, 'cleanupOldSessions');
    const retention = new SessionRetention({
      store,
      retentionDays: 7,
      idleTimeoutMinutes: 60,
      intervalMinutes: 0.0005,
    });
    retention.start();
    retention.start();
    await vi.waitFor(async () => expect((await store.getSession(active)).status).toBe('expired'));
    await vi.waitFor(() => expect(cleanup.mock.calls.length).toBeGreaterThanOrEqual(3));
    await retention.stop();
    const calls = cleanup.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(cleanup.mock.calls.length).toBe(calls);
    expect(cleanup).toHaveBeenCalledWith(7, { idleTimeoutMinutes: 60 });
    await store.close();
  });

  it('is disabled by an interval of 0', async () => {
    const clock = new TestClock();
    const { store } = await storeWithOldSessions(clock);
    const cleanup = vi.spyOn(store, 'cleanupOldSessions');
    const { logger, entries } = capture();
    const retention = new SessionRetention({
      store,
      logger,
      retentionDays: 7,
      idleTimeoutMinutes: 60,
      intervalMinutes: 0,
    });
    retention.start();
    await retention.stop();
    expect(cleanup).not.toHaveBeenCalled();
    expect(entries.some((entry) => /disabled/.test(entry.msg))).toBe(true);
    await store.close();
  });

  it('logs a failed run and keeps going', async () => {
    const clock = new TestClock();
    const { store } = await storeWithOldSessions(clock);
    await store.close();
    const { logger, entries } = capture();
    const retention = new SessionRetention({
      store,
      logger,
      retentionDays: 7,
      idleTimeoutMinutes: 60,
      intervalMinutes: 60,
    });
    retention.start();
    await vi.waitFor(() => expect(entries.some((entry) => entry.level === 50)).toBe(true));
    await retention.stop();
    expect(entries.find((entry) => entry.level === 50)?.msg).toMatch(
      /Session retention failed: The session store is closed/,
    );
  });
});
