/**
 * @module bench/sessions
 * Session store throughput and read latency: the SQLite store against Google ADK's `DatabaseSessionService`
 * on SQLite, then the PostgreSQL store next to the SQLite store, each pair with the same workload in the
 * same run: durable appends and a 1,000-message read.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Session as AdkSession, createEvent, DatabaseSessionService } from '@google/adk';
import pg from 'pg';
import { PostgresSessionStore } from '../src/sessions/postgres-session-store.js';
import type { SessionStore } from '../src/sessions/session-store.js';
import { SqliteSessionStore } from '../src/sessions/sqlite-session-store.js';
import { type BenchSuite, measureInterleaved, ms, type Report, ratio } from './harness.js';

/** The server's maintenance database; the bench creates its own database next to it and drops it after. */
const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const APP = 'bench';
const MESSAGE =
  'Show me the open tickets assigned to my team for the payments service, newest first. '.repeat(2);
/** Targets from the issue. */
const TARGET_APPENDS_PER_SECOND = 5000;
const TARGET_READ_MEDIAN_MS = 2;
const ROUNDS = 3;

interface AppendTarget {
  name: string;
  /** Prepare `sessions` sessions; returns an append function per session. */
  sessions(count: number): Promise<((i: number) => Promise<unknown>)[]>;
}

interface Throughput {
  appends: number;
  seconds: number;
  failed: number;
}

/** Run appends `from`..`to` (exclusive) on every session, keeping `inFlight` running per session. */
async function runAppends(
  appenders: ((i: number) => Promise<unknown>)[],
  from: number,
  to: number,
  inFlight: number,
): Promise<Throughput> {
  let failed = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    appenders.map(async (append) => {
      let next = from;
      const lane = async () => {
        while (next < to) {
          const i = next++;
          await append(i).catch(() => failed++);
        }
      };
      await Promise.all(Array.from({ length: inFlight }, lane));
    }),
  );
  return {
    appends: appenders.length * (to - from),
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    failed,
  };
}

function ours(store: SessionStore, name = 'SqliteSessionStore'): AppendTarget {
  return {
    name,
    async sessions(count) {
      const ids = await Promise.all(Array.from({ length: count }, (_, i) => store.createSession(`user${i}`)));
      return ids.map(
        (id) => (i: number) => store.addToHistory(id, i % 2 === 0 ? 'user' : 'assistant', `${i} ${MESSAGE}`),
      );
    },
  };
}

function adk(service: DatabaseSessionService): AppendTarget & {
  appendersFor(sessions: AdkSession[]): ((i: number) => Promise<unknown>)[];
} {
  const appendersFor = (sessions: AdkSession[]) =>
    sessions.map(
      (session) => (i: number) =>
        service.appendEvent({
          session,
          event: createEvent({
            invocationId: `inv-${i}`,
            author: i % 2 === 0 ? 'user' : 'model',
            content: { role: i % 2 === 0 ? 'user' : 'model', parts: [{ text: `${i} ${MESSAGE}` }] },
          }),
        }),
    );
  return {
    name: 'ADK DatabaseSessionService',
    appendersFor,
    async sessions(count) {
      const sessions: AdkSession[] = [];
      for (let i = 0; i < count; i++)
        sessions.push(await service.createSession({ appName: APP, userId: `user${i}` }));
      return appendersFor(sessions);
    },
  };
}

export const suite: BenchSuite = {
  name: 'sessions',
  async run(report: Report) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-sessions-'));
    const store = await SqliteSessionStore.open(path.join(dir, 'sessions.db'));
    const service = new DatabaseSessionService(`sqlite://${path.join(dir, 'adk.db')}`);
    try {
      await service.init();
      const targets = [ours(store), adk(service)];
      // ADK commits each append on its own (about 100/s), so it gets fewer appends; rates are per second.
      const scenarios = [
        { name: 'one session, one append at a time', sessions: 1, inFlight: 1, counts: [1500, 150] },
        { name: 'one session, 64 appends in flight', sessions: 1, inFlight: 64, counts: [15_000, 150] },
        {
          name: '20 sessions in parallel, one append at a time each',
          sessions: 20,
          inFlight: 1,
          counts: [300, 8],
        },
        { name: '20 sessions in parallel, 16 in flight each', sessions: 20, inFlight: 16, counts: [750, 9] },
      ];

      report.section('Session store: durable appends (SQLite, fsync on every commit)');
      report.text(
        'Our store: WAL, `synchronous=FULL`, group commit (writes queued in one event-loop turn share one ' +
          'transaction and one fsync; each promise resolves after its commit). ADK: `DatabaseSessionService` ' +
          `(@google/adk, MikroORM 6.6.16 on sqlite3, SQLite defaults: rollback journal, synchronous=FULL). ` +
          'Same machine, same disk, same run; a message is ~170 bytes of text.',
      );
      const rows: (string | number)[][] = [];
      const appendResults: Record<string, unknown>[] = [];
      for (const scenario of scenarios) {
        const appenders = [];
        for (const target of targets) appenders.push(await target.sessions(scenario.sessions));
        const totals = targets.map(() => ({ appends: 0, seconds: 0, failed: 0 }));
        // Rounds alternate ours and ADK, so the drift of a shared disk hits both alike.
        for (let round = 0; round < ROUNDS; round++) {
          for (const [t, count] of scenario.counts.entries()) {
            const share = Math.ceil(count / ROUNDS);
            const result = await runAppends(
              appenders[t]!,
              round * share,
              (round + 1) * share,
              scenario.inFlight,
            );
            totals[t]!.appends += result.appends;
            totals[t]!.seconds += result.seconds;
            totals[t]!.failed += result.failed;
          }
        }
        const [mine, theirs] = totals.map((total) => ({ ...total, rate: total.appends / total.seconds })) as [
          Throughput & { rate: number },
          Throughput & { rate: number },
        ];
        rows.push([
          scenario.name,
          Math.round(mine.rate),
          `${Math.round(theirs.rate)}${theirs.failed > 0 ? ` (${theirs.failed} failed)` : ''}`,
          ratio(mine.rate, theirs.rate),
        ]);
        appendResults.push({ scenario: scenario.name, ours: mine, adk: theirs });
      }
      report.table(['workload', 'ours appends/s', 'ADK appends/s', 'ours / ADK'], rows);

      report.section('Session store: get_session of a 1,000-message session');
      const ourId = await store.createSession('reader');
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          store.addToHistory(ourId, i % 2 === 0 ? 'user' : 'assistant', `${i} ${MESSAGE}`),
        ),
      );
      const adkSession = await service.createSession({ appName: APP, userId: 'reader' });
      const [adkAppend] = adk(service).appendersFor([adkSession]);
      for (let i = 0; i < 1000; i++) await adkAppend!(i);
      let adkEvents = 0;
      let ourMessages = 0;
      const reads = await measureInterleaved(
        {
          ours: async () => {
            ourMessages = (await store.getSession(ourId)).conversation_history.length;
          },
          adk: async () => {
            adkEvents =
              (await service.getSession({ appName: APP, userId: 'reader', sessionId: adkSession.id }))?.events
                .length ?? 0;
          },
        },
        { iterations: 100, warmup: 5 },
      );
      report.text(
        `Reads interleaved (ours, ADK, ours, ...), 100 each after 5 warm-up reads; ours returned ${ourMessages} ` +
          `messages, ADK ${adkEvents} events.`,
      );
      report.table(
        ['store', 'median', 'p99', 'mean'],
        [
          [
            'SqliteSessionStore.getSession',
            ms(reads.ours!.median),
            ms(reads.ours!.p99),
            ms(reads.ours!.mean),
          ],
          [
            'ADK DatabaseSessionService.getSession',
            ms(reads.adk!.median),
            ms(reads.adk!.p99),
            ms(reads.adk!.mean),
          ],
          ['ADK / ours (median)', ratio(reads.adk!.median, reads.ours!.median), '', ''],
        ],
      );

      report.scenario('session_read', {
        median: reads.ours!.median,
        p99: reads.ours!.p99,
        how: 'SqliteSessionStore.getSession of a 1,000-message session, in process',
        anchor: {
          name: 'ADK DatabaseSessionService.getSession',
          median: reads.adk!.median,
          p99: reads.adk!.p99,
        },
      });

      // The first workload has one write in flight: one commit, so one fsync, per append whatever the store.
      const concurrent = appendResults.slice(1).map((result) => (result.ours as { rate: number }).rate);
      const slowest = Math.min(...concurrent);
      report.text(
        `Targets: >= ${TARGET_APPENDS_PER_SECOND} durable appends/s with concurrent writers: ` +
          `${slowest >= TARGET_APPENDS_PER_SECOND ? 'met' : 'NOT met'} (slowest concurrent workload ${Math.round(slowest)}/s); ` +
          `1,000-message read <= ${TARGET_READ_MEDIAN_MS} ms median: ` +
          `${reads.ours!.median <= TARGET_READ_MEDIAN_MS ? 'met' : 'NOT met'} (${ms(reads.ours!.median)}). ` +
          'A single caller awaiting each append waits for one fsync per append (the first row).',
      );
      report.record('sessions', { appends: appendResults, get_session_1000: reads });
      await comparePostgres(report, store);
    } finally {
      await store.close();
      await (service as unknown as { orm?: { close(): Promise<void> } }).orm?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Run the same scenarios on several stores, rounds alternating between them; appends per second each. */
async function compareAppends(
  targets: AppendTarget[],
  scenarios: { name: string; sessions: number; inFlight: number; appendsPerSession: number }[],
): Promise<{ scenario: string; results: (Throughput & { rate: number })[] }[]> {
  const out = [];
  for (const scenario of scenarios) {
    const appenders = [];
    for (const target of targets) appenders.push(await target.sessions(scenario.sessions));
    const totals = targets.map(() => ({ appends: 0, seconds: 0, failed: 0 }));
    const share = Math.ceil(scenario.appendsPerSession / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets.keys()) {
        const result = await runAppends(appenders[t]!, round * share, (round + 1) * share, scenario.inFlight);
        totals[t]!.appends += result.appends;
        totals[t]!.seconds += result.seconds;
        totals[t]!.failed += result.failed;
      }
    }
    out.push({
      scenario: scenario.name,
      results: totals.map((total) => ({ ...total, rate: total.appends / total.seconds })),
    });
  }
  return out;
}

/** A fresh database on the bench server, or why there is none. */
async function createBenchDatabase(): Promise<
  { url: string; drop(): Promise<void> } | { unavailable: string }
> {
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: BENCH_DATABASE_URL, connectionTimeoutMillis: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query(sql);
    } finally {
      await client.end().catch(() => {});
    }
  };
  const name = `bench_sessions_${randomBytes(4).toString('hex')}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message || error.constructor.name : String(error) };
  }
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The PostgreSQL store next to the SQLite store: same appends, same 1,000-message read, same run. */
async function comparePostgres(report: Report, sqlite: SqliteSessionStore): Promise<void> {
  report.section('Session store: PostgreSQL next to SQLite (durable appends, 1,000-message read)');
  const database = await createBenchDatabase();
  if ('unavailable' in database) {
    report.text(`Skipped: no PostgreSQL server at ${BENCH_DATABASE_URL} (${database.unavailable}).`);
    return;
  }
  const postgres = await PostgresSessionStore.open(database.url);
  try {
    const server = await serverSettings(database.url);
    report.text(
      `Both stores acknowledge an append only after its commit is durable, and both group-commit concurrent ` +
        `writers. SQLite: WAL, synchronous=FULL, one file on the local disk. PostgreSQL: ${server}, on the same ` +
        'machine over TCP loopback (a pool of 10 connections; one write transaction in flight at a time per store). ' +
        `Rounds alternate the stores (${ROUNDS} rounds each), so the drift of the shared disk hits both alike.`,
    );
    const scenarios = [
      { name: 'one session, one append at a time', sessions: 1, inFlight: 1, appendsPerSession: 1500 },
      { name: 'one session, 64 appends in flight', sessions: 1, inFlight: 64, appendsPerSession: 15_000 },
      {
        name: '20 sessions in parallel, one append at a time each',
        sessions: 20,
        inFlight: 1,
        appendsPerSession: 150,
      },
      {
        name: '20 sessions in parallel, 16 in flight each',
        sessions: 20,
        inFlight: 16,
        appendsPerSession: 750,
      },
    ];
    const appends = await compareAppends(
      [ours(sqlite, 'SqliteSessionStore'), ours(postgres, 'PostgresSessionStore')],
      scenarios,
    );
    report.table(
      ['workload', 'SQLite appends/s', 'PostgreSQL appends/s', 'PostgreSQL / SQLite'],
      appends.map(({ scenario, results: [lite, post] }) => [
        scenario,
        Math.round(lite!.rate),
        `${Math.round(post!.rate)}${post!.failed > 0 ? ` (${post!.failed} failed)` : ''}`,
        ratio(post!.rate, lite!.rate),
      ]),
    );

    const ids = {
      sqlite: await sqlite.createSession('reader'),
      postgres: await postgres.createSession('reader'),
    };
    for (const [name, store] of [
      ['sqlite', sqlite],
      ['postgres', postgres],
    ] as const) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          store.addToHistory(ids[name], i % 2 === 0 ? 'user' : 'assistant', `${i} ${MESSAGE}`),
        ),
      );
    }
    const counts = { sqlite: 0, postgres: 0 };
    const reads = await measureInterleaved(
      {
        sqlite: async () => {
          counts.sqlite = (await sqlite.getSession(ids.sqlite)).conversation_history.length;
        },
        postgres: async () => {
          counts.postgres = (await postgres.getSession(ids.postgres)).conversation_history.length;
        },
      },
      { iterations: 200, warmup: 10 },
    );
    report.text(
      `getSession of a 1,000-message session, interleaved (SQLite, PostgreSQL, ...), 200 each after 10 warm-up ` +
        `reads; SQLite returned ${counts.sqlite} messages, PostgreSQL ${counts.postgres}.`,
    );
    report.table(
      ['store', 'median', 'p99', 'mean'],
      [
        [
          'SqliteSessionStore.getSession',
          ms(reads.sqlite!.median),
          ms(reads.sqlite!.p99),
          ms(reads.sqlite!.mean),
        ],
        [
          'PostgresSessionStore.getSession',
          ms(reads.postgres!.median),
          ms(reads.postgres!.p99),
          ms(reads.postgres!.mean),
        ],
        ['PostgreSQL / SQLite (median)', ratio(reads.postgres!.median, reads.sqlite!.median), '', ''],
      ],
    );
    report.record('sessions_postgres', { server, appends, get_session_1000: reads });
  } finally {
    await postgres.close();
    await database.drop();
  }
}

/** The server settings that decide what a commit costs. */
async function serverSettings(url: string): Promise<string> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{
      version: string;
      fsync: string;
      wal_sync_method: string;
      synchronous_commit: string;
    }>(
      `SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
         current_setting('wal_sync_method') AS wal_sync_method, current_setting('synchronous_commit') AS synchronous_commit`,
    );
    const row = rows[0]!;
    return `PostgreSQL ${row.version}, fsync=${row.fsync}, wal_sync_method=${row.wal_sync_method}, synchronous_commit=${row.synchronous_commit}`;
  } finally {
    await client.end();
  }
}
