/**
 * @module metrics/instrumented-session-store
 * A `SessionStore` decorator that times every write until it is durable (or failed) and counts the agent
 * invocations it records, by agent and outcome. Reads pass straight through. Works with any backend.
 */

import { performance } from 'node:perf_hooks';
import type {
  AdkEventAppend,
  AdkSessionInput,
  AdkSessionRecord,
  AdkStoredSession,
} from '../sessions/adk-session-record.js';
import type {
  DecisionList,
  DecisionListQuery,
  DecisionPruneResult,
  RoutingDecisionInput,
} from '../sessions/routing-decision.js';
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
} from '../sessions/session-record.js';
import type { CleanupOptions, SessionStore, SessionStoreHealth } from '../sessions/session-store.js';
import type { ServiceMetrics } from './service-metrics.js';

export interface InstrumentedSessionStoreOptions {
  /**
   * The label an invocation's agent is counted under. Agent names come from callers, so only names the
   * registry knows should become labels (unbounded label values would grow the metrics without end).
   */
  agentLabel?: (agentName: string) => string;
}

export class InstrumentedSessionStore implements SessionStore {
  private readonly agentLabel: (agentName: string) => string;

  constructor(
    private readonly inner: SessionStore,
    private readonly metrics: ServiceMetrics,
    options: InstrumentedSessionStoreOptions = {},
  ) {
    this.agentLabel = options.agentLabel ?? ((name) => name);
  }

  get backend(): string {
    return this.inner.backend;
  }

  createSession(userId: string, metadata?: SessionMetadata): Promise<string> {
    return this.timed('create_session', () => this.inner.createSession(userId, metadata));
  }

  updateSessionStatus(sessionId: string, status: SessionStatus): Promise<void> {
    return this.timed('update_status', () => this.inner.updateSessionStatus(sessionId, status));
  }

  async trackInvocation(sessionId: string, invocation: InvocationInput): Promise<void> {
    await this.timed('track_invocation', () => this.inner.trackInvocation(sessionId, invocation));
    // Counted once stored: a refused invocation (unknown session, bad input) did not happen.
    this.metrics.observeInvocation(
      this.agentLabel(invocation.agent_name),
      invocation.success,
      invocation.duration_ms,
    );
  }

  addToHistory(sessionId: string, role: MessageRole, content: string): Promise<void> {
    return this.timed('add_history', () => this.inner.addToHistory(sessionId, role, content));
  }

  updateContext(sessionId: string, context: ContextInput): Promise<void> {
    return this.timed('update_context', () => this.inner.updateContext(sessionId, context));
  }

  deleteSession(sessionId: string): Promise<void> {
    return this.timed('delete_session', () => this.inner.deleteSession(sessionId));
  }

  cleanupOldSessions(days?: number, options?: CleanupOptions): Promise<CleanupResult> {
    return this.timed('cleanup', () => this.inner.cleanupOldSessions(days, options));
  }

  recordDecisions(decisions: readonly RoutingDecisionInput[]): Promise<void> {
    return this.timed('record_decisions', () => this.inner.recordDecisions(decisions));
  }

  listDecisions(query?: DecisionListQuery): Promise<DecisionList> {
    return this.inner.listDecisions(query);
  }

  pruneDecisions(days: number, keep: number): Promise<DecisionPruneResult> {
    return this.timed('prune_decisions', () => this.inner.pruneDecisions(days, keep));
  }

  getSession(sessionId: string, options?: GetSessionOptions): Promise<Session> {
    return this.inner.getSession(sessionId, options);
  }

  getConversationHistory(sessionId: string, page?: Page): Promise<HistoryEntry[]> {
    return this.inner.getConversationHistory(sessionId, page);
  }

  getInvocations(sessionId: string, page?: Page): Promise<Invocation[]> {
    return this.inner.getInvocations(sessionId, page);
  }

  getSessionVersion(sessionId: string): Promise<number> {
    return this.inner.getSessionVersion(sessionId);
  }

  getContext(sessionId: string): Promise<SessionContext> {
    return this.inner.getContext(sessionId);
  }

  listSessions(query?: SessionListQuery): Promise<SessionList> {
    return this.inner.listSessions(query);
  }

  createAdkSession(input: AdkSessionInput): Promise<AdkSessionRecord> {
    return this.timed('create_adk_session', () => this.inner.createAdkSession(input));
  }

  appendAdkEvent(sessionId: string, appName: string, append: AdkEventAppend): Promise<void> {
    return this.timed('append_adk_event', () => this.inner.appendAdkEvent(sessionId, appName, append));
  }

  getAdkSession(sessionId: string, appName: string): Promise<AdkStoredSession | undefined> {
    return this.inner.getAdkSession(sessionId, appName);
  }

  listAdkSessions(appName: string, userId?: string): Promise<AdkSessionRecord[]> {
    return this.inner.listAdkSessions(appName, userId);
  }

  health(): Promise<SessionStoreHealth> {
    return this.inner.health();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async timed<T>(operation: string, write: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await write();
      this.metrics.observeSessionWrite(operation, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      this.metrics.observeSessionWrite(operation, 'error', (performance.now() - started) / 1000);
      throw error;
    }
  }
}
