/**
 * StoreSessionService checked against ADK's own InMemorySessionService: the same scenarios run on both, and
 * the results are compared field by field (sessions, state, events, listings), on SQLite and on PostgreSQL;
 * then a real Runner with a demo agent, and the session read back after the store is reopened.
 */
import path from 'node:path';
import {
  type BaseSessionService,
  createEvent,
  type Event,
  InMemorySessionService,
  isFinalResponse,
  Runner,
  type Session,
} from '@google/adk';
import { describe, expect, it } from 'vitest';
import { buildDemoAgent } from '../../jarvis_agent/mcp_agents/demo-agent.js';
import { OfflineLlm } from '../../jarvis_agent/offline-model/offline-llm.js';
import { StoreSessionService } from '../../src/adk/store-session-service.js';
import { PostgresSessionStore } from '../../src/sessions/postgres-session-store.js';
import type { SessionStore } from '../../src/sessions/session-store.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { expectAppError } from '../sessions/session-store.contract.js';
import { useTestPostgres } from '../support/postgres.js';
import { useTempDirs } from '../support/temp-dir.js';

const postgres = await useTestPostgres('adk-session-service');
const tempDir = useTempDirs('adk-session-service-');

interface Backend {
  name: string;
  available: boolean;
  /** A new store; `reopen` opens the same database again (a restart). */
  open(): Promise<{ store: SessionStore; reopen(): Promise<SessionStore> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    available: true,
    async open() {
      const file = path.join(tempDir(), 'sessions.db');
      return { store: await SqliteSessionStore.open(file), reopen: () => SqliteSessionStore.open(file) };
    },
  },
  {
    name: 'PostgreSQL',
    available: postgres.available,
    async open() {
      const url = await postgres.schema();
      return { store: await PostgresSessionStore.open(url), reopen: () => PostgresSessionStore.open(url) };
    },
  },
];

let clock = 1_700_000_000_000;
const tick = () => ++clock;

function event(id: string, extra: Partial<Event> = {}): Event {
  return createEvent({
    id,
    invocationId: 'inv',
    author: 'user',
    timestamp: tick(),
    content: { role: 'user', parts: [{ text: `${id}: ünï 👩‍💻` }] },
    ...extra,
  });
}

/** The same steps on any service; returns everything it observed, to compare. */
async function scenario(service: BaseSessionService): Promise<unknown[]> {
  const seen: unknown[] = [];
  const created = await service.createSession({
    appName: 'app',
    userId: 'alice',
    sessionId: 'session-a',
    state: { topic: 'tickets', 'temp:scratch': 1, 'app:given': true },
  });
  seen.push(created);
  const other = await service.createSession({ appName: 'app', userId: 'bob', sessionId: 'session-b' });
  seen.push(other);
  await service.createSession({ appName: 'other-app', userId: 'alice', sessionId: 'session-c' });

  const session = (await service.getSession({ appName: 'app', userId: 'alice', sessionId: 'session-a' }))!;
  const events = [
    event('e1'),
    event('e2', {
      author: 'tickets_agent',
      content: {
        role: 'model',
        parts: [{ functionCall: { id: 'call-1', name: 'list_tickets', args: { status: 'open' } } }],
      },
      actions: {
        stateDelta: { step: 1, 'app:theme': 'dark', 'user:lang': 'en', 'temp:x': 'gone' },
        artifactDelta: {},
        requestedAuthConfigs: {},
        requestedToolConfirmations: {},
      },
    }),
    event('e3', {
      author: 'tickets_agent',
      content: {
        role: 'user',
        parts: [
          {
            functionResponse: {
              id: 'call-1',
              name: 'list_tickets',
              response: { tickets: [{ id: 'INC-1' }] },
            },
          },
        ],
      },
    }),
    event('partial', { partial: true }),
    event('e4', {
      author: 'tickets_agent',
      actions: {
        stateDelta: { step: 2 },
        artifactDelta: {},
        requestedAuthConfigs: {},
        requestedToolConfirmations: {},
      },
    }),
  ];
  for (const e of events) seen.push(await service.appendEvent({ session, event: e }));
  seen.push(session);
  // Re-appending an event id replaces it in place.
  seen.push(await service.appendEvent({ session, event: { ...events[0]!, author: 'someone' } }));

  const read = (config?: { numRecentEvents?: number; afterTimestamp?: number }) =>
    service.getSession({
      appName: 'app',
      userId: 'alice',
      sessionId: 'session-a',
      ...(config && { config }),
    });
  seen.push(await read());
  seen.push(await read({ numRecentEvents: 2 }));
  seen.push(await read({ afterTimestamp: events[2]!.timestamp }));
  seen.push(await read({ afterTimestamp: 1 }));
  seen.push(await read({ numRecentEvents: 3, afterTimestamp: events[4]!.timestamp }));
  // App and user state reach the user's and the app's other sessions.
  seen.push(await service.getSession({ appName: 'app', userId: 'bob', sessionId: 'session-b' }));
  // The wrong app or user finds nothing.
  seen.push(await service.getSession({ appName: 'other-app', userId: 'alice', sessionId: 'session-a' }));
  seen.push(await service.getSession({ appName: 'app', userId: 'bob', sessionId: 'session-a' }));
  seen.push(await service.getSession({ appName: 'app', userId: 'alice', sessionId: 'nope' }));

  for (const request of [
    { appName: 'app' },
    { appName: 'app', userId: 'alice' },
    { appName: 'app', userId: 'nobody' },
    { appName: 'none' },
    { appName: 'app', order: 'asc' as const },
    { appName: 'app', order: 'desc' as const },
    { appName: 'app', order: 'asc' as const, limit: 1 },
    { appName: 'app', order: 'asc' as const, limit: 1, page: 2 },
    { appName: 'app', order: 'asc' as const, limit: 1, offset: 1 },
    { appName: 'app', order: 'asc' as const, offset: 1 },
    { appName: 'none', limit: 5 },
  ]) {
    seen.push(await service.listSessions(request));
  }
  const fetched = await service.getOrCreateSession({
    appName: 'app',
    userId: 'alice',
    sessionId: 'session-a',
  });
  seen.push(fetched.events.length);
  await service.deleteSession({ appName: 'app', userId: 'bob', sessionId: 'session-a' });
  seen.push((await read()) !== undefined);
  await service.deleteSession({ appName: 'app', userId: 'alice', sessionId: 'session-a' });
  await service.deleteSession({ appName: 'app', userId: 'alice', sessionId: 'session-a' });
  seen.push(await read());
  seen.push(await service.listSessions({ appName: 'app', order: 'asc' }));
  // The app's and the user's state outlive the session.
  seen.push((await service.createSession({ appName: 'app', userId: 'alice', sessionId: 'session-d' })).state);
  return seen;
}

/** Runs "list" then "second one" through a Runner; returns the function calls each turn made. */
async function ticketsChat(service: BaseSessionService, sessionId: string, query: string): Promise<string[]> {
  const agent = buildDemoAgent('tickets', new OfflineLlm(), { now: () => new Date('2025-06-12T10:00:00Z') });
  const runner = new Runner({ appName: 'jarvis', agent, sessionService: service });
  const calls: string[] = [];
  for await (const e of runner.runAsync({
    userId: 'alice',
    sessionId,
    newMessage: { role: 'user', parts: [{ text: query }] },
  })) {
    for (const part of e.content?.parts ?? []) {
      if (part.functionCall)
        calls.push(`${part.functionCall.name}(${JSON.stringify(part.functionCall.args)})`);
      if (part.text && isFinalResponse(e)) calls.push(`text: ${part.text.split('\n')[0]}`);
    }
  }
  return calls;
}

/** Events without what differs between two runs (ids, times): what the agent saw and did. */
function shape(session: Session | undefined): unknown {
  return session?.events.map((e) => ({
    author: e.author,
    content: JSON.parse(JSON.stringify(e.content ?? null).replace(/"id":"[^"]*"/g, '"id":"*"')),
  }));
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`StoreSessionService on ${backend.name}`, () => {
    it("answers every scenario exactly as ADK's InMemorySessionService does", async () => {
      const { store } = await backend.open();
      try {
        const start = clock;
        const expected = await scenario(new InMemorySessionService());
        clock = start;
        const ours = new StoreSessionService(store);
        const actual = await scenario(ours);
        // Field by field, except lastUpdateTime of fresh sessions (each service's own clock).
        const strip = (value: unknown) =>
          value === undefined
            ? undefined
            : JSON.parse(
                JSON.stringify(value, (key, v) => (key === 'lastUpdateTime' && v > start + 1e6 ? 0 : v)),
              );
        expect(actual).toHaveLength(expected.length);
        for (const [i, value] of expected.entries())
          expect(strip(actual[i]), `step ${i}`).toEqual(strip(value));
      } finally {
        await store.close();
      }
    });

    it('refuses what ADK would silently replace: an id that is already a session', async () => {
      const { store } = await backend.open();
      try {
        const service = new StoreSessionService(store, { now: () => 5 });
        const session = await service.createSession({ appName: 'app', userId: 'alice', sessionId: 'taken' });
        expect(session).toEqual({
          id: 'taken',
          appName: 'app',
          userId: 'alice',
          state: {},
          events: [],
          lastUpdateTime: 5,
        });
        await expectAppError(
          service.createSession({ appName: 'app', userId: 'alice', sessionId: 'taken' }),
          'session_exists',
        );
        expect((await service.createSession({ appName: 'app', userId: 'alice' })).id).toMatch(
          /^[0-9a-f-]{36}$/,
        );
      } finally {
        await store.close();
      }
    });

    it('gives a Runner its tool calls back after a restart: "the second one" needs no new listing', async () => {
      const { store, reopen } = await backend.open();
      const memory = new InMemorySessionService();
      let ours: StoreSessionService = new StoreSessionService(store);
      for (const service of [memory, ours]) {
        await service.createSession({ appName: 'jarvis', userId: 'alice', sessionId: 'chat-1' });
        expect(await ticketsChat(service, 'chat-1', 'show my open tickets')).toEqual([
          'list_tickets({"status":"open"})',
          expect.stringMatching(/^text: /),
        ]);
      }
      await store.close();
      const reopened = await reopen();
      try {
        ours = new StoreSessionService(reopened);
        const before = await ours.getSession({ appName: 'jarvis', userId: 'alice', sessionId: 'chat-1' });
        expect(shape(before)).toEqual(
          shape(await memory.getSession({ appName: 'jarvis', userId: 'alice', sessionId: 'chat-1' })),
        );
        const second = await ticketsChat(ours, 'chat-1', 'show details of the second one');
        expect(second[0]).toMatch(/^get_ticket_details\(\{"ticket_id":"INC-\d+"\}\)$/);
        expect(second.some((call) => call.startsWith('list_tickets'))).toBe(false);
        expect(second).toEqual(await ticketsChat(memory, 'chat-1', 'show details of the second one'));
      } finally {
        await reopened.close();
      }
    });
  });
}
