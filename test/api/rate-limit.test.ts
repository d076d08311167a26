/**
 * Rate limits: the fixed-window counter on an injected clock, and the service answering 429 with
 * Retry-After in its error shape once a client's budget is spent, for changes and routing separately.
 */
import { describe, expect, it } from 'vitest';
import { FixedWindowLimiter, rateLimitClass } from '../../src/api/rate-limit.js';
import { startService } from '../support/service.js';

describe('FixedWindowLimiter', () => {
  it('allows `limit` hits per window and per key, then says how long to wait', () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter(2, () => now, 60_000);
    expect(limiter.take('a')).toEqual({ allowed: true });
    now += 10_000;
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('b')).toEqual({ allowed: true });
    now += 500;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 50 });
    now += 49_499;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1;
    expect(limiter.take('a')).toEqual({ allowed: true });
  });

  it('remembers a bounded number of clients, forgetting expired windows and then the oldest', () => {
    let now = 0;
    const limiter = new FixedWindowLimiter(1, () => now, 1000, 3);
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    now = 500;
    limiter.take('d');
    expect(limiter.size).toBe(3);
    // 'a' was the oldest: forgotten, so it has a fresh budget; 'c' is still counted.
    expect(limiter.take('a')).toEqual({ allowed: true });
    expect(limiter.take('d')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now = 1600;
    limiter.take('e');
    expect(limiter.size).toBeLessThanOrEqual(3);
  });

  it('classifies routing, changes and reads', () => {
    expect(rateLimitClass('POST', '/registry/route')).toBe('routing');
    expect(rateLimitClass('POST', '/registry/route/replay')).toBe('routing');
    expect(rateLimitClass('POST', '/registry/agents')).toBe('write');
    expect(rateLimitClass('DELETE', '/sessions/:session_id')).toBe('write');
    expect(rateLimitClass('POST', '/chat')).toBe('write');
    expect(rateLimitClass('GET', '/registry/agents')).toBeUndefined();
    expect(rateLimitClass('POST', undefined)).toBeUndefined();
  });
});

describe('rate limits in the service', () => {
  it('answers 429 rate_limited with Retry-After once a budget is spent, and changes nothing', async () => {
    const { call } = await startService({
      RATE_LIMIT_WRITES_PER_MINUTE: '2',
      RATE_LIMIT_ROUTING_PER_MINUTE: '1',
    });
    expect((await call('POST', '/sessions', { body: { user_id: 'alice' } })).status).toBe(201);
    expect((await call('POST', '/sessions', { body: { user_id: 'bob' } })).status).toBe(201);
    const limited = await call('POST', '/sessions', { body: { user_id: 'carol' } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.body.error.message).toMatch(
      /^Too many changes from this client: at most 2 per minute; retry after \d+ s$/,
    );
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.error.message).toContain(`retry after ${retryAfter} s`);
    const list = await call('GET', '/sessions');
    expect(list.body.sessions.map((session: { user_id: string }) => session.user_id).sort()).toEqual([
      'alice',
      'bob',
    ]);
    // A different budget for registry changes? No: one budget for every change of this client.
    expect((await call('DELETE', '/registry/agents/tickets_agent')).status).toBe(429);
    // Reads are never limited; routing has its own budget.
    for (let i = 0; i < 5; i++) expect((await call('GET', '/registry/agents')).status).toBe(200);
    expect((await call('POST', '/registry/route', { body: { query: 'show my tickets' } })).status).toBe(200);
    const routing = await call('POST', '/registry/route', { body: { query: 'show my tickets' } });
    expect(routing.status).toBe(429);
    expect(routing.body.error.message).toMatch(
      /^Too many routing calls from this client: at most 1 per minute/,
    );
  });

  it('is off with a limit of 0', async () => {
    const { call } = await startService({ RATE_LIMIT_ROUTING_PER_MINUTE: '0' });
    for (let i = 0; i < 30; i++) {
      expect((await call('POST', '/registry/route', { body: { query: 'show my tickets' } })).status).toBe(
        200,
      );
    }
  });
});
