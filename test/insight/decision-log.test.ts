import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { DecisionLog, hashQuery } from '../../src/insight/decision-log.js';
import { createLogger } from '../../src/logger.js';
import type { RoutingDecisionInput } from '../../src/sessions/routing-decision.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { TestClock } from '../sessions/session-store.contract.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('decision-log-');

const routed = (query: string) => ({
  query,
  session_id: undefined,
  revision: 7,
  result: { selected: ['a'], candidates: [{ name: 'a', score: 0.9 }], follow_up: false },
});

function capture() {
  const entries: { level: number; msg: string }[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: { write: (line: string) => entries.push(JSON.parse(line) as (typeof entries)[number]) },
  });
  return { logger, entries };
}

describe('DecisionLog', () => {
  it('writes what it is given in batches, in order, after the call returned', async () => {
    const clock = new TestClock();
    const store = await SqliteSessionStore.open(path.join(tempDir(), 'sessions.db'));
    const observed: [string, number][] = [];
    const log = new DecisionLog({
      store,
      logQueries: true,
      now: clock.now,
      batchSize: 2,
      observe: (outcome, n) => observed.push([outcome, n]),
    });
    for (const query of ['q1', 'q2', 'q3']) log.record(routed(query));
    expect(log.stats()).toEqual({ pending: 3, written: 0, failed: 0, dropped: 0 });
    await log.flush();
    expect(log.stats()).toEqual({ pending: 0, written: 3, failed: 0, dropped: 0 });
    expect(observed).toEqual([
      ['written', 2],
      ['written', 1],
    ]);
    const { decisions } = await store.listDecisions();
    expect(decisions.map((d) => d.query)).toEqual(['q3', 'q2', 'q1']);
    expect(decisions[0]).toEqual({
      at: clock.now().toISOString(),
      query: 'q3',
      query_hashed: false,
      candidates: [{ name: 'a', score: 0.9 }],
      selected: ['a'],
      follow_up: false,
      revision: 7,
      session_id: null,
    });
    await store.close();
  });

  it('counts and logs a failing store (once a minute), never throwing to the caller; drops beyond maxPending', async () => {
    const clock = new TestClock();
    const { logger, entries } = capture();
    const batches: RoutingDecisionInput[][] = [];
    let failing = true;
    const store = {
      recordDecisions: async (batch: readonly RoutingDecisionInput[]) => {
        if (failing) throw new AppError('database_unavailable', 'the database is down');
        batches.push([...batch]);
      },
    };
    const log = new DecisionLog({ store, logQueries: false, logger, now: clock.now, maxPending: 2 });
    log.record(routed('one'));
    log.record(routed('two'));
    log.record(routed('three'));
    await log.flush();
    expect(log.stats()).toEqual({ pending: 0, written: 0, failed: 2, dropped: 1 });
    log.record(routed('four'));
    await log.flush();
    expect(entries.filter((e) => e.level === 50)).toHaveLength(1);
    expect(entries[0]!.msg).toMatch(/could not log routing decisions \(the database is down\)/);
    clock.advance(60_000);
    log.record(routed('five'));
    await log.flush();
    expect(entries.filter((e) => e.level === 50)).toHaveLength(2);
    failing = false;
    log.record(routed('six'));
    await log.flush();
    expect(batches).toEqual([[expect.objectContaining({ query: hashQuery('six'), query_hashed: true })]]);
    expect(log.stats()).toMatchObject({ written: 1, failed: 4, dropped: 1 });
  });

  it('hashes with SHA-256', () => {
    expect(hashQuery('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
