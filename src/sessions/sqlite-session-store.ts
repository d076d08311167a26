/**
 * @module sessions/sqlite-session-store
 * The embedded session store: one SQLite file in WAL mode, prepared statements, and group commit so that
 * many concurrent writers share each fsync while every write is durable before it is acknowledged.
 */
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { AppError, messageOf } from '../errors.js';
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
import type { QuarantineReport } from './database-quarantine.js';
import { type DatabaseInitOptions, openSessionDatabase } from './db-init.js';
import { GroupCommitQueue } from './group-commit-queue.js';
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
import type { SqliteConnection } from './sqlite-database.js';
import { isCorruptionError, toStoreError } from './sqlite-error.js';

export interface SqliteSessionStoreOptions extends DatabaseInitOptions {
  /** Most writes per group transaction (default 512). */
  maxBatchSize?: number;
}

/** Retention deletes and expires in chunks, so appends interleave with a large cleanup. */
const CLEANUP_CHUNK = 500;

interface SessionRow {
  session_id: string;
  user_id: string;
  created_at: string;
  updated_at: string;
  status: SessionStatus;
  metadata: string;
  last_agent_called: string | null;
  last_query: string | null;
  last_response: string | null;
  context_updated_at: string | null;
}

interface InvocationRow extends Omit<Invocation, 'success'> {
  success: number;
}

interface ListedRow extends SessionRow {
  message_count: number;
  invocation_count: number;
}

/** Sizes for listings, each counted from its per-session index. */
const COUNT_COLUMNS = `(SELECT count(*) FROM conversation_history h WHERE h.session_id = s.session_id) AS message_count,
  (SELECT count(*) FROM agent_invocations i WHERE i.session_id = s.session_id) AS invocation_count`;

interface DecisionRow {
  id: number;
  at: string;
  session_id: string | null;
  query: string;
  query_hashed: number;
  candidates: string;
  selected: string;
  follow_up: number;
  revision: number;
}

const SESSION_COLUMNS = `s.session_id, s.user_id, s.created_at, s.updated_at, s.status, s.metadata,
  c.last_agent_called, c.last_query, c.last_response, c.updated_at AS context_updated_at`;
const SESSIONS_WITH_CONTEXT = 'FROM sessions s LEFT JOIN session_context c ON c.session_id = s.session_id';

export class SqliteSessionStore implements SessionStore {
  readonly backend = 'sqlite';
  private readonly queue: GroupCommitQueue;
  private readonly now: () => Date;
  private closed = false;
  /** A corruption error seen while running: the database needs a restart (and quarantine). */
  private corruption: string | undefined;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly adk: ReturnType<typeof prepareAdkStatements>;
  private readonly readAdkSession: (sessionId: string, appName: string) => AdkStoredSession | undefined;
  private readonly listStatements = new Map<string, { page: Statement; count: Statement }>();
  private readonly decisionStatements = new Map<string, Statement>();
  private readonly readSession: (sessionId: string, history: ParsedPage, invocations: ParsedPage) => Session;

  private constructor(
    readonly path: string,
    private readonly db: SqliteConnection,
    private readonly schemaVersion: number,
    private readonly quarantine: QuarantineReport | undefined,
    options: SqliteSessionStoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.queue = new GroupCommitQueue(db, { maxBatchSize: options.maxBatchSize });
    this.statements = prepareStatements(db);
    this.adk = prepareAdkStatements(db);
    this.readAdkSession = db.transaction((sessionId: string, appName: string) => {
      const row = this.adk.selectSession.get(sessionId, appName) as AdkSessionRow | undefined;
      if (row === undefined) return undefined;
      const events = this.adk.selectEvents.all(sessionId, appName) as { event: string }[];
      return {
        ...toAdkRecord(row),
        events: events.map((event) => JSON.parse(event.event)),
        app_state: JSON.parse(this.adkState(row.app_name, '') ?? '{}'),
        user_state: JSON.parse(this.adkState(row.app_name, row.user_id) ?? '{}'),
      };
    });
    // One read transaction: the session, its history and its invocations are one consistent snapshot.
    this.readSession = db.transaction((sessionId: string, history: ParsedPage, invocations: ParsedPage) => {
      const row = this.statements.selectSession.get(sessionId) as SessionRow | undefined;
      if (row === undefined) throw sessionNotFound(sessionId);
      return {
        ...toSummary(row),
        conversation_history: this.statements.selectHistory.all(
          sessionId,
          history.limit,
          history.offset,
        ) as HistoryEntry[],
        agents_invoked: (
          this.statements.selectInvocations.all(
            sessionId,
            invocations.limit,
            invocations.offset,
          ) as InvocationRow[]
        ).map(toInvocation),
        context: {
          last_agent_called: row.last_agent_called,
          last_query: row.last_query,
          last_response: row.last_response,
          updated_at: row.context_updated_at,
        },
      };
    });
  }

  /** Open (create, migrate, or quarantine and recreate) the database at `dbPath`. */
  static async open(dbPath: string, options: SqliteSessionStoreOptions = {}): Promise<SqliteSessionStore> {
    const opened = openSessionDatabase(dbPath, options);
    return new SqliteSessionStore(dbPath, opened.db, opened.schemaVersion, opened.quarantine, options);
  }

  async createSession(userId: string, metadata?: SessionMetadata): Promise<string> {
    const input = parseSessionCreation(userId, metadata);
    const sessionId = randomUUID();
    await this.write('create the session', () => {
      const now = this.timestamp();
      this.statements.insertSession.run(sessionId, input.userId, now, now, input.metadataJson);
    });
    return sessionId;
  }

  async getSession(sessionId: string, options?: GetSessionOptions): Promise<Session> {
    const id = parseSessionId(sessionId);
    const pages = parseGetSessionOptions(options);
    return this.read('read the session', () => this.readSession(id, pages.history, pages.invocations));
  }

  async updateSessionStatus(sessionId: string, status: SessionStatus): Promise<void> {
    const id = parseSessionId(sessionId);
    const value = parseStatus(status);
    await this.write('update the session status', () => {
      if (this.statements.setStatus.run(value, this.timestamp(), id).changes === 0) throw sessionNotFound(id);
    });
  }

  async trackInvocation(sessionId: string, invocation: InvocationInput): Promise<void> {
    const id = parseSessionId(sessionId);
    const input = parseInvocation(invocation);
    await this.write('track the invocation', () => {
      const now = this.touch(id);
      this.statements.insertInvocation.run(
        id,
        input.agent_name,
        input.query,
        input.response,
        input.success ? 1 : 0,
        input.error_message,
        input.duration_ms,
        now,
      );
      if (input.success)
        this.statements.upsertContext.run(id, input.agent_name, input.query, input.response, now);
    });
  }

  async addToHistory(sessionId: string, role: MessageRole, content: string): Promise<void> {
    const id = parseSessionId(sessionId);
    const entry = parseHistoryEntry(role, content);
    await this.write('add the message', () => {
      this.statements.insertMessage.run(id, entry.role, entry.content, this.touch(id));
    });
  }

  async getConversationHistory(sessionId: string, page?: Page): Promise<HistoryEntry[]> {
    const id = parseSessionId(sessionId);
    const { limit, offset } = parsePage(page);
    return this.read('read the history', () => {
      const rows = this.statements.selectHistory.all(id, limit, offset) as HistoryEntry[];
      if (rows.length === 0) this.assertExists(id);
      return rows;
    });
  }

  async getInvocations(sessionId: string, page?: Page): Promise<Invocation[]> {
    const id = parseSessionId(sessionId);
    const { limit, offset } = parsePage(page);
    return this.read('read the invocations', () => {
      const rows = this.statements.selectInvocations.all(id, limit, offset) as InvocationRow[];
      if (rows.length === 0) this.assertExists(id);
      return rows.map(toInvocation);
    });
  }

  async updateContext(sessionId: string, context: ContextInput): Promise<void> {
    const id = parseSessionId(sessionId);
    const input = parseContext(context);
    await this.write('update the context', () => {
      const now = this.touch(id);
      this.statements.upsertContext.run(
        id,
        input.last_agent_called,
        input.last_query,
        input.last_response,
        now,
      );
    });
  }

  async getSessionVersion(sessionId: string): Promise<number> {
    const id = parseSessionId(sessionId);
    return this.read('read the session version', () => {
      const row = this.statements.selectVersion.get(id) as { version: number } | undefined;
      if (row === undefined) throw sessionNotFound(id);
      return row.version;
    });
  }

  async getContext(sessionId: string): Promise<SessionContext> {
    const id = parseSessionId(sessionId);
    return this.read('read the context', () => {
      const row = this.statements.selectContext.get(id) as SessionContext | undefined;
      if (row !== undefined) return row;
      this.assertExists(id);
      return { last_agent_called: null, last_query: null, last_response: null, updated_at: null };
    });
  }

  async listSessions(query?: SessionListQuery): Promise<SessionList> {
    const input = parseListQuery(query);
    const filters: unknown[] = [];
    if (input.user_id !== undefined) filters.push(input.user_id);
    if (input.status !== undefined) filters.push(input.status);
    const after =
      input.after === undefined ? [] : [input.after.updatedAt, input.after.updatedAt, input.after.sessionId];
    return this.read('list sessions', () => {
      const statements = this.listStatementsFor(
        input.user_id !== undefined,
        input.status !== undefined,
        input.after !== undefined,
      );
      const rows = statements.page.all(...filters, ...after, input.limit + 1, input.offset) as ListedRow[];
      const { total } = statements.count.get(...filters) as { total: number };
      const { page, nextCursor } = pageWithCursor(rows, input.limit);
      return {
        sessions: page.map((row) => ({
          ...toSummary(row),
          message_count: row.message_count,
          invocation_count: row.invocation_count,
        })),
        total,
        next_cursor: nextCursor,
      };
    });
  }

  async deleteSession(sessionId: string): Promise<void> {
    const id = parseSessionId(sessionId);
    await this.write('delete the session', () => {
      if (this.statements.deleteSession.run(id).changes === 0) throw sessionNotFound(id);
      this.statements.deleteSessionDecisions.run(id);
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
      changed = await this.write(action, () => {
        const now = this.now();
        const idleSince = new Date(now.getTime() - input.idleTimeoutMinutes * 60_000).toISOString();
        return this.statements.expireIdle.run(now.toISOString(), idleSince, CLEANUP_CHUNK).changes;
      });
      result.expired_sessions += changed;
    }
    for (let deleted = CLEANUP_CHUNK; deleted === CLEANUP_CHUNK; ) {
      const chunk = await this.write(action, () => {
        const cutoff = new Date(this.now().getTime() - input.days * 86_400_000).toISOString();
        const ids = (this.statements.selectOld.all(cutoff, CLEANUP_CHUNK) as { session_id: string }[]).map(
          (row) => row.session_id,
        );
        const list = JSON.stringify(ids);
        this.statements.deleteDecisionsOf.run(list);
        return {
          messages: (this.statements.countMessages.get(list) as { n: number }).n,
          invocations: (this.statements.countInvocations.get(list) as { n: number }).n,
          sessions: this.statements.deleteSessions.run(list).changes,
        };
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
    return this.write('create the ADK session', () => {
      const existing = this.adk.selectOwner.get(parsed.appName, sessionId) as
        | { user_id: string; adk: number }
        | undefined;
      if (existing === undefined) {
        const now = this.timestamp();
        this.statements.insertSession.run(sessionId, parsed.userId, now, now, '{}');
      } else if (existing.adk === 1 || existing.user_id !== parsed.userId) {
        throw adkSessionExists(sessionId);
      } else {
        this.touch(sessionId);
      }
      this.adk.insertSession.run(sessionId, parsed.appName, parsed.stateJson, parsed.lastUpdateTime);
      return {
        session_id: sessionId,
        app_name: parsed.appName,
        user_id: parsed.userId,
        state: JSON.parse(parsed.stateJson),
        last_update_time: parsed.lastUpdateTime,
      };
    });
  }

  async getAdkSession(sessionId: string, appName: string): Promise<AdkStoredSession | undefined> {
    const id = parseSessionId(sessionId);
    const app = parseAppName(appName);
    return this.read('read the ADK session', () => this.readAdkSession(id, app));
  }

  async listAdkSessions(appName: string, userId?: string): Promise<AdkSessionRecord[]> {
    const app = parseAppName(appName);
    const user = userId === undefined ? undefined : parseSessionCreation(userId, undefined).userId;
    return this.read('list the ADK sessions', () => {
      const rows = (
        user === undefined ? this.adk.listByApp.all(app) : this.adk.listByUser.all(app, user)
      ) as AdkSessionRow[];
      return rows.map(toAdkRecord);
    });
  }

  async appendAdkEvent(sessionId: string, appName: string, append: AdkEventAppend): Promise<void> {
    const id = parseSessionId(sessionId);
    const app = parseAppName(appName);
    const parsed = parseAdkAppend(append);
    await this.write('append the ADK event', () => {
      const row = this.adk.selectSession.get(id, app) as AdkSessionRow | undefined;
      if (row === undefined) throw sessionNotFound(id);
      this.touch(id);
      this.adk.updateSession.run(
        mergeStateJson(row.state, parsed.stateDelta),
        parsed.lastUpdateTime,
        id,
        app,
      );
      this.adk.upsertEvent.run(id, app, parsed.eventId, parsed.timestamp, parsed.eventJson);
      for (const [user, delta] of [
        ['', parsed.appStateDelta],
        [row.user_id, parsed.userStateDelta],
      ] as const) {
        if (!hasKeys(delta)) continue;
        this.adk.upsertState.run(
          row.app_name,
          user,
          mergeStateJson(this.adkState(row.app_name, user), delta),
        );
      }
    });
  }

  async recordDecisions(decisions: readonly RoutingDecisionInput[]): Promise<void> {
    const valid = parseDecisions(decisions);
    if (valid.length === 0) return;
    await this.write('record routing decisions', () => {
      for (const decision of valid) {
        this.statements.insertDecision.run(
          decision.at,
          decision.session_id,
          decision.query,
          decision.query_hashed ? 1 : 0,
          JSON.stringify(decision.candidates),
          JSON.stringify(decision.selected),
          decision.follow_up ? 1 : 0,
          decision.revision,
        );
      }
    });
  }

  async listDecisions(query?: DecisionListQuery): Promise<DecisionList> {
    const input = parseDecisionQuery(query);
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (input.before !== undefined) {
      conditions.push('id < ?');
      values.push(input.before);
    }
    if (input.session_id !== undefined) {
      conditions.push('session_id = ?');
      values.push(input.session_id);
    }
    if (input.agent !== undefined) {
      conditions.push('EXISTS (SELECT 1 FROM json_each(selected) WHERE value = ?)');
      values.push(input.agent);
    }
    if (input.since !== undefined) {
      conditions.push('at >= ?');
      values.push(input.since);
    }
    return this.read('list routing decisions', () => {
      const rows = this.decisionStatement(conditions).all(...values, input.limit + 1) as DecisionRow[];
      const page = rows.slice(0, input.limit);
      return {
        decisions: page.map(toDecision),
        next_cursor: rows.length > input.limit ? encodeDecisionCursor(page.at(-1)!.id) : null,
      };
    });
  }

  async pruneDecisions(days: number, keep: number): Promise<DecisionPruneResult> {
    const input = parsePrune(days, keep);
    return this.write('prune routing decisions', () => {
      const cutoff = new Date(this.now().getTime() - input.days * 86_400_000).toISOString();
      const expired = this.statements.expireDecisions.run(cutoff).changes;
      const over_cap = this.statements.capDecisions.run(input.keep).changes;
      return { expired, over_cap };
    });
  }

  async health(): Promise<SessionStoreHealth> {
    const base: SessionStoreHealth = {
      status: 'ok',
      backend: this.backend,
      path: this.path,
      ...(this.quarantine === undefined ? {} : { quarantined: this.quarantine }),
    };
    if (this.closed) return { ...base, status: 'unavailable', error: 'The session store is closed.' };
    if (this.corruption !== undefined) return { ...base, status: 'unavailable', error: this.corruption };
    try {
      return {
        ...base,
        schema_version: this.schemaVersion,
        journal_mode: this.db.pragma('journal_mode', { simple: true }),
        synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][
          this.db.pragma('synchronous', { simple: true }) as number
        ],
        pending_writes: this.queue.size,
      };
    } catch (error) {
      return { ...base, status: 'unavailable', error: this.fail(error, 'check the database').message };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    this.db.close();
  }

  private adkState(appName: string, userId: string): string | undefined {
    return (this.adk.selectState.get(appName, userId) as { state: string } | undefined)?.state;
  }

  private timestamp(): string {
    return this.now().toISOString();
  }

  /** Mark the session updated now, inside the write; throws `session_not_found` before anything is written. */
  private touch(sessionId: string): string {
    const now = this.timestamp();
    if (this.statements.touchSession.run(now, sessionId).changes === 0) throw sessionNotFound(sessionId);
    return now;
  }

  private assertExists(sessionId: string): void {
    if (this.statements.sessionExists.get(sessionId) === undefined) throw sessionNotFound(sessionId);
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError('database_unavailable', 'The session store is closed.');
  }

  private async write<T>(action: string, work: () => T): Promise<T> {
    this.assertOpen();
    try {
      return await this.queue.enqueue(work);
    } catch (error) {
      throw this.fail(error, action);
    }
  }

  private read<T>(action: string, work: () => T): T {
    this.assertOpen();
    try {
      return work();
    } catch (error) {
      throw this.fail(error, action);
    }
  }

  private fail(error: unknown, action: string): AppError {
    if (isCorruptionError(error)) {
      this.corruption = `The session database is corrupt (${messageOf(error)}); restart the service to quarantine it.`;
    }
    return toStoreError(error, action);
  }

  private decisionStatement(conditions: readonly string[]): Statement {
    const key = conditions.join(' AND ');
    let statement = this.decisionStatements.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(
        `SELECT id, at, session_id, query, query_hashed, candidates, selected, follow_up, revision
         FROM routing_decisions ${key === '' ? '' : `WHERE ${key}`} ORDER BY id DESC LIMIT ?`,
      );
      this.decisionStatements.set(key, statement);
    }
    return statement;
  }

  private listStatementsFor(
    byUser: boolean,
    byStatus: boolean,
    afterCursor: boolean,
  ): { page: Statement; count: Statement } {
    const key = `${byUser}:${byStatus}:${afterCursor}`;
    let statements = this.listStatements.get(key);
    if (statements === undefined) {
      const filters = [byUser ? 's.user_id = ?' : '', byStatus ? 's.status = ?' : ''].filter(Boolean);
      // The listing order is (updated_at DESC, session_id ASC): "after" the cursor is older, or as old with a
      // greater id.
      const conditions = afterCursor
        ? [...filters, '(s.updated_at < ? OR (s.updated_at = ? AND s.session_id > ?))']
        : filters;
      const where = (list: string[]) => (list.length === 0 ? '' : `WHERE ${list.join(' AND ')}`);
      statements = {
        page: this.db.prepare(
          `SELECT ${SESSION_COLUMNS}, ${COUNT_COLUMNS} ${SESSIONS_WITH_CONTEXT} ${where(conditions)}
            ORDER BY s.updated_at DESC, s.session_id LIMIT ? OFFSET ?`,
        ),
        count: this.db.prepare(`SELECT count(*) AS total FROM sessions s ${where(filters)}`),
      };
      this.listStatements.set(key, statements);
    }
    return statements;
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
    session_id: row.session_id,
    app_name: row.app_name,
    user_id: row.user_id,
    state: JSON.parse(row.state),
    last_update_time: row.last_update_time,
  };
}

const ADK_SESSION_COLUMNS = `a.session_id, a.app_name, s.user_id, a.state, a.last_update_time
  FROM adk_sessions a JOIN sessions s ON s.session_id = a.session_id`;

function prepareAdkStatements(db: SqliteConnection) {
  return {
    selectOwner: db.prepare(
      `SELECT s.user_id,
         EXISTS (SELECT 1 FROM adk_sessions a WHERE a.session_id = s.session_id AND a.app_name = ?) AS adk
       FROM sessions s WHERE s.session_id = ?`,
    ),
    insertSession: db.prepare(
      'INSERT INTO adk_sessions (session_id, app_name, state, last_update_time) VALUES (?, ?, ?, ?)',
    ),
    selectSession: db.prepare(`SELECT ${ADK_SESSION_COLUMNS} WHERE a.session_id = ? AND a.app_name = ?`),
    listByApp: db.prepare(`SELECT ${ADK_SESSION_COLUMNS} WHERE a.app_name = ? ORDER BY a.rowid`),
    listByUser: db.prepare(
      `SELECT ${ADK_SESSION_COLUMNS} WHERE a.app_name = ? AND s.user_id = ? ORDER BY a.rowid`,
    ),
    updateSession: db.prepare(
      'UPDATE adk_sessions SET state = ?, last_update_time = ? WHERE session_id = ? AND app_name = ?',
    ),
    selectEvents: db.prepare(
      'SELECT event FROM adk_events WHERE session_id = ? AND app_name = ? ORDER BY id',
    ),
    upsertEvent: db.prepare(
      `INSERT INTO adk_events (session_id, app_name, event_id, timestamp_ms, event) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id, app_name, event_id) DO UPDATE SET timestamp_ms = excluded.timestamp_ms, event = excluded.event`,
    ),
    selectState: db.prepare('SELECT state FROM adk_state WHERE app_name = ? AND user_id = ?'),
    upsertState: db.prepare(
      `INSERT INTO adk_state (app_name, user_id, state) VALUES (?, ?, ?)
       ON CONFLICT (app_name, user_id) DO UPDATE SET state = excluded.state`,
    ),
  };
}

function prepareStatements(db: SqliteConnection) {
  const idsIn = 'session_id IN (SELECT value FROM json_each(?))';
  return {
    insertSession: db.prepare(
      "INSERT INTO sessions (session_id, user_id, created_at, updated_at, status, metadata) VALUES (?, ?, ?, ?, 'active', ?)",
    ),
    // Every change to a session bumps its version (read by getSessionVersion for caching and ETags).
    touchSession: db.prepare(
      'UPDATE sessions SET updated_at = ?, version = version + 1 WHERE session_id = ?',
    ),
    setStatus: db.prepare(
      'UPDATE sessions SET status = ?, updated_at = ?, version = version + 1 WHERE session_id = ?',
    ),
    selectVersion: db.prepare('SELECT version FROM sessions WHERE session_id = ?'),
    sessionExists: db.prepare('SELECT 1 FROM sessions WHERE session_id = ?'),
    selectSession: db.prepare(`SELECT ${SESSION_COLUMNS} ${SESSIONS_WITH_CONTEXT} WHERE s.session_id = ?`),
    deleteSession: db.prepare('DELETE FROM sessions WHERE session_id = ?'),
    insertMessage: db.prepare(
      'INSERT INTO conversation_history (session_id, role, content, timestamp) VALUES (?, ?, ?, ?)',
    ),
    selectHistory: db.prepare(
      'SELECT role, content, timestamp FROM conversation_history WHERE session_id = ? ORDER BY id LIMIT ? OFFSET ?',
    ),
    insertInvocation: db.prepare(
      `INSERT INTO agent_invocations (session_id, agent_name, query, response, success, error_message, duration_ms, timestamp)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    selectInvocations: db.prepare(
      `SELECT agent_name, query, response, success, error_message, duration_ms, timestamp
       FROM agent_invocations WHERE session_id = ? ORDER BY id LIMIT ? OFFSET ?`,
    ),
    upsertContext: db.prepare(
      `INSERT INTO session_context (session_id, last_agent_called, last_query, last_response, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET last_agent_called = excluded.last_agent_called,
         last_query = excluded.last_query, last_response = excluded.last_response, updated_at = excluded.updated_at`,
    ),
    selectContext: db.prepare(
      'SELECT last_agent_called, last_query, last_response, updated_at FROM session_context WHERE session_id = ?',
    ),
    expireIdle: db.prepare(
      `UPDATE sessions SET status = 'expired', updated_at = ?, version = version + 1 WHERE session_id IN
       (SELECT session_id FROM sessions WHERE status = 'active' AND updated_at < ? LIMIT ?)`,
    ),
    selectOld: db.prepare(
      "SELECT session_id FROM sessions WHERE status IN ('completed', 'expired') AND updated_at < ? LIMIT ?",
    ),
    countMessages: db.prepare(`SELECT count(*) AS n FROM conversation_history WHERE ${idsIn}`),
    countInvocations: db.prepare(`SELECT count(*) AS n FROM agent_invocations WHERE ${idsIn}`),
    deleteSessions: db.prepare(`DELETE FROM sessions WHERE ${idsIn}`),
    deleteSessionDecisions: db.prepare('DELETE FROM routing_decisions WHERE session_id = ?'),
    deleteDecisionsOf: db.prepare(`DELETE FROM routing_decisions WHERE ${idsIn}`),
    insertDecision: db.prepare(
      `INSERT INTO routing_decisions (at, session_id, query, query_hashed, candidates, selected, follow_up, revision)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    expireDecisions: db.prepare('DELETE FROM routing_decisions WHERE at < ?'),
    capDecisions: db.prepare(
      'DELETE FROM routing_decisions WHERE id <= (SELECT id FROM routing_decisions ORDER BY id DESC LIMIT 1 OFFSET ?)',
    ),
  };
}

function toSummary(row: SessionRow): SessionFields {
  return {
    session_id: row.session_id,
    user_id: row.user_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
    status: row.status,
    metadata: JSON.parse(row.metadata) as SessionMetadata,
    last_agent_called: row.last_agent_called,
  };
}

function toDecision(row: DecisionRow): RoutingDecision {
  return {
    at: row.at,
    query: row.query,
    query_hashed: row.query_hashed === 1,
    candidates: JSON.parse(row.candidates) as RoutingDecision['candidates'],
    selected: JSON.parse(row.selected) as string[],
    follow_up: row.follow_up === 1,
    revision: row.revision,
    session_id: row.session_id,
  };
}

function toInvocation(row: InvocationRow): Invocation {
  return { ...row, success: row.success === 1 };
}
