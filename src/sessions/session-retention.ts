/**
 * @module sessions/session-retention
 * Runs session retention in the service: expires idle active sessions and deletes old completed and
 * expired ones at start and then periodically, logging what it did. Any `SessionStore` works.
 */
import { messageOf } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { CleanupResult } from './session-record.js';
import type { SessionStore } from './session-store.js';

export interface SessionRetentionOptions {
  store: SessionStore;
  /** Completed and expired sessions older than this are deleted (`SESSION_RETENTION_DAYS`). */
  retentionDays: number;
  /** Active sessions idle this long become expired (`SESSION_IDLE_TIMEOUT_MINUTES`). */
  idleTimeoutMinutes: number;
  /**
   * Routing decisions kept at most (`ROUTER_DECISIONS_KEPT`); each run also deletes decisions older than
   * `retentionDays`. Unset, the decision log is left alone.
   */
  decisionsKept?: number;
  /** Minutes between runs (`SESSION_CLEANUP_INTERVAL_MINUTES`); 0 disables the periodic run. */
  intervalMinutes: number;
  logger?: Logger;
}

export class SessionRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<CleanupResult | undefined> | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: SessionRetentionOptions) {
    this.logger = options.logger ?? silentLogger();
  }

  /** One retention pass; throws what the store throws. */
  async runOnce(): Promise<CleanupResult> {
    const { store, retentionDays, idleTimeoutMinutes } = this.options;
    const result = await store.cleanupOldSessions(retentionDays, { idleTimeoutMinutes });
    const changed = Object.values(result).some((count) => count > 0);
    this.logger[changed ? 'info' : 'debug'](
      { retention: result },
      `Session retention: deleted ${result.deleted_sessions} sessions older than ${retentionDays} days ` +
        `(${result.deleted_messages} messages, ${result.deleted_invocations} invocations), ` +
        `expired ${result.expired_sessions} sessions idle for ${idleTimeoutMinutes} minutes`,
    );
    const { decisionsKept } = this.options;
    if (decisionsKept !== undefined) {
      const pruned = await store.pruneDecisions(retentionDays, decisionsKept);
      this.logger[pruned.expired + pruned.over_cap > 0 ? 'info' : 'debug'](
        { decisions: pruned },
        `Routing decision retention: deleted ${pruned.expired} decisions older than ${retentionDays} days ` +
          `and ${pruned.over_cap} beyond the newest ${decisionsKept}`,
      );
    }
    return result;
  }

  /** Run now and then every interval; the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== undefined) return;
    const { intervalMinutes } = this.options;
    if (intervalMinutes <= 0) {
      this.logger.info('Session retention is disabled (SESSION_CLEANUP_INTERVAL_MINUTES=0)');
      return;
    }
    this.timer = setInterval(() => this.tick(), intervalMinutes * 60_000);
    this.timer.unref();
    this.tick();
  }

  /** Resolves once the run in progress, if any, has finished (and the next interval may start one). */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Stop the timer and wait for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    // A slow run (a huge backlog on a busy disk) is not overlapped by the next one.
    if (this.running !== undefined) return;
    this.running = this.runOnce()
      .catch((error: unknown) => {
        this.logger.error(
          { err: error },
          `Session retention failed: ${messageOf(error)}; retrying at the next interval`,
        );
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
      });
  }
}
