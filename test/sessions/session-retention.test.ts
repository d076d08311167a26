import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SessionRetention } from '../../src/sessions/session-retention.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { makeDecision } from '../support/records.js';
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

  it('prunes the routing decision log by age and cap when decisionsKept is set, and logs it', async () => {
    const clock = new TestClock();
    const store = await SqliteSessionStore.open(path.join(tempDir(), 'sessions.db'), { now: clock.now });
    const decision = (query: string) => makeDecision(query, { at: clock.now().toISOString() });
    await store.recordDecisions([decision('old')]);
    clock.advanceDays(3);
    await store.recordDecisions([decision('a'), decision('b'), decision('c')]);
    const { logger, entries } = capture();
    const options = { store, logger, retentionDays: 2, idleTimeoutMinutes: 60, intervalMinutes: 60 };
    await new SessionRetention(options).runOnce();
    expect((await store.listDecisions()).decisions).toHaveLength(4);
    await new SessionRetention({ ...options, decisionsKept: 2 }).runOnce();
    expect((await store.listDecisions()).decisions.map((d) => d.query)).toEqual(['c', 'b']);
    expect(entries.at(-1)).toMatchObject({
      level: 30,
      msg: 'Routing decision retention: deleted 1 decisions older than 2 days and 1 beyond the newest 2',
    });
    await store.close();
  });

  it('runs at start and then every interval until stopped, never overlapping a run', async () => {
    // Only the interval timer is faked: the store's own I/O runs for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const clock = new TestClock();
      const { store, active } = await storeWithOldSessions(clock);
      const cleanup = vi.spyOn(store, 'cleanupOldSessions');
      const retention = new SessionRetention({
        store,
        retentionDays: 7,
        idleTimeoutMinutes: 60,
        intervalMinutes: 5,
      });
      retention.start();
      retention.start();
      expect(cleanup).toHaveBeenCalledTimes(1);
      await retention.idle();
      expect((await store.getSession(active)).status).toBe('expired');

      vi.advanceTimersByTime(5 * 60_000 - 1);
      expect(cleanup).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1);
      expect(cleanup).toHaveBeenCalledTimes(2);
      // The next interval comes while that run is still going: it is skipped, not overlapped.
      vi.advanceTimersByTime(5 * 60_000);
      expect(cleanup).toHaveBeenCalledTimes(2);
      await retention.idle();
      vi.advanceTimersByTime(5 * 60_000);
      expect(cleanup).toHaveBeenCalledTimes(3);

      await retention.stop();
      vi.advanceTimersByTime(60 * 60_000);
      expect(cleanup).toHaveBeenCalledTimes(3);
      expect(cleanup).toHaveBeenCalledWith(7, { idleTimeoutMinutes: 60 });
      await store.close();
    } finally {
      vi.useRealTimers();
    }
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
