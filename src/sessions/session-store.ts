/**
 * @module sessions/session-store
 * What the service needs from session storage. SQLite is the embedded backend; a PostgreSQL backend
 * implements the same interface and passes the same contract test suite.
 */

import type { AdkSessionBackend } from './adk-session-record.js';
import type { QuarantineReport } from './database-quarantine.js';
import type {
  DecisionList,
  DecisionListQuery,
  DecisionPruneResult,
  RoutingDecisionInput,
} from './routing-decision.js';
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
  SessionList,
  SessionListQuery,
  SessionMetadata,
  SessionStatus,
} from './session-record.js';

/** Retention defaults (the seed's 7 days; `SESSION_IDLE_TIMEOUT_MINUTES` defaults to a day). */
export const DEFAULT_RETENTION_DAYS = 7;
export const DEFAULT_IDLE_TIMEOUT_MINUTES = 1440;

export interface SessionStoreHealth {
  status: 'ok' | 'unavailable';
  backend: string;
  /** Why the store is unavailable. */
  error?: string;
  /** Set when a corrupt database was moved aside at start-up. */
  quarantined?: QuarantineReport;
  /** Backend-specific detail (path, journal mode, schema version, ...). */
  [detail: string]: unknown;
}

export interface CleanupOptions {
  /** Active sessions not updated for this long are marked `expired` (default 1440). */
  idleTimeoutMinutes?: number;
}

/**
 * Session storage. Every method validates its input first and throws `AppError('validation_error')`
 * naming the field, or `AppError('session_not_found')`; in both cases nothing is written. A write resolves
 * only once it is durable. I/O failures are `storage_error` or `database_unavailable`.
 * Timestamps are ISO-8601 UTC with milliseconds.
 */
export interface SessionStore extends AdkSessionBackend {
  readonly backend: string;

  /** Create an `active` session; returns its random, unguessable id. */
  createSession(userId: string, metadata?: SessionMetadata): Promise<string>;
  /** The whole session (CONTRACT.md `Session`); history and invocations can be read in pages. */
  getSession(sessionId: string, options?: GetSessionOptions): Promise<Session>;
  updateSessionStatus(sessionId: string, status: SessionStatus): Promise<void>;
  /** Record an agent call; a successful one also becomes the session's context (last agent, query, response). */
  trackInvocation(sessionId: string, invocation: InvocationInput): Promise<void>;
  addToHistory(sessionId: string, role: MessageRole, content: string): Promise<void>;
  /** Messages in insertion order. */
  getConversationHistory(sessionId: string, page?: Page): Promise<HistoryEntry[]>;
  /** Invocations in the order they were tracked. */
  getInvocations(sessionId: string, page?: Page): Promise<Invocation[]>;
  /**
   * A number that grows with every change to the session (messages, invocations, context, status): equal
   * versions mean equal contents, so readers can cache a session and answer conditional requests.
   */
  getSessionVersion(sessionId: string): Promise<number>;
  updateContext(sessionId: string, context: ContextInput): Promise<void>;
  getContext(sessionId: string): Promise<SessionContext>;
  /** Most recently updated first. */
  listSessions(query?: SessionListQuery): Promise<SessionList>;
  /** Delete a session with its history, invocations, context and ADK events. */
  deleteSession(sessionId: string): Promise<void>;
  /**
   * Retention: mark active sessions idle longer than the timeout `expired`, then delete completed and
   * expired sessions not updated for `days` days, with everything that hangs off them.
   */
  cleanupOldSessions(days?: number, options?: CleanupOptions): Promise<CleanupResult>;
  /**
   * The routing decision log: store a batch of decisions in one write (all or none; a decision's session
   * need not exist, nor still exist, and deleting a session deletes its decisions).
   */
  recordDecisions(decisions: readonly RoutingDecisionInput[]): Promise<void>;
  /** Decisions newest first, filtered, in keyset pages; a cursor that is not a `next_cursor` is refused. */
  listDecisions(query?: DecisionListQuery): Promise<DecisionList>;
  /** Retention of the log: delete decisions older than `days`, then all but the newest `keep`. */
  pruneDecisions(days: number, keep: number): Promise<DecisionPruneResult>;
  health(): Promise<SessionStoreHealth>;
  /** Finish pending writes and release the database; later calls fail with `database_unavailable`. */
  close(): Promise<void>;
}
