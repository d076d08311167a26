/**
 * @module test/sessions/session-store.contract
 * The behaviour every `SessionStore` backend must have. A backend's test file calls
 * `describeSessionStoreContract(name, factory)`; the suite creates a fresh store per test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import type { DecisionListQuery, RoutingDecisionInput } from '../../src/sessions/routing-decision.js';
import type { SessionStore } from '../../src/sessions/session-store.js';

/** A clock the test moves by hand, so ages and timestamps are exact. */
export class TestClock {
  private current: number;

  constructor(start = '2026-01-05T12:00:00.000Z') {
    this.current = Date.parse(start);
  }

  readonly now = (): Date => new Date(this.current);

  advance(ms: number): void {
    this.current += ms;
  }

  advanceDays(days: number): void {
    this.advance(days * 86_400_000);
  }
}

export interface StoreUnderTest {
  store: SessionStore;
  /** Release whatever the factory created (the store is already closed). */
  dispose(): Promise<void>;
}

export type SessionStoreFactory = (options: { now: () => Date }) => Promise<StoreUnderTest>;

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Expect `promise` to reject with an `AppError` of `code` whose message matches `message`. */
export async function expectAppError(
  promise: Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, 'expected the call to fail').toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe(code);
  if (message !== undefined) expect(appError.message).toMatch(message);
  return appError;
}

export function describeSessionStoreContract(name: string, factory: SessionStoreFactory): void {
  describe(`SessionStore contract: ${name}`, () => {
    let clock: TestClock;
    let store: SessionStore;
    let subject: StoreUnderTest;

    beforeEach(async () => {
      clock = new TestClock();
      subject = await factory({ now: clock.now });
      store = subject.store;
    });

    afterEach(async () => {
      await store.close();
      await subject.dispose();
    });

    describe('create and retrieve', () => {
      it('returns the CONTRACT.md shape for a new session', async () => {
        const id = await store.createSession('alice', { channel: 'web', nested: { a: [1, 'two', null] } });
        const session = await store.getSession(id);
        expect(session).toEqual({
          session_id: id,
          user_id: 'alice',
          created_at: '2026-01-05T12:00:00.000Z',
          updated_at: '2026-01-05T12:00:00.000Z',
          status: 'active',
          metadata: { channel: 'web', nested: { a: [1, 'two', null] } },
          conversation_history: [],
          agents_invoked: [],
          last_agent_called: null,
          context: { last_agent_called: null, last_query: null, last_response: null, updated_at: null },
        });
      });

      it('defaults metadata to an empty object and keeps text as given', async () => {
        const user = 'ünïcødé 👩‍💻 "quoted" \\ back';
        const id = await store.createSession(user);
        const session = await store.getSession(id);
        expect(session.user_id).toBe(user);
        expect(session.metadata).toEqual({});
      });

      it('gives every session a distinct random UUID', async () => {
        const ids = await Promise.all(Array.from({ length: 50 }, () => store.createSession('alice')));
        expect(new Set(ids).size).toBe(50);
        for (const id of ids)
          expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      });

      it('refuses an unknown session id with session_not_found', async () => {
        await expectAppError(store.getSession('no-such-session'), 'session_not_found', /no-such-session/);
        await expectAppError(store.getContext('no-such-session'), 'session_not_found');
        await expectAppError(store.getConversationHistory('no-such-session'), 'session_not_found');
        await expectAppError(store.getInvocations('no-such-session'), 'session_not_found');
      });

      it('refuses bad user ids and metadata and writes nothing', async () => {
        await expectAppError(store.createSession(''), 'validation_error', /user_id/);
        await expectAppError(
          store.createSession(undefined as unknown as string),
          'validation_error',
          /user_id/,
        );
        await expectAppError(store.createSession(42 as unknown as string), 'validation_error', /user_id/);
        await expectAppError(store.createSession('a'.repeat(257)), 'validation_error', /user_id/);
        for (const metadata of [[], 'text', 7, null, new Date()]) {
          await expectAppError(
            store.createSession('alice', metadata as unknown as Record<string, unknown>),
            'validation_error',
            /metadata/,
          );
        }
        const polluted = JSON.parse('{"a": {"b": [{"__proto__": {"admin": true}}]}}') as Record<
          string,
          unknown
        >;
        await expectAppError(
          store.createSession('alice', polluted),
          'validation_error',
          /metadata\/a\/b\/0\/__proto__/,
        );
        await expectAppError(
          store.createSession('alice', { constructor: 1 }),
          'validation_error',
          /constructor/,
        );
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        await expectAppError(store.createSession('alice', cyclic), 'validation_error', /metadata/);
        await expectAppError(store.createSession('alice', { big: 1n }), 'validation_error', /metadata/);
        expect((await store.listSessions()).total).toBe(0);
      });

      it('refuses a malformed session id as a validation error', async () => {
        await expectAppError(store.getSession(''), 'validation_error', /session_id/);
        await expectAppError(
          store.getSession(undefined as unknown as string),
          'validation_error',
          /session_id/,
        );
        await expectAppError(
          store.addToHistory('x'.repeat(129), 'user', 'hi'),
          'validation_error',
          /session_id/,
        );
      });
    });

    describe('session version', () => {
      it('grows with every change to the session and only then', async () => {
        const id = await store.createSession('alice');
        const other = await store.createSession('bob');
        const versions = [await store.getSessionVersion(id)];
        const changes: (() => Promise<unknown>)[] = [
          () => store.addToHistory(id, 'user', 'show my tickets'),
          () => store.trackInvocation(id, { agent_name: 'a', query: 'q', success: true, duration_ms: 1 }),
          () => store.trackInvocation(id, { agent_name: 'a', query: 'q', success: false, duration_ms: 1 }),
          () => store.updateContext(id, { last_agent_called: 'b', last_query: 'x', last_response: 'y' }),
          () => store.updateSessionStatus(id, 'completed'),
        ];
        for (const change of changes) {
          await change();
          versions.push(await store.getSessionVersion(id));
        }
        expect(new Set(versions).size).toBe(versions.length);
        expect([...versions].sort((a, b) => a - b)).toEqual(versions);

        // Reads and changes to other sessions leave it alone.
        const before = await store.getSessionVersion(id);
        await store.getSession(id);
        await store.getConversationHistory(id);
        await store.addToHistory(other, 'user', 'unrelated');
        expect(await store.getSessionVersion(id)).toBe(before);
      });

      it('changes when retention expires an idle session', async () => {
        const id = await store.createSession('alice');
        const before = await store.getSessionVersion(id);
        clock.advanceDays(2);
        await store.cleanupOldSessions(7, { idleTimeoutMinutes: 60 });
        expect((await store.getSession(id)).status).toBe('expired');
        expect(await store.getSessionVersion(id)).toBeGreaterThan(before);
      });

      it('refuses an unknown session', async () => {
        await expectAppError(
          store.getSessionVersion('no-such-session'),
          'session_not_found',
          /no-such-session/,
        );
      });
    });

    describe('conversation history', () => {
      it('keeps messages in insertion order with their timestamps', async () => {
        const id = await store.createSession('alice');
        await store.addToHistory(id, 'user', 'show my tickets');
        clock.advance(1500);
        await store.addToHistory(id, 'assistant', 'You have 2 open tickets.');
        clock.advance(1);
        await store.addToHistory(id, 'system', '');
        const history = await store.getConversationHistory(id);
        expect(history).toEqual([
          { role: 'user', content: 'show my tickets', timestamp: '2026-01-05T12:00:00.000Z' },
          { role: 'assistant', content: 'You have 2 open tickets.', timestamp: '2026-01-05T12:00:01.500Z' },
          { role: 'system', content: '', timestamp: '2026-01-05T12:00:01.501Z' },
        ]);
        const session = await store.getSession(id);
        expect(session.conversation_history).toEqual(history);
        expect(session.updated_at).toBe('2026-01-05T12:00:01.501Z');
      });

      it('keeps insertion order when the clock does not move', async () => {
        const id = await store.createSession('alice');
        for (let i = 0; i < 30; i++)
          await store.addToHistory(id, i % 2 === 0 ? 'user' : 'assistant', `m${i}`);
        const contents = (await store.getConversationHistory(id)).map((entry) => entry.content);
        expect(contents).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`));
      });

      it('reads long sessions in pages', async () => {
        const id = await store.createSession('alice');
        await Promise.all(Array.from({ length: 25 }, (_, i) => store.addToHistory(id, 'user', `m${i}`)));
        const page = async (offset: number, limit?: number) =>
          (await store.getConversationHistory(id, { offset, limit })).map((entry) => entry.content);
        expect(await page(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
        expect(await page(20, 10)).toEqual(['m20', 'm21', 'm22', 'm23', 'm24']);
        expect(await page(22)).toEqual(['m22', 'm23', 'm24']);
        expect(await page(25, 10)).toEqual([]);
        const session = await store.getSession(id, { historyOffset: 5, historyLimit: 2 });
        expect(session.conversation_history.map((entry) => entry.content)).toEqual(['m5', 'm6']);
      });

      it('keeps text of any shape byte for byte', async () => {
        const id = await store.createSession('alice');
        const content = `line 1\nline 2\r\n\t${'🚀'.repeat(1000)} \u0000 nul ${'x'.repeat(200_000)}`;
        await store.addToHistory(id, 'user', content);
        expect((await store.getConversationHistory(id))[0]?.content).toBe(content);
      });

      it('refuses an unknown role, missing content or an unknown session, and writes nothing', async () => {
        const id = await store.createSession('alice');
        await expectAppError(store.addToHistory(id, 'robot' as 'user', 'hi'), 'validation_error', /role/);
        await expectAppError(
          store.addToHistory(id, 'user', undefined as unknown as string),
          'validation_error',
          /content/,
        );
        await expectAppError(
          store.addToHistory(id, 'user', 5 as unknown as string),
          'validation_error',
          /content/,
        );
        await expectAppError(store.addToHistory('missing', 'user', 'hi'), 'session_not_found');
        expect(await store.getConversationHistory(id)).toEqual([]);
        expect((await store.getSession(id)).updated_at).toBe('2026-01-05T12:00:00.000Z');
      });

      it('refuses bad pages', async () => {
        const id = await store.createSession('alice');
        await expectAppError(store.getConversationHistory(id, { offset: -1 }), 'validation_error', /offset/);
        await expectAppError(store.getConversationHistory(id, { limit: 0 }), 'validation_error', /limit/);
        await expectAppError(store.getConversationHistory(id, { limit: 1.5 }), 'validation_error', /limit/);
        await expectAppError(store.getInvocations(id, { offset: Number.NaN }), 'validation_error', /offset/);
        await expectAppError(store.getSession(id, { historyLimit: -3 }), 'validation_error', /historyLimit/);
        await expectAppError(
          store.getSession(id, { bogus: 1 } as unknown as { historyLimit: number }),
          'validation_error',
          /bogus/,
        );
      });
    });

    describe('invocations and context', () => {
      it('tracks invocations with every field', async () => {
        const id = await store.createSession('alice');
        await store.trackInvocation(id, {
          agent_name: 'tickets_agent',
          query: 'show my tickets',
          response: '2 open',
          success: true,
          duration_ms: 420,
        });
        clock.advance(10);
        await store.trackInvocation(id, {
          agent_name: 'finops_agent',
          query: 'cost of project x',
          success: false,
          error_message: 'upstream timeout',
          duration_ms: 0,
        });
        expect(await store.getInvocations(id)).toEqual([
          {
            agent_name: 'tickets_agent',
            query: 'show my tickets',
            response: '2 open',
            success: true,
            error_message: null,
            duration_ms: 420,
            timestamp: '2026-01-05T12:00:00.000Z',
          },
          {
            agent_name: 'finops_agent',
            query: 'cost of project x',
            response: null,
            success: false,
            error_message: 'upstream timeout',
            duration_ms: 0,
            timestamp: '2026-01-05T12:00:00.010Z',
          },
        ]);
        expect(await store.getInvocations(id, { offset: 1, limit: 5 })).toHaveLength(1);
        const session = await store.getSession(id, { invocationsLimit: 1 });
        expect(session.agents_invoked.map((call) => call.agent_name)).toEqual(['tickets_agent']);
      });

      it('makes a successful invocation the context, and leaves it on a failed one', async () => {
        const id = await store.createSession('alice');
        await store.trackInvocation(id, {
          agent_name: 'tickets_agent',
          query: 'show my tickets',
          response: '2 open',
          success: true,
          duration_ms: 12,
        });
        clock.advance(1000);
        await store.trackInvocation(id, {
          agent_name: 'finops_agent',
          query: 'costs?',
          success: false,
          duration_ms: 3,
        });
        const expected = {
          last_agent_called: 'tickets_agent',
          last_query: 'show my tickets',
          last_response: '2 open',
          updated_at: '2026-01-05T12:00:00.000Z',
        };
        expect(await store.getContext(id)).toEqual(expected);
        const session = await store.getSession(id);
        expect(session.context).toEqual(expected);
        expect(session.last_agent_called).toBe('tickets_agent');
        expect(session.updated_at).toBe('2026-01-05T12:00:01.000Z');
      });

      it('updates and reads the context directly', async () => {
        const id = await store.createSession('alice');
        await store.updateContext(id, {
          last_agent_called: 'oxygen_agent',
          last_query: 'deploy',
          last_response: null,
        });
        clock.advance(5);
        await store.updateContext(id, {
          last_agent_called: 'tickets_agent',
          last_query: 'q',
          last_response: 'r',
        });
        expect(await store.getContext(id)).toEqual({
          last_agent_called: 'tickets_agent',
          last_query: 'q',
          last_response: 'r',
          updated_at: '2026-01-05T12:00:00.005Z',
        });
        expect((await store.listSessions({ user_id: 'alice' })).sessions[0]?.last_agent_called).toBe(
          'tickets_agent',
        );
      });

      it('refuses bad invocations and contexts and writes nothing', async () => {
        const id = await store.createSession('alice');
        const valid = { agent_name: 'a', query: 'q', success: true, duration_ms: 1 };
        const bad: [Record<string, unknown>, RegExp][] = [
          [{ ...valid, agent_name: '' }, /agent_name/],
          [{ ...valid, success: 'yes' }, /success/],
          [{ query: 'q', success: true, duration_ms: 1 }, /agent_name/],
          [{ agent_name: 'a', query: 'q', duration_ms: 1 }, /success/],
          [{ ...valid, duration_ms: -1 }, /duration_ms/],
          [{ ...valid, duration_ms: 2.5 }, /duration_ms/],
          [{ ...valid, response: 3 }, /response/],
          [{ ...valid, extra: true }, /extra/],
        ];
        for (const [invocation, field] of bad) {
          await expectAppError(store.trackInvocation(id, invocation as never), 'validation_error', field);
        }
        await expectAppError(store.trackInvocation(id, null as never), 'validation_error');
        await expectAppError(store.trackInvocation('missing', valid), 'session_not_found');
        await expectAppError(
          store.updateContext(id, { last_agent_called: 'a', last_query: 'q' } as never),
          'validation_error',
          /last_response/,
        );
        await expectAppError(
          store.updateContext('missing', { last_agent_called: 'a', last_query: null, last_response: null }),
          'session_not_found',
        );
        expect(await store.getInvocations(id)).toEqual([]);
        expect((await store.getContext(id)).updated_at).toBeNull();
      });
    });

    describe('status, listing and delete', () => {
      it('updates the status and refuses unknown statuses', async () => {
        const id = await store.createSession('alice');
        clock.advance(1);
        await store.updateSessionStatus(id, 'completed');
        const session = await store.getSession(id);
        expect(session.status).toBe('completed');
        expect(session.updated_at).toBe('2026-01-05T12:00:00.001Z');
        await expectAppError(
          store.updateSessionStatus(id, 'paused' as 'active'),
          'validation_error',
          /status/,
        );
        await expectAppError(store.updateSessionStatus('missing', 'active'), 'session_not_found');
        expect((await store.getSession(id)).status).toBe('completed');
      });

      it('lists sessions by user and status, most recently updated first, in pages', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          ids.push(await store.createSession(i < 3 ? 'alice' : 'bob', { i }));
          clock.advance(1000);
        }
        await store.updateSessionStatus(ids[0]!, 'completed');
        const all = await store.listSessions();
        expect(all.total).toBe(5);
        expect(all.sessions.map((s) => s.session_id)).toEqual([ids[0], ids[4], ids[3], ids[2], ids[1]]);
        expect(all.sessions[0]).toEqual({
          session_id: ids[0],
          user_id: 'alice',
          created_at: '2026-01-05T12:00:00.000Z',
          updated_at: '2026-01-05T12:00:05.000Z',
          status: 'completed',
          metadata: { i: 0 },
          last_agent_called: null,
          message_count: 0,
          invocation_count: 0,
        });
        expect(all.next_cursor).toBeNull();
        const alice = await store.listSessions({ user_id: 'alice', limit: 2 });
        expect(alice.total).toBe(3);
        expect(alice.sessions.map((s) => s.session_id)).toEqual([ids[0], ids[2]]);
        const next = await store.listSessions({ user_id: 'alice', limit: 2, offset: 2 });
        expect(next.sessions.map((s) => s.session_id)).toEqual([ids[1]]);
        const active = await store.listSessions({ user_id: 'alice', status: 'active' });
        expect(active).toMatchObject({ total: 2 });
        const completed = await store.listSessions({ status: 'completed' });
        expect(completed.sessions.map((s) => s.session_id)).toEqual([ids[0]]);
        expect(await store.listSessions({ user_id: 'carol' })).toEqual({
          sessions: [],
          total: 0,
          next_cursor: null,
        });
        await expectAppError(
          store.listSessions({ status: 'gone' as 'active' }),
          'validation_error',
          /status/,
        );
        await expectAppError(store.listSessions({ limit: 1001 }), 'validation_error', /limit/);
      });

      it('gives each summary its message and invocation counts and last agent', async () => {
        const busy = await store.createSession('alice');
        const quiet = await store.createSession('alice');
        await store.addToHistory(busy, 'user', 'show my tickets');
        await store.addToHistory(busy, 'assistant', '2 open');
        await store.addToHistory(busy, 'user', 'and costs?');
        await store.trackInvocation(busy, {
          agent_name: 'tickets',
          query: 'q',
          success: true,
          duration_ms: 4,
        });
        await store.trackInvocation(busy, {
          agent_name: 'finops',
          query: 'q',
          success: false,
          error_message: 'down',
          duration_ms: 9,
        });
        await store.addToHistory(quiet, 'user', 'hello');
        const listed = await store.listSessions({ user_id: 'alice' });
        const byId = new Map(listed.sessions.map((s) => [s.session_id, s]));
        expect(byId.get(busy)).toMatchObject({
          message_count: 3,
          invocation_count: 2,
          last_agent_called: 'tickets',
        });
        expect(byId.get(quiet)).toMatchObject({
          message_count: 1,
          invocation_count: 0,
          last_agent_called: null,
        });
      });

      it('pages by cursor, most recently updated first with ties by id, and ends with a null cursor', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
          ids.push(await store.createSession(i % 2 === 0 ? 'alice' : 'bob'));
          // Pairs share a timestamp, so ties on updated_at are broken by session id.
          if (i % 2 === 1) clock.advance(1000);
        }
        const everything = (await store.listSessions({ limit: 1000 })).sessions.map((s) => s.session_id);
        expect([...everything].sort()).toEqual([...ids].sort());
        const walked: string[] = [];
        let cursor: string | null | undefined;
        let pages = 0;
        do {
          const page = await store.listSessions({ limit: 3, ...(cursor ? { cursor } : {}) });
          expect(page.total).toBe(7);
          walked.push(...page.sessions.map((s) => s.session_id));
          cursor = page.next_cursor;
          pages++;
        } while (cursor !== null);
        expect(walked).toEqual(everything);
        expect(pages).toBe(3);
        // A page that ends exactly at the last session has no next cursor.
        const exact = await store.listSessions({ limit: 7 });
        expect(exact.next_cursor).toBeNull();
        const first = await store.listSessions({ limit: 6 });
        expect(first.next_cursor).not.toBeNull();
        const last = await store.listSessions({ limit: 6, cursor: first.next_cursor! });
        expect(last).toMatchObject({ total: 7, next_cursor: null });
        expect(last.sessions.map((s) => s.session_id)).toEqual([everything[6]]);
        // Filters apply on cursor pages too.
        const alicePage = await store.listSessions({ user_id: 'alice', limit: 2 });
        const aliceRest = await store.listSessions({
          user_id: 'alice',
          limit: 10,
          cursor: alicePage.next_cursor!,
        });
        expect([...alicePage.sessions, ...aliceRest.sessions].map((s) => s.session_id)).toEqual(
          everything.filter((id) => ids.indexOf(id) % 2 === 0),
        );
        expect(aliceRest.total).toBe(4);
        // Offset pages carry a cursor too, so a client can switch to keyset paging.
        const byOffset = await store.listSessions({ limit: 2, offset: 2 });
        const afterOffset = await store.listSessions({ limit: 100, cursor: byOffset.next_cursor! });
        expect(afterOffset.sessions.map((s) => s.session_id)).toEqual(everything.slice(4));
      });

      it('neither skips nor repeats a session when others are created, updated or deleted between pages', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          ids.push(await store.createSession('alice'));
          clock.advance(1000);
        }
        const first = await store.listSessions({ limit: 2 });
        expect(first.sessions.map((s) => s.session_id)).toEqual([ids[5], ids[4]]);
        // Meanwhile: a new session arrives (it goes to the front), a seen one is updated (moves to the
        // front), an unseen one is deleted.
        const newcomer = await store.createSession('alice');
        clock.advance(1000);
        await store.addToHistory(ids[5]!, 'user', 'again');
        await store.deleteSession(ids[1]!);
        const rest: string[] = [];
        let cursor = first.next_cursor;
        while (cursor !== null) {
          const page = await store.listSessions({ limit: 2, cursor });
          rest.push(...page.sessions.map((s) => s.session_id));
          cursor = page.next_cursor;
        }
        expect(rest).toEqual([ids[3], ids[2], ids[0]]);
        expect(rest).not.toContain(newcomer);
        // Offset paging, for comparison, repeats a session of the first page after the same changes.
        const second = await store.listSessions({ limit: 2, offset: 2 });
        expect(second.sessions.map((s) => s.session_id)).toEqual([ids[4], ids[3]]);
      });

      it('refuses a malformed cursor, and a cursor with an offset, as validation errors', async () => {
        await store.createSession('alice');
        await store.createSession('alice');
        const { next_cursor } = await store.listSessions({ limit: 1 });
        for (const cursor of [
          'not a cursor!',
          Buffer.from('{"a":1}').toString('base64url'),
          Buffer.from('["2026-02-30T00:00:00.000Z","x"]').toString('base64url'),
          Buffer.from('["yesterday","x"]').toString('base64url'),
          Buffer.from('["2026-01-05T12:00:00.000Z",""]').toString('base64url'),
          Buffer.from('["2026-01-05T12:00:00.000Z",7]').toString('base64url'),
          Buffer.from('[1').toString('base64url'),
        ]) {
          await expectAppError(store.listSessions({ cursor }), 'validation_error', /cursor/);
        }
        await expectAppError(store.listSessions({ cursor: '' }), 'validation_error', /cursor/);
        await expectAppError(
          store.listSessions({ cursor: next_cursor!, offset: 1 }),
          'validation_error',
          /cursor or offset/,
        );
      });

      it('deletes a session with its history, invocations and context', async () => {
        const keep = await store.createSession('alice');
        const id = await store.createSession('alice');
        for (const session of [keep, id]) {
          await store.addToHistory(session, 'user', 'hi');
          await store.trackInvocation(session, {
            agent_name: 'a',
            query: 'q',
            success: true,
            duration_ms: 1,
          });
        }
        await store.deleteSession(id);
        await expectAppError(store.getSession(id), 'session_not_found');
        await expectAppError(store.getConversationHistory(id), 'session_not_found');
        await expectAppError(store.deleteSession(id), 'session_not_found');
        const kept = await store.getSession(keep);
        expect(kept.conversation_history).toHaveLength(1);
        expect(kept.agents_invoked).toHaveLength(1);
        expect(kept.last_agent_called).toBe('a');
      });
    });

    describe('retention', () => {
      it('deletes old completed and expired sessions, expires idle active ones, and reports counts', async () => {
        const oldCompleted = await store.createSession('alice');
        await store.addToHistory(oldCompleted, 'user', 'one');
        await store.addToHistory(oldCompleted, 'assistant', 'two');
        await store.trackInvocation(oldCompleted, {
          agent_name: 'a',
          query: 'q',
          success: true,
          duration_ms: 1,
        });
        await store.updateSessionStatus(oldCompleted, 'completed');
        const oldExpired = await store.createSession('alice');
        await store.updateSessionStatus(oldExpired, 'expired');
        const idleActive = await store.createSession('bob');
        clock.advanceDays(6);
        const recentCompleted = await store.createSession('alice');
        await store.updateSessionStatus(recentCompleted, 'completed');
        clock.advanceDays(2);
        const freshActive = await store.createSession('carol');
        clock.advance(30 * MINUTE);

        const result = await store.cleanupOldSessions(7, { idleTimeoutMinutes: 60 });
        expect(result).toEqual({
          deleted_sessions: 2,
          deleted_messages: 2,
          deleted_invocations: 1,
          expired_sessions: 1,
        });
        await expectAppError(store.getSession(oldCompleted), 'session_not_found');
        await expectAppError(store.getSession(oldExpired), 'session_not_found');
        expect((await store.getSession(recentCompleted)).status).toBe('completed');
        expect((await store.getSession(freshActive)).status).toBe('active');
        const expired = await store.getSession(idleActive);
        expect(expired.status).toBe('expired');
        // Expiry restarts the retention clock: the session is kept `days` after it expired.
        expect(expired.updated_at).toBe(clock.now().toISOString());
        expect(await store.cleanupOldSessions(7, { idleTimeoutMinutes: 60 })).toEqual({
          deleted_sessions: 0,
          deleted_messages: 0,
          deleted_invocations: 0,
          expired_sessions: 0,
        });
        clock.advanceDays(8);
        const later = await store.cleanupOldSessions();
        expect(later).toMatchObject({ deleted_sessions: 2, expired_sessions: 1 });
        expect((await store.getSession(freshActive)).status).toBe('expired');
      });

      it('uses 7 days and a one-day idle timeout by default', async () => {
        const completed = await store.createSession('alice');
        await store.updateSessionStatus(completed, 'completed');
        const active = await store.createSession('alice');
        clock.advance(7 * DAY - 1);
        expect(await store.cleanupOldSessions()).toMatchObject({ deleted_sessions: 0, expired_sessions: 1 });
        clock.advance(2);
        expect(await store.cleanupOldSessions()).toMatchObject({ deleted_sessions: 1, expired_sessions: 0 });
        expect((await store.getSession(active)).status).toBe('expired');
      });

      it('handles more sessions than one cleanup chunk', async () => {
        const ids = await Promise.all(Array.from({ length: 1203 }, () => store.createSession('bulk')));
        await Promise.all(ids.slice(0, 1100).map((id) => store.updateSessionStatus(id, 'completed')));
        await Promise.all(ids.slice(0, 600).map((id) => store.addToHistory(id, 'user', 'x')));
        clock.advanceDays(30);
        const result = await store.cleanupOldSessions(7, { idleTimeoutMinutes: 1 });
        expect(result).toEqual({
          deleted_sessions: 1100,
          deleted_messages: 600,
          deleted_invocations: 0,
          expired_sessions: 103,
        });
        expect((await store.listSessions({ user_id: 'bulk' })).total).toBe(103);
      });

      it('refuses bad retention arguments', async () => {
        await expectAppError(store.cleanupOldSessions(-1), 'validation_error', /days/);
        await expectAppError(store.cleanupOldSessions(Number.NaN), 'validation_error', /days/);
        await expectAppError(
          store.cleanupOldSessions(7, { idleTimeoutMinutes: 0 }),
          'validation_error',
          /idleTimeout/,
        );
      });
    });

    describe('concurrent access', () => {
      it('neither loses nor misattributes a row with many concurrent writers', async () => {
        const sessions = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.createSession(`user${i}`)),
        );
        const perSession = 40;
        await Promise.all(
          sessions.map(async (id, s) => {
            for (let i = 0; i < perSession; i++) {
              await store.addToHistory(id, i % 2 === 0 ? 'user' : 'assistant', `s${s}-m${i}`);
              if (i % 10 === 0) {
                await store.trackInvocation(id, {
                  agent_name: `agent${s}`,
                  query: `s${s}-q${i}`,
                  success: true,
                  duration_ms: i,
                });
              }
            }
          }),
        );
        for (const [s, id] of sessions.entries()) {
          const session = await store.getSession(id);
          expect(session.user_id).toBe(`user${s}`);
          expect(session.conversation_history.map((entry) => entry.content)).toEqual(
            Array.from({ length: perSession }, (_, i) => `s${s}-m${i}`),
          );
          expect(session.agents_invoked.map((call) => call.query)).toEqual(
            ['q0', 'q10', 'q20', 'q30'].map((q) => `s${s}-${q}`),
          );
          expect(session.last_agent_called).toBe(`agent${s}`);
        }
      });

      it('keeps all appends fired at once, in call order', async () => {
        const id = await store.createSession('alice');
        await Promise.all(Array.from({ length: 2000 }, (_, i) => store.addToHistory(id, 'user', `m${i}`)));
        const contents = (await store.getConversationHistory(id)).map((entry) => entry.content);
        expect(contents).toEqual(Array.from({ length: 2000 }, (_, i) => `m${i}`));
      });

      it('fails only the bad write among concurrent ones', async () => {
        const id = await store.createSession('alice');
        const doomed = await store.createSession('alice');
        const results = await Promise.allSettled([
          store.addToHistory(id, 'user', 'first'),
          store.deleteSession(doomed),
          store.addToHistory(doomed, 'user', 'lost'),
          store.addToHistory('missing', 'user', 'nowhere'),
          store.trackInvocation(doomed, { agent_name: 'a', query: 'q', success: true, duration_ms: 1 }),
          store.addToHistory(id, 'assistant', 'second'),
          store.updateSessionStatus(id, 'completed'),
        ]);
        expect(results.map((r) => r.status)).toEqual([
          'fulfilled',
          'fulfilled',
          'rejected',
          'rejected',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        for (const result of results) {
          if (result.status === 'rejected')
            expect((result.reason as AppError).code).toBe('session_not_found');
        }
        const session = await store.getSession(id);
        expect(session.conversation_history.map((entry) => entry.content)).toEqual(['first', 'second']);
        expect(session.status).toBe('completed');
        await expectAppError(store.getSession(doomed), 'session_not_found');
      });
    });

    describe('ADK sessions', () => {
      const event = (id: string, timestamp: number, extra: Record<string, unknown> = {}) => ({
        id,
        invocationId: 'inv-1',
        author: 'user',
        timestamp,
        content: { role: 'user', parts: [{ text: `text of ${id} \u0000 ünï 👩‍💻` }] },
        actions: {
          stateDelta: {},
          artifactDelta: {},
          requestedAuthConfigs: {},
          requestedToolConfirmations: {},
        },
        ...extra,
      });
      const append = (e: Record<string, unknown>, deltas: Record<string, Record<string, unknown>> = {}) => ({
        event: e,
        state_delta: deltas.session ?? {},
        app_state_delta: deltas.app ?? {},
        user_state_delta: deltas.user ?? {},
        last_update_time: e.timestamp as number,
      });

      it('creates one with a given or a new id, beside an ordinary session of the same id', async () => {
        const given = await store.createAdkSession({
          session_id: 'adk-1',
          app_name: 'app',
          user_id: 'alice',
          state: { k: 1 },
          last_update_time: 1000,
        });
        expect(given).toEqual({
          session_id: 'adk-1',
          app_name: 'app',
          user_id: 'alice',
          state: { k: 1 },
          last_update_time: 1000,
        });
        const fresh = await store.createAdkSession({
          app_name: 'app',
          user_id: 'bob',
          state: {},
          last_update_time: 2,
        });
        expect(fresh.session_id).toMatch(/^[0-9a-f-]{36}$/);
        // The same session in the seed's tables: history, invocations and listing keep their contract.
        expect((await store.getSession('adk-1')).user_id).toBe('alice');
        await store.addToHistory('adk-1', 'user', 'hello');
        expect((await store.getConversationHistory('adk-1')).map((m) => m.content)).toEqual(['hello']);
        // An ordinary session gains ADK data once; another user's id or a second creation is refused.
        const plain = await store.createSession('carol');
        expect(await store.getAdkSession(plain, 'app')).toBeUndefined();
        await store.createAdkSession({
          session_id: plain,
          app_name: 'app',
          user_id: 'carol',
          state: {},
          last_update_time: 3,
        });
        expect((await store.getAdkSession(plain, 'app'))?.app_name).toBe('app');
        await expectAppError(
          store.createAdkSession({
            session_id: plain,
            app_name: 'app',
            user_id: 'carol',
            state: {},
            last_update_time: 3,
          }),
          'session_exists',
        );
        const other = await store.createSession('dave');
        await expectAppError(
          store.createAdkSession({
            session_id: other,
            app_name: 'app',
            user_id: 'erin',
            state: {},
            last_update_time: 3,
          }),
          'session_exists',
        );
        expect(await store.getAdkSession(other, 'app')).toBeUndefined();
        expect((await store.listAdkSessions('app')).map((s) => s.session_id)).toEqual([
          'adk-1',
          fresh.session_id,
          plain,
        ]);
        expect((await store.listAdkSessions('app', 'bob')).map((s) => s.session_id)).toEqual([
          fresh.session_id,
        ]);
        expect(await store.listAdkSessions('other-app')).toEqual([]);
      });

      it('keeps events whole and in order, replaces a re-appended id, and merges state deltas', async () => {
        await store.createAdkSession({
          session_id: 's1',
          app_name: 'app',
          user_id: 'alice',
          state: { a: 1 },
          last_update_time: 10,
        });
        await store.createAdkSession({
          session_id: 's2',
          app_name: 'app',
          user_id: 'alice',
          state: {},
          last_update_time: 10,
        });
        const first = event('e1', 11.5, { longRunningToolIds: ['t'], custom: { nested: [1, null, 'x'] } });
        await store.appendAdkEvent(
          's1',
          'app',
          append(first, { session: { b: 2 }, app: { theme: 'dark' }, user: { lang: 'en' } }),
        );
        await store.appendAdkEvent('s1', 'app', append(event('e2', 12), { session: { a: 3 } }));
        const replaced = event('e1', 13, { author: 'model' });
        await store.appendAdkEvent('s1', 'app', append(replaced, { user: { lang: 'fr', tz: 'UTC' } }));
        const version = await store.getSessionVersion('s1');
        const stored = await store.getAdkSession('s1', 'app');
        expect(stored).toEqual({
          session_id: 's1',
          app_name: 'app',
          user_id: 'alice',
          state: { a: 3, b: 2 },
          last_update_time: 13,
          events: [replaced, event('e2', 12)],
          app_state: { theme: 'dark' },
          user_state: { lang: 'fr', tz: 'UTC' },
        });
        expect(JSON.stringify(stored?.events[1])).toBe(JSON.stringify(event('e2', 12)));
        // App state is the app's, user state the user's, in every session of theirs.
        expect(await store.getAdkSession('s2', 'app')).toMatchObject({
          app_state: { theme: 'dark' },
          user_state: { lang: 'fr' },
          events: [],
        });
        // Appends change the session's version and are refused for unknown sessions, changing nothing.
        expect(version).toBeGreaterThan(0);
        await expectAppError(
          store.appendAdkEvent('nope', 'app', append(event('e3', 14))),
          'session_not_found',
        );
        const plain = await store.createSession('alice');
        await expectAppError(
          store.appendAdkEvent(plain, 'app', append(event('e3', 14))),
          'session_not_found',
        );
        await expectAppError(
          store.appendAdkEvent('s1', 'app', append({ ...event('e3', 14), id: '' })),
          'validation_error',
          /event.id/,
        );
        await expectAppError(
          store.appendAdkEvent('s1', 'app', { ...append(event('e3', 14)), state_delta: [] as never }),
          'validation_error',
          /state_delta/,
        );
        await expectAppError(
          store.appendAdkEvent('s1', 'app', append({ ...event('e3', Number.NaN) })),
          'validation_error',
          /timestamp/,
        );
        expect(await store.getSessionVersion('s1')).toBe(version);
        expect((await store.getAdkSession('s1', 'app'))?.events).toHaveLength(2);
      });

      it('makes one session an ADK session of several apps, each with its own events and state', async () => {
        const id = await store.createSession('alice');
        for (const app of ['jarvis/tickets', 'jarvis/finops']) {
          await store.createAdkSession({
            session_id: id,
            app_name: app,
            user_id: 'alice',
            state: {},
            last_update_time: 1,
          });
        }
        await store.appendAdkEvent(id, 'jarvis/tickets', append(event('e1', 2), { session: { n: 1 } }));
        await store.appendAdkEvent(id, 'jarvis/finops', append(event('e1', 3, { author: 'finops' })));
        expect(await store.getAdkSession(id, 'jarvis/tickets')).toMatchObject({
          state: { n: 1 },
          events: [event('e1', 2)],
        });
        expect(await store.getAdkSession(id, 'jarvis/finops')).toMatchObject({
          state: {},
          events: [event('e1', 3, { author: 'finops' })],
        });
        expect(await store.getAdkSession(id, 'jarvis/oxygen')).toBeUndefined();
        await expectAppError(
          store.appendAdkEvent(id, 'jarvis/oxygen', append(event('e2', 4))),
          'session_not_found',
        );
        await store.deleteSession(id);
        expect(await store.getAdkSession(id, 'jarvis/tickets')).toBeUndefined();
      });

      it('refuses bad input and forgets the events with the session, keeping app and user state', async () => {
        await expectAppError(
          store.createAdkSession({ app_name: '', user_id: 'alice', state: {}, last_update_time: 1 }),
          'validation_error',
          /app_name/,
        );
        await expectAppError(
          store.createAdkSession({
            app_name: 'app',
            user_id: 'alice',
            state: JSON.parse('{"__proto__": 1}'),
            last_update_time: 1,
          }),
          'validation_error',
        );
        await expectAppError(
          store.createAdkSession({ app_name: 'app', user_id: 'alice', state: {}, last_update_time: -1 }),
          'validation_error',
          /last_update_time/,
        );
        await expectAppError(store.listAdkSessions(''), 'validation_error', /app_name/);
        await store.createAdkSession({
          session_id: 'gone',
          app_name: 'app',
          user_id: 'alice',
          state: {},
          last_update_time: 1,
        });
        await store.appendAdkEvent('gone', 'app', append(event('e1', 2), { app: { x: 1 }, user: { y: 2 } }));
        await store.deleteSession('gone');
        expect(await store.getAdkSession('gone', 'app')).toBeUndefined();
        expect(await store.listAdkSessions('app')).toEqual([]);
        await store.createAdkSession({
          session_id: 'again',
          app_name: 'app',
          user_id: 'alice',
          state: {},
          last_update_time: 3,
        });
        expect(await store.getAdkSession('again', 'app')).toMatchObject({
          events: [],
          app_state: { x: 1 },
          user_state: { y: 2 },
        });
      });
    });

    describe('routing decision log', () => {
      const decision = (overrides: Partial<RoutingDecisionInput> = {}): RoutingDecisionInput => ({
        at: clock.now().toISOString(),
        query: 'show my open tickets',
        query_hashed: false,
        candidates: [
          { name: 'tickets_agent', score: 0.91 },
          { name: 'finops_agent', score: 0.03 },
        ],
        selected: ['tickets_agent'],
        follow_up: false,
        revision: 3,
        session_id: null,
        ...overrides,
      });

      it('stores a batch and reads it back newest first, every field intact', async () => {
        expect(await store.listDecisions()).toEqual({ decisions: [], next_cursor: null });
        const session = await store.createSession('alice');
        const first = decision({ session_id: session, query: 'naïve \u0000 query — ünïcode 🎫' });
        clock.advance(1000);
        const second = decision({
          query: 'sha256:ab',
          query_hashed: true,
          selected: [],
          candidates: [],
          follow_up: true,
          revision: 4,
        });
        await store.recordDecisions([first, second]);
        await store.recordDecisions([]);
        expect(await store.listDecisions()).toEqual({ decisions: [second, first], next_cursor: null });
      });

      it('pages with a keyset cursor and filters by session, selected agent and time', async () => {
        const alice = await store.createSession('alice');
        const batch: RoutingDecisionInput[] = [];
        for (let i = 0; i < 7; i++) {
          batch.push(
            decision({
              query: `q${i}`,
              session_id: i % 2 === 0 ? alice : null,
              selected: i % 3 === 0 ? ['finops_agent', 'tickets_agent'] : ['tickets_agent'],
            }),
          );
          clock.advance(MINUTE);
        }
        await store.recordDecisions(batch);
        const queries = (list: { decisions: { query: string }[] }) => list.decisions.map((d) => d.query);
        const page1 = await store.listDecisions({ limit: 3 });
        expect(queries(page1)).toEqual(['q6', 'q5', 'q4']);
        const page2 = await store.listDecisions({ limit: 3, cursor: page1.next_cursor! });
        expect(queries(page2)).toEqual(['q3', 'q2', 'q1']);
        const page3 = await store.listDecisions({ limit: 3, cursor: page2.next_cursor! });
        expect(queries(page3)).toEqual(['q0']);
        expect(page3.next_cursor).toBeNull();
        // A decision logged meanwhile does not shift the pages after the cursor.
        await store.recordDecisions([decision({ query: 'late' })]);
        expect(queries(await store.listDecisions({ limit: 3, cursor: page1.next_cursor! }))).toEqual([
          'q3',
          'q2',
          'q1',
        ]);
        expect(queries(await store.listDecisions({ session_id: alice }))).toEqual(['q6', 'q4', 'q2', 'q0']);
        expect(queries(await store.listDecisions({ agent: 'finops_agent' }))).toEqual(['q6', 'q3', 'q0']);
        expect(queries(await store.listDecisions({ agent: 'finops_agent', session_id: alice }))).toEqual([
          'q6',
          'q0',
        ]);
        const since = new Date(Date.parse(batch[5]!.at)).toISOString();
        expect(queries(await store.listDecisions({ since }))).toEqual(['late', 'q6', 'q5']);
        expect(await store.listDecisions({ agent: 'nobody' })).toEqual({ decisions: [], next_cursor: null });
      });

      it('refuses bad input and stores nothing of a bad batch', async () => {
        await expectAppError(store.listDecisions({ cursor: 'not-a-cursor' }), 'validation_error', /cursor/);
        await expectAppError(
          store.listDecisions({ cursor: Buffer.from('d:0').toString('base64url') }),
          'validation_error',
        );
        await expectAppError(store.listDecisions({ limit: 0 }), 'validation_error', /limit/);
        await expectAppError(store.listDecisions({ limit: 501 }), 'validation_error', /limit/);
        await expectAppError(store.listDecisions({ since: 'yesterday' }), 'validation_error', /since/);
        await expectAppError(
          store.listDecisions({ color: 'red' } as unknown as DecisionListQuery),
          'validation_error',
        );
        await expectAppError(
          store.recordDecisions([decision(), decision({ revision: -1 })]),
          'validation_error',
          /routing decision 1/,
        );
        await expectAppError(store.recordDecisions([decision({ at: 'then' })]), 'validation_error', /at/);
        await expectAppError(
          store.recordDecisions([decision({ query: 'x'.repeat(4001) })]),
          'validation_error',
          /query/,
        );
        await expectAppError(store.pruneDecisions(-1, 10), 'validation_error', /days/);
        await expectAppError(store.pruneDecisions(1, 0), 'validation_error', /keep/);
        expect((await store.listDecisions()).decisions).toEqual([]);
      });

      it('deleting a session, or its retention, deletes its decisions', async () => {
        const gone = await store.createSession('alice');
        const old = await store.createSession('bob');
        const kept = await store.createSession('carol');
        await store.recordDecisions([
          decision({ session_id: gone, query: 'a' }),
          decision({ session_id: old, query: 'b' }),
          decision({ session_id: kept, query: 'c' }),
          decision({ query: 'd' }),
        ]);
        await store.deleteSession(gone);
        await store.updateSessionStatus(old, 'completed');
        clock.advanceDays(8);
        await store.trackInvocation(kept, { agent_name: 'a', query: 'q', success: true, duration_ms: 1 });
        await store.cleanupOldSessions(7, { idleTimeoutMinutes: 60 * 24 * 30 });
        const left = (await store.listDecisions()).decisions.map((d) => d.query);
        expect(left).toEqual(['d', 'c']);
      });

      it('prunes decisions older than the retention period, then all but the newest `keep`', async () => {
        await store.recordDecisions([decision({ query: 'old1' }), decision({ query: 'old2' })]);
        clock.advanceDays(3);
        await store.recordDecisions(
          Array.from({ length: 5 }, (_, i) => decision({ at: clock.now().toISOString(), query: `new${i}` })),
        );
        expect(await store.pruneDecisions(2, 3)).toEqual({ expired: 2, over_cap: 2 });
        expect((await store.listDecisions()).decisions.map((d) => d.query)).toEqual(['new4', 'new3', 'new2']);
        expect(await store.pruneDecisions(2, 3)).toEqual({ expired: 0, over_cap: 0 });
      });
    });

    describe('health and lifecycle', () => {
      it('reports ok while open and unavailable after close', async () => {
        expect(await store.health()).toMatchObject({ status: 'ok', backend: store.backend });
        const pending = store.addToHistory(await store.createSession('alice'), 'user', 'queued before close');
        await store.close();
        await pending;
        expect(await store.health()).toMatchObject({ status: 'unavailable' });
        await expectAppError(store.createSession('alice'), 'database_unavailable', /closed/);
        await expectAppError(store.getSession('any'), 'database_unavailable', /closed/);
        await store.close();
      });
    });
  });
}
