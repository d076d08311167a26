/**
 * @module sessions/postgres-session-store
 * The session store on PostgreSQL, for several replicas sharing one database: the SQLite store's tables
 * and behaviour, with writes group-committed (concurrent callers share one commit, each acknowledged only
 * after it; consecutive appends become one statement) and every read one snapshot: a single statement, or
 * for a whole session a read-only repeatable-read transaction.
 */

import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { applyPostgresMigrations } from '../postgres/migration-runner.js';
import { POSTGRES_MIGRATIONS } from '../postgres/migrations.js';
import { openPostgresDatabase } from '../postgres/postgres-database.js';
import { toPostgresError } from '../postgres/postgres-error.js';
import { type CombinedWrite, PostgresGroupCommit } from '../postgres/postgres-group-commit.js';
import type { PostgresPool, PostgresPoolOptions, PostgresQueryable } from '../postgres/postgres-pool.js';
import { decodeNullableText, decodeText, encodeNullableText, encodeText } from '../postgres/postgres-text.js';
import {
  type AdkEventAppend,
  type AdkSessionInput,
  type AdkSessionRecord,
  type AdkStoredSession,
  adkSessionExists,
  hasKeys,
  mergeStateJson,
  parseAdkAppend,
  parseAdkSession,
  parseAppName,
} from './adk-session-record.js';
import {
  type DecisionList,
  type DecisionListQuery,
  type DecisionPruneResult,
  encodeDecisionCursor,
  parseDecisionQuery,
  parseDecisions,
  parsePrune,
  type RoutingDecision,
  type RoutingDecisionInput,
} from './routing-decision.js';
import {
  type ParsedPage,
  pageWithCursor,
  parseCleanup,
  parseContext,
  parseGetSessionOptions,
  parseHistoryEntry,
  parseInvocation,
  parseListQuery,
  parsePage,
  parseSessionCreation,
  parseSessionId,
  parseStatus,
  sessionNotFound,
} from './session-input.js';
import type {
  CleanupResult,
  ContextInput,
  GetSessionOptions,
  HistoryEntry,
  Invocation,
  InvocationInput,
  MessageRole,
  Page,
  Session,
  SessionContext,
  SessionFields,
  SessionList,
  SessionListQuery,
  SessionMetadata,
  SessionStatus,
} from './session-record.js';
import type { CleanupOptions, SessionStore, SessionStoreHealth } from './session-store.js';

/** The pool options apply when `open` is given a URL (the store's own pool), not a shared pool. */
export interface PostgresSessionStoreOptions extends PostgresPoolOptions {
  /** The clock for every timestamp the store writes (default: the system clock). */
  now?: () => Date;
  /** Most writes per group transaction (default 512). */
  maxBatchSize?: number;
}

/** Retention deletes and expires in chunks, so appends interleave with a large cleanup. */
const CLEANUP_CHUNK = 500;

/** A timestamptz as the API writes it: ISO-8601 UTC with milliseconds, like the SQLite store's text. */
function iso(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

interface SummaryRow {
  session_id: string;
  user_id: string;
  created_at: string;
  updated_at: string;
  status: SessionStatus;
  /** json columns arrive parsed. */
  metadata: SessionMetadata;
  last_agent_called: string | null;
}

interface SessionRow extends SummaryRow {
  last_query: string | null;
  last_response: string | null;
  context_updated_at: string | null;
}

interface HistoryRow {
  role: MessageRole;
  content: string;
  timestamp: string;
}

type InvocationRow = Invocation;

const SUMMARY_COLUMNS = `s.session_id, s.user_id, ${iso('s.created_at')} AS created_at,
  ${iso('s.updated_at')} AS updated_at, s.status, s.metadata, c.last_agent_called`;

const SESSION_SQL = `SELECT ${SUMMARY_COLUMNS}, c.last_query, c.last_response,
    ${iso('c.updated_at')} AS context_updated_at
  FROM sessions s LEFT JOIN session_context c ON c.session_id = s.session_id WHERE s.session_id = $1`;

const HISTORY_COLUMNS = `role, content, ${iso('timestamp')} AS timestamp`;
const INVOCATION_COLUMNS = `agent_name, query, response, success, error_message,
  duration_ms::float8 AS duration_ms, ${iso('timestamp')} AS timestamp`;

/** A page of a session's messages or invocations, in insertion order. */
function pageSql(table: string, columns: string): string {
  return `SELECT ${columns} FROM ${table} WHERE session_id = $1 ORDER BY id LIMIT $2 OFFSET $3`;
}

/**
 * The page with the session's existence in one statement: no rows means no such session, one row of NULLs
 * a page without entries.
 */
function pageOfSessionSql(table: string, columns: string): string {
  return `SELECT p.* FROM sessions s LEFT JOIN LATERAL (SELECT id, ${columns} FROM ${table}
      WHERE session_id = s.session_id ORDER BY id LIMIT $2 OFFSET $3) p ON true
    WHERE s.session_id = $1 ORDER BY p.id`;
}

const HISTORY_PAGE_SQL = pageSql('conversation_history', HISTORY_COLUMNS);
const INVOCATIONS_PAGE_SQL = pageSql('agent_invocations', INVOCATION_COLUMNS);
const HISTORY_SQL = pageOfSessionSql('conversation_history', HISTORY_COLUMNS);
const INVOCATIONS_SQL = pageOfSessionSql('agent_invocations', INVOCATION_COLUMNS);

const CONTEXT_SQL = `SELECT c.last_agent_called, c.last_query, c.last_response, ${iso('c.updated_at')} AS updated_at
  FROM sessions s LEFT JOIN session_context c ON c.session_id = s.session_id WHERE s.session_id = $1`;

/** Every change to a session bumps its version (read by getSessionVersion for caching and ETags). */
const TOUCH = `touched AS (UPDATE sessions SET updated_at = $2::timestamptz, version = version + 1
  WHERE session_id = $1 RETURNING session_id)`;

const UPSERT_CONTEXT = `INSERT INTO session_context (session_id, last_agent_called, last_query, last_response, updated_at)
  SELECT session_id, $3::text, $4::text, $5::text, $2::timestamptz FROM touched
  ON CONFLICT (session_id) DO UPDATE SET last_agent_called = excluded.last_agent_called,
    last_query = excluded.last_query, last_response = excluded.last_response, updated_at = excluded.updated_at`;

const SQL = {
  insertSession: `INSERT INTO sessions (session_id, user_id, created_at, updated_at, status, metadata)
    VALUES ($1, $2, $3, $3, 'active', $4)`,
  setStatus: `UPDATE sessions SET status = $1, updated_at = $2, version = version + 1 WHERE session_id = $3`,
  // Consecutive appends run as one statement: $1..$3 are parallel arrays, one element per call. The session
  // rows are updated (and so locked) first, then the messages are inserted in call order: ids follow the
  // order of the calls, and appends to one session are numbered in commit order across replicas.
  insertMessages: `WITH input AS (
      SELECT session_id COLLATE "C" AS session_id, role, content, n
      FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t (session_id, role, content, n)),
    touched AS (UPDATE sessions s SET updated_at = $4::timestamptz, version = s.version + x.changes
      FROM (SELECT session_id, count(*) AS changes FROM input GROUP BY session_id) x
      WHERE s.session_id = x.session_id RETURNING s.session_id)
    INSERT INTO conversation_history (session_id, role, content, timestamp)
    SELECT i.session_id, i.role, i.content, $4::timestamptz FROM input i JOIN touched t ON t.session_id = i.session_id
    ORDER BY i.n
    RETURNING session_id`,
  trackInvocation: `WITH ${TOUCH},
    invocation AS (INSERT INTO agent_invocations
        (session_id, agent_name, query, response, success, error_message, duration_ms, timestamp)
      SELECT session_id, $3::text, $4::text, $5::text, $6::boolean, $7::text, $8::bigint, $2::timestamptz
      FROM touched),
    context AS (INSERT INTO session_context (session_id, last_agent_called, last_query, last_response, updated_at)
      SELECT session_id, $3::text, $4::text, $5::text, $2::timestamptz FROM touched WHERE $6::boolean
      ON CONFLICT (session_id) DO UPDATE SET last_agent_called = excluded.last_agent_called,
        last_query = excluded.last_query, last_response = excluded.last_response, updated_at = excluded.updated_at)
    SELECT count(*)::int AS n FROM touched`,
  updateContext: `WITH ${TOUCH} ${UPSERT_CONTEXT}`,
  selectVersion: 'SELECT version::float8 AS version FROM sessions WHERE session_id = $1',
  deleteSession: 'DELETE FROM sessions WHERE session_id = $1',
  // The conditions are repeated outside the subquery: a session touched meanwhile is re-checked, not expired.
  expireIdle: `UPDATE sessions SET status = 'expired', updated_at = $1, version = version + 1
    WHERE status = 'active' AND updated_at < $2 AND session_id IN
      (SELECT session_id FROM sessions WHERE status = 'active' AND updated_at < $2 LIMIT $3 FOR UPDATE SKIP LOCKED)`,
  // Counts read the statement's snapshot, taken before the cascade removes the rows.
  deleteOld: `WITH gone AS (DELETE FROM sessions WHERE status IN ('completed', 'expired') AND updated_at < $1
      AND session_id IN (SELECT session_id FROM sessions WHERE status IN ('completed', 'expired')
        AND updated_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING session_id),
    gone_decisions AS (DELETE FROM routing_decisions WHERE session_id IN (SELECT session_id FROM gone))
    SELECT (SELECT count(*) FROM gone)::int AS sessions,
      (SELECT count(*) FROM conversation_history WHERE session_id IN (SELECT session_id FROM gone))::int AS messages,
      (SELECT count(*) FROM agent_invocations WHERE session_id IN (SELECT session_id FROM gone))::int AS invocations`,
  schemaVersion: 'SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations',
  deleteSessionDecisions: 'DELETE FROM routing_decisions WHERE session_id = $1',
  // One parameter, the batch as JSON (strings already encoded, so no \u0000 escape reaches json_to_recordset).
  insertDecisions: `INSERT INTO routing_decisions
      (at, session_id, query, query_hashed, candidates, selected, follow_up, revision)
    SELECT x.at, x.session_id, x.query, x.query_hashed, x.candidates,
      ARRAY(SELECT json_array_elements_text(x.selected)), x.follow_up, x.revision
    FROM json_to_recordset($1::json) AS x (at timestamptz, session_id text, query text, query_hashed boolean,
      candidates json, selected json, follow_up boolean, revision bigint)`,
  expireDecisions: 'DELETE FROM routing_decisions WHERE at < $1',
  capDecisions: `DELETE FROM routing_decisions
    WHERE id <= (SELECT id FROM routing_decisions ORDER BY id DESC OFFSET $1 LIMIT 1)`,
} as const;

const DECISION_COLUMNS = `id::float8 AS id, ${iso('at')} AS at, session_id, query, query_hashed, candidates,
  selected, follow_up, revision::float8 AS revision`;

interface DecisionRow {
  id: number;
  at: string;
  session_id: string | null;
  query: string;
  query_hashed: boolean;
  candidates: { name: string; score: number }[];
  selected: string[];
  follow_up: boolean;
  revision: number;
}

function listSql(byUser: boolean, byStatus: boolean, afterCursor: boolean): string {
  let parameter = 2;
  const next = () => `$${++parameter}`;
  const filters = [byUser ? `s.user_id = ${next()}` : '', byStatus ? `s.status = ${next()}` : ''].filter(
    Boolean,
  );
  const conditions = [...filters];
  if (afterCursor) {
    // The listing order is (updated_at DESC, session_id ASC): "after" the cursor is older, or as old with a
    // greater id. Stored times have millisecond precision, so the cursor's ISO text compares exactly.
    const at = `${next()}::timestamptz`;
    conditions.push(`(s.updated_at < ${at} OR (s.updated_at = ${at} AND s.session_id > ${next()}))`);
  }
  const where = (list: string[]) => (list.length === 0 ? '' : `WHERE ${list.join(' AND ')}`);
  // One statement, so the page and the total come from the same snapshot.
  return `SELECT (SELECT count(*) FROM sessions s ${where(filters)})::float8 AS total,
    (SELECT COALESCE(json_agg(json_build_array(p.session_id, p.user_id, p.created_at, p.updated_at, p.status,
        p.metadata, p.last_agent_called, p.message_count, p.invocation_count)
        ORDER BY p.sort_updated DESC, p.session_id), '[]')
     FROM (SELECT ${SUMMARY_COLUMNS}, s.updated_at AS sort_updated,
             (SELECT count(*) FROM conversation_history h WHERE h.session_id = s.session_id)::float8 AS message_count,
             (SELECT count(*) FROM agent_invocations i WHERE i.session_id = s.session_id)::float8 AS invocation_count
           FROM sessions s LEFT JOIN session_context c ON c.session_id = s.session_id ${where(conditions)}
           ORDER BY s.updated_at DESC, s.session_id LIMIT $1 OFFSET $2) p) AS sessions`;
}

const LIST_SQL = new Map(
  [false, true].flatMap((byUser) =>
    [false, true].flatMap((byStatus) =>
      [false, true].map(
        (afterCursor) =>
          [`${byUser}:${byStatus}:${afterCursor}`, listSql(byUser, byStatus, afterCursor)] as const,
      ),
    ),
  ),
);

interface AppendCall {
  id: string;
  role: MessageRole;
  content: string;
}

type ListedSession = [
  string,
  string,
  string,
  string,
  SessionStatus,
  SessionMetadata,
  string | null,
  number,
  number,
];

export class PostgresSessionStore implements SessionStore {
  readonly backend = 'postgresql';
  private readonly queue: PostgresGroupCommit;
  private readonly now: () => Date;
  private closed = false;

  private constructor(
    private readonly pool: PostgresPool,
    private readonly ownsPool: boolean,
    options: PostgresSessionStoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.queue = new PostgresGroupCommit(pool, { maxBatchSize: options.maxBatchSize });
  }

  /**
   * Open the store on a database, applying pending migrations first (under an advisory lock, so replicas
   * starting together migrate once). Given a URL, the store opens its own pool and closes it in `close()`;
   * given a `PostgresPool` (shared with the registry store), it leaves the pool to its owner.
   * Throws `database_unavailable` when the database cannot be reached or migrated.
   */
  static async open(
    database: string | PostgresPool,
    options: PostgresSessionStoreOptions = {},
  ): Promise<PostgresSessionStore> {
    if (typeof database === 'string') {
      const { pool } = await openPostgresDatabase(database, { ...options, now: undefined });
      return new PostgresSessionStore(pool, true, options);
    }
    await applyPostgresMigrations(database, POSTGRES_MIGRATIONS);
    return new PostgresSessionStore(database, false, options);
  }

  async createSession(userId: string, metadata?: SessionMetadata): Promise<string> {
    const input = parseSessionCreation(userId, metadata);
    const sessionId = randomUUID();
    await this.write('create the session', async (db) => {
      await db.query(SQL.insertSession, [
        sessionId,
        encodeText(input.userId),
        this.timestamp(),
        input.metadataJson,
      ]);
    });
    return sessionId;
  }

  async getSession(sessionId: string, options?: GetSessionOptions): Promise<Session> {
    const id = parseSessionId(sessionId);
    const pages = parseGetSessionOptions(options);
    const key = encodeText(id);
    // One snapshot for the session, its messages and its invocations, as SQLite's read transaction.
    return this.readTransaction('read the session', async (db) => {
      const row = (await db.query<SessionRow>(SESSION_SQL, [key])).rows[0];
      if (row === undefined) throw sessionNotFound(id);
      const page = (p: ParsedPage) => [key, limitOf(p), p.offset];
      const history = await db.query<HistoryRow>(HISTORY_PAGE_SQL, page(pages.history));
      const invocations = await db.query<InvocationRow>(INVOCATIONS_PAGE_SQL, page(pages.invocations));
      return {
        ...toSummary(row),
        conversation_history: history.rows.map(toHistoryEntry),
        agents_invoked: invocations.rows.map(toInvocation),
        context: {
          last_agent_called: decodeNullableText(row.last_agent_called),
          last_query: decodeNullableText(row.last_query),
          last_response: decodeNullableText(row.last_response),
          updated_at: row.context_updated_at,
        },
      };
    });
  }

  async updateSessionStatus(sessionId: string, status: SessionStatus): Promise<void> {
    const id = parseSessionId(sessionId);
    const value = parseStatus(status);
    await this.write('update the session status', async (db) => {
      const result = await db.query(SQL.setStatus, [value, this.timestamp(), encodeText(id)]);
      if (result.rowCount === 0) throw sessionNotFound(id);
    });
  }

  async trackInvocation(sessionId: string, invocation: InvocationInput): Promise<void> {
    const id = parseSessionId(sessionId);
    const input = parseInvocation(invocation);
    await this.write('track the invocation', async (db) => {
      const { rows } = await db.query<{ n: number }>(SQL.trackInvocation, [
        encodeText(id),
        this.timestamp(),
        encodeText(input.agent_name),
        encodeText(input.query),
        encodeNullableText(input.response),
        input.success,
        encodeNullableText(input.error_message),
        input.duration_ms,
      ]);
      if (rows[0]?.n === 0) throw sessionNotFound(id);
    });
  }

  async addToHistory(sessionId: string, role: MessageRole, content: string): Promise<void> {
    const id = parseSessionId(sessionId);
    const entry = parseHistoryEntry(role, content);
    await this.submit('add the message', () =>
      this.queue.enqueueCombined(this.appendMessages, { id, role: entry.role, content: entry.content }),
    );
  }

  async getConversationHistory(sessionId: string, page?: Page): Promise<HistoryEntry[]> {
    const id = parseSessionId(sessionId);
    const parsed = parsePage(page);
    const rows = await this.read<HistoryRow | { role: null }>('read the history', HISTORY_SQL, [
      encodeText(id),
      limitOf(parsed),
      parsed.offset,
    ]);
    if (rows.length === 0) throw sessionNotFound(id);
    return rows.flatMap((row) => (row.role === null ? [] : [toHistoryEntry(row)]));
  }

  async getInvocations(sessionId: string, page?: Page): Promise<Invocation[]> {
    const id = parseSessionId(sessionId);
    const parsed = parsePage(page);
    const rows = await this.read<InvocationRow | { agent_name: null }>(
      'read the invocations',
      INVOCATIONS_SQL,
      [encodeText(id), limitOf(parsed), parsed.offset],
    );
    if (rows.length === 0) throw sessionNotFound(id);
    return rows.flatMap((row) => (row.agent_name === null ? [] : [toInvocation(row)]));
  }

  async updateContext(sessionId: string, context: ContextInput): Promise<void> {
    const id = parseSessionId(sessionId);
    const input = parseContext(context);
    await this.write('update the context', async (db) => {
      const result = await db.query(SQL.updateContext, [
        encodeText(id),
        this.timestamp(),
        encodeNullableText(input.last_agent_called),
        encodeNullableText(input.last_query),
        encodeNullableText(input.last_response),
      ]);
      if (result.rowCount === 0) throw sessionNotFound(id);
    });
  }

  async getSessionVersion(sessionId: string): Promise<number> {
    const id = parseSessionId(sessionId);
    const rows = await this.read<{ version: number }>('read the session version', SQL.selectVersion, [
      encodeText(id),
    ]);
    if (rows[0] === undefined) throw sessionNotFound(id);
    return rows[0].version;
  }

  async getContext(sessionId: string): Promise<SessionContext> {
    const id = parseSessionId(sessionId);
    const rows = await this.read<SessionContext>('read the context', CONTEXT_SQL, [encodeText(id)]);
    const row = rows[0];
    if (row === undefined) throw sessionNotFound(id);
    return {
      last_agent_called: decodeNullableText(row.last_agent_called),
      last_query: decodeNullableText(row.last_query),
      last_response: decodeNullableText(row.last_response),
      updated_at: row.updated_at,
    };
  }

  async listSessions(query?: SessionListQuery): Promise<SessionList> {
    const input = parseListQuery(query);
    // One row more than the page: its presence means another page follows.
    const values: unknown[] = [input.limit + 1, input.offset];
    if (input.user_id !== undefined) values.push(encodeText(input.user_id));
    if (input.status !== undefined) values.push(input.status);
    if (input.after !== undefined) values.push(input.after.updatedAt, input.after.sessionId);
    const sql = LIST_SQL.get(
      `${input.user_id !== undefined}:${input.status !== undefined}:${input.after !== undefined}`,
    )!;
    const rows = await this.read<{ total: number; sessions: ListedSession[] }>('list sessions', sql, values);
    const { total, sessions } = rows[0]!;
    const listed = sessions.map(
      ([
        session_id,
        user_id,
        created_at,
        updated_at,
        status,
        metadata,
        last_agent_called,
        message_count,
        invocation_count,
      ]) => ({
        ...toSummary({ session_id, user_id, created_at, updated_at, status, metadata, last_agent_called }),
        message_count,
        invocation_count,
      }),
    );
    const { page, nextCursor } = pageWithCursor(listed, input.limit);
    return { total, sessions: page, next_cursor: nextCursor };
  }

  async deleteSession(sessionId: string): Promise<void> {
    const id = parseSessionId(sessionId);
    await this.write('delete the session', async (db) => {
      if ((await db.query(SQL.deleteSession, [encodeText(id)])).rowCount === 0) throw sessionNotFound(id);
      await db.query(SQL.deleteSessionDecisions, [encodeText(id)]);
    });
  }

  async cleanupOldSessions(days?: number, options?: CleanupOptions): Promise<CleanupResult> {
    const input = parseCleanup(days, options);
    const result: CleanupResult = {
      deleted_sessions: 0,
      deleted_messages: 0,
      deleted_invocations: 0,
      expired_sessions: 0,
    };
    const action = 'clean up old sessions';
    // Expire first: a session expired now is deleted by a run `days` later, not by this one.
    for (let changed = CLEANUP_CHUNK; changed === CLEANUP_CHUNK; ) {
      changed = await this.write(action, async (db) => {
        const now = this.now();
        const idleSince = new Date(now.getTime() - input.idleTimeoutMinutes * 60_000).toISOString();
        return (await db.query(SQL.expireIdle, [now.toISOString(), idleSince, CLEANUP_CHUNK])).rowCount;
      });
      result.expired_sessions += changed;
    }
    for (let deleted = CLEANUP_CHUNK; deleted === CLEANUP_CHUNK; ) {
      const chunk = await this.write(action, async (db) => {
        const cutoff = new Date(this.now().getTime() - input.days * 86_400_000).toISOString();
        const { rows } = await db.query<{ sessions: number; messages: number; invocations: number }>(
          SQL.deleteOld,
          [cutoff, CLEANUP_CHUNK],
        );
        return rows[0]!;
      });
      deleted = chunk.sessions;
      result.deleted_sessions += chunk.sessions;
      result.deleted_messages += chunk.messages;
      result.deleted_invocations += chunk.invocations;
    }
    return result;
  }

  async createAdkSession(input: AdkSessionInput): Promise<AdkSessionRecord> {
    const parsed = parseAdkSession(input);
    const sessionId = parsed.sessionId ?? randomUUID();
    const key = encodeText(sessionId);
    const user = encodeText(parsed.userId);
    await this.write('create the ADK session', async (db) => {
      // The session row is locked (or created) first, so two creations of one id take turns.
      const inserted = await db.query(`${SQL.insertSession} ON CONFLICT (session_id) DO NOTHING`, [
        key,
        user,
        this.timestamp(),
        '{}',
      ]);
      if (inserted.rowCount === 0) {
        const { rows } = await db.query<{ user_id: string; adk: boolean }>(ADK_SQL.lockOwner, [
          key,
          encodeText(parsed.appName),
        ]);
        const owner = rows[0];
        if (owner === undefined || owner.adk || owner.user_id !== user) throw adkSessionExists(sessionId);
        await db.query(ADK_SQL.touch, [key, this.timestamp()]);
      }
      await db.query(ADK_SQL.insertSession, [
        key,
        encodeText(parsed.appName),
        parsed.stateJson,
        parsed.lastUpdateTime,
      ]);
    });
    return {
      session_id: sessionId,
      app_name: parsed.appName,
      user_id: parsed.userId,
      state: JSON.parse(parsed.stateJson),
      last_update_time: parsed.lastUpdateTime,
    };
  }

  async getAdkSession(sessionId: string, appName: string): Promise<AdkStoredSession | undefined> {
    const key = encodeText(parseSessionId(sessionId));
    const app = encodeText(parseAppName(appName));
    return this.readTransaction('read the ADK session', async (db) => {
      const row = (await db.query<AdkSessionRow>(ADK_SQL.selectSession, [key, app])).rows[0];
      if (row === undefined) return undefined;
      const events = await db.query<{ event: string }>(ADK_SQL.selectEvents, [key, app]);
      const state = async (user: string) =>
        (await db.query<{ state: string }>(ADK_SQL.selectState, [row.app_name, user])).rows[0]?.state ?? '{}';
      return {
        ...toAdkRecord(row),
        events: events.rows.map((event) => JSON.parse(event.event)),
        app_state: JSON.parse(await state('')),
        user_state: JSON.parse(await state(row.user_id)),
      };
    });
  }

  async listAdkSessions(appName: string, userId?: string): Promise<AdkSessionRecord[]> {
    const app = encodeText(parseAppName(appName));
    const user = userId === undefined ? null : encodeText(parseSessionCreation(userId, undefined).userId);
    const rows = await this.read<AdkSessionRow>('list the ADK sessions', ADK_SQL.list, [app, user]);
    return rows.map(toAdkRecord);
  }

  async appendAdkEvent(sessionId: string, appName: string, append: AdkEventAppend): Promise<void> {
    const id = parseSessionId(sessionId);
    const key = encodeText(id);
    const app = encodeText(parseAppName(appName));
    const parsed = parseAdkAppend(append);
    await this.write('append the ADK event', async (db) => {
      // The ADK row is locked first (appends to one session take turns, across replicas too), and a
      // refusal comes before any change, as group commit requires.
      const row = (await db.query<AdkSessionRow>(ADK_SQL.lockSession, [key, app])).rows[0];
      if (row === undefined) throw sessionNotFound(id);
      await db.query(ADK_SQL.touch, [key, this.timestamp()]);
      await db.query(ADK_SQL.updateSession, [
        key,
        app,
        mergeStateJson(row.state, parsed.stateDelta),
        parsed.lastUpdateTime,
      ]);
      await db.query(ADK_SQL.upsertEvent, [
        key,
        app,
        encodeText(parsed.eventId),
        parsed.timestamp,
        parsed.eventJson,
      ]);
      for (const [user, delta] of [
        ['', parsed.appStateDelta],
        [row.user_id, parsed.userStateDelta],
      ] as const) {
        if (!hasKeys(delta)) continue;
        await db.query(ADK_SQL.createState, [row.app_name, user]);
        const stored = (await db.query<{ state: string }>(ADK_SQL.lockState, [row.app_name, user])).rows[0];
        await db.query(ADK_SQL.updateState, [row.app_name, user, mergeStateJson(stored?.state, delta)]);
      }
    });
  }

  async recordDecisions(decisions: readonly RoutingDecisionInput[]): Promise<void> {
    const valid = parseDecisions(decisions);
    if (valid.length === 0) return;
    const batch = valid.map((decision) => ({
      ...decision,
      session_id: encodeNullableText(decision.session_id),
      query: encodeText(decision.query),
      candidates: decision.candidates.map((c) => ({ name: encodeText(c.name), score: c.score })),
      selected: decision.selected.map(encodeText),
    }));
    await this.write('record routing decisions', async (db) => {
      await db.query(SQL.insertDecisions, [JSON.stringify(batch)]);
    });
  }

  async listDecisions(query?: DecisionListQuery): Promise<DecisionList> {
    const input = parseDecisionQuery(query);
    const conditions: string[] = [];
    const values: unknown[] = [];
    const where = (condition: (n: string) => string, value: unknown) => {
      values.push(value);
      conditions.push(condition(`$${values.length}`));
    };
    if (input.before !== undefined) where((n) => `id < ${n}`, input.before);
    if (input.session_id !== undefined) where((n) => `session_id = ${n}`, encodeText(input.session_id));
    if (input.agent !== undefined) where((n) => `${n}::text = ANY(selected)`, encodeText(input.agent));
    if (input.since !== undefined) where((n) => `at >= ${n}::timestamptz`, input.since);
    values.push(input.limit + 1);
    const filter = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = await this.read<DecisionRow>(
      'list routing decisions',
      `SELECT ${DECISION_COLUMNS} FROM routing_decisions ${filter} ORDER BY id DESC LIMIT $${values.length}`,
      values,
    );
    const page = rows.slice(0, input.limit);
    return {
      decisions: page.map(toDecision),
      next_cursor: rows.length > input.limit ? encodeDecisionCursor(page.at(-1)!.id) : null,
    };
  }

  async pruneDecisions(days: number, keep: number): Promise<DecisionPruneResult> {
    const input = parsePrune(days, keep);
    return this.write('prune routing decisions', async (db) => {
      const cutoff = new Date(this.now().getTime() - input.days * 86_400_000).toISOString();
      const expired = (await db.query(SQL.expireDecisions, [cutoff])).rowCount ?? 0;
      const over_cap = (await db.query(SQL.capDecisions, [input.keep])).rowCount ?? 0;
      return { expired, over_cap };
    });
  }

  async health(): Promise<SessionStoreHealth> {
    const base: SessionStoreHealth = { status: 'ok', backend: this.backend, database: this.pool.target };
    if (this.closed) return { ...base, status: 'unavailable', error: 'The session store is closed.' };
    const detail = () => ({ pool: this.pool.stats(), pending_writes: this.queue.size });
    try {
      const { rows } = await this.pool.query<{ version: number }>(SQL.schemaVersion);
      return { ...base, schema_version: rows[0]!.version, ...detail() };
    } catch (error) {
      const { message } = toPostgresError(error, 'check the database', this.pool.target);
      return { ...base, status: 'unavailable', error: message, ...detail() };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    if (this.ownsPool) await this.pool.end();
  }

  /** The hot path: appends queued together become one statement. */
  private readonly appendMessages: CombinedWrite<AppendCall, void> = {
    runMany: async (db, calls) => {
      const { rows } = await db.query<{ session_id: string }>(SQL.insertMessages, [
        calls.map((call) => encodeText(call.id)),
        calls.map((call) => call.role),
        calls.map((call) => encodeText(call.content)),
        this.timestamp(),
      ]);
      const touched = new Set(rows.map((row) => row.session_id));
      return calls.map((call) =>
        touched.has(encodeText(call.id)) ? { value: undefined } : { refused: sessionNotFound(call.id) },
      );
    },
  };

  private timestamp(): string {
    return this.now().toISOString();
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError('database_unavailable', 'The session store is closed.');
  }

  private write<T>(action: string, work: (db: PostgresQueryable) => Promise<T>): Promise<T> {
    return this.submit(action, () => this.queue.enqueue(work));
  }

  /** Queue a write for the next group commit; resolves once it is committed. */
  private async submit<T>(action: string, enqueue: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await enqueue();
    } catch (error) {
      throw toPostgresError(error, action, this.pool.target);
    }
  }

  private async readTransaction<T>(action: string, work: (db: PostgresQueryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await this.pool.transaction(work, { isolation: 'repeatable read', readOnly: true, retries: 0 });
    } catch (error) {
      throw toPostgresError(error, action, this.pool.target);
    }
  }

  private async read<Row>(action: string, sql: string, values: readonly unknown[]): Promise<Row[]> {
    this.assertOpen();
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (error) {
      throw toPostgresError(error, action, this.pool.target);
    }
  }
}

interface AdkSessionRow {
  session_id: string;
  app_name: string;
  user_id: string;
  state: string;
  last_update_time: number;
}

function toAdkRecord(row: AdkSessionRow): AdkSessionRecord {
  return {
    session_id: decodeText(row.session_id),
    app_name: decodeText(row.app_name),
    user_id: decodeText(row.user_id),
    state: JSON.parse(row.state),
    last_update_time: row.last_update_time,
  };
}

const ADK_COLUMNS = `a.session_id, a.app_name, s.user_id, a.state, a.last_update_time
  FROM adk_sessions a JOIN sessions s ON s.session_id = a.session_id`;

const ADK_SQL = {
  lockOwner: `SELECT s.user_id,
      EXISTS (SELECT 1 FROM adk_sessions a WHERE a.session_id = s.session_id AND a.app_name = $2) AS adk
    FROM sessions s WHERE s.session_id = $1 FOR UPDATE`,
  touch: 'UPDATE sessions SET updated_at = $2, version = version + 1 WHERE session_id = $1',
  insertSession:
    'INSERT INTO adk_sessions (session_id, app_name, state, last_update_time) VALUES ($1, $2, $3, $4)',
  selectSession: `SELECT ${ADK_COLUMNS} WHERE a.session_id = $1 AND a.app_name = $2`,
  lockSession: `SELECT ${ADK_COLUMNS} WHERE a.session_id = $1 AND a.app_name = $2 FOR UPDATE OF a`,
  list: `SELECT ${ADK_COLUMNS} WHERE a.app_name = $1 AND ($2::text IS NULL OR s.user_id = $2) ORDER BY a.id`,
  updateSession:
    'UPDATE adk_sessions SET state = $3, last_update_time = $4 WHERE session_id = $1 AND app_name = $2',
  selectEvents: 'SELECT event FROM adk_events WHERE session_id = $1 AND app_name = $2 ORDER BY id',
  upsertEvent: `INSERT INTO adk_events (session_id, app_name, event_id, timestamp_ms, event) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (session_id, app_name, event_id) DO UPDATE SET timestamp_ms = excluded.timestamp_ms, event = excluded.event`,
  selectState: 'SELECT state FROM adk_state WHERE app_name = $1 AND user_id = $2',
  createState: `INSERT INTO adk_state (app_name, user_id, state) VALUES ($1, $2, '{}')
    ON CONFLICT (app_name, user_id) DO NOTHING`,
  lockState: 'SELECT state FROM adk_state WHERE app_name = $1 AND user_id = $2 FOR UPDATE',
  updateState: 'UPDATE adk_state SET state = $3 WHERE app_name = $1 AND user_id = $2',
} as const;

/** SQL `LIMIT NULL` is no limit; the parsed page says -1 for it. */
function limitOf(page: ParsedPage): number | null {
  return page.limit === -1 ? null : page.limit;
}

function toHistoryEntry(row: HistoryRow): HistoryEntry {
  return { role: row.role, content: decodeText(row.content), timestamp: row.timestamp };
}

function toInvocation(row: InvocationRow): Invocation {
  return {
    agent_name: decodeText(row.agent_name),
    query: decodeText(row.query),
    response: decodeNullableText(row.response),
    success: row.success,
    error_message: decodeNullableText(row.error_message),
    duration_ms: row.duration_ms,
    timestamp: row.timestamp,
  };
}

function toDecision(row: DecisionRow): RoutingDecision {
  return {
    at: row.at,
    query: decodeText(row.query),
    query_hashed: row.query_hashed,
    candidates: row.candidates.map((c) => ({ name: decodeText(c.name), score: c.score })),
    selected: row.selected.map(decodeText),
    follow_up: row.follow_up,
    revision: row.revision,
    session_id: decodeNullableText(row.session_id),
  };
}

function toSummary(row: SummaryRow): SessionFields {
  return {
    session_id: row.session_id,
    user_id: decodeText(row.user_id),
    created_at: row.created_at,
    updated_at: row.updated_at,
    status: row.status,
    metadata: row.metadata,
    last_agent_called: decodeNullableText(row.last_agent_called),
  };
}
