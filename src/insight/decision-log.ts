/**
 * @module insight/decision-log
 * Writes every routing decision to the session store off the request path: `record` only queues, and a
 * background flush writes the queue in batches, one write at a time. A failed write is logged and counted,
 * never surfaced to the request that was routed; when the store stays away, the queue is bounded and the
 * overflow is dropped (and counted). With `logQueries: false` only a SHA-256 of each query is stored.
 */
import { createHash } from 'node:crypto';
import { messageOf } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { RoutingDecisionInput } from '../sessions/routing-decision.js';
import type { SessionStore } from '../sessions/session-store.js';

/** What the log counts, for `/metrics`. */
export type DecisionLogOutcome = 'written' | 'failed' | 'dropped';

export interface DecisionLogOptions {
  store: Pick<SessionStore, 'recordDecisions'>;
  /** False (`ROUTER_LOG_QUERIES=false`): store `sha256:<hex>` of the query instead of its text. */
  logQueries: boolean;
  logger?: Logger;
  now?: () => Date;
  /** Told how many decisions were written, failed or dropped. */
  observe?: (outcome: DecisionLogOutcome, count: number) => void;
  /** Decisions per write (default 256). */
  batchSize?: number;
  /** Decisions queued at most while writes are slow or failing; beyond that they are dropped (default 10,000). */
  maxPending?: number;
}

/** One routing call as the route handler saw it. */
export interface RoutedQuery {
  query: string;
  session_id: string | undefined;
  revision: number;
  result: {
    selected: readonly string[];
    candidates: readonly { name: string; score: number }[];
    follow_up: boolean;
  };
}

export interface DecisionLogStats {
  pending: number;
  written: number;
  failed: number;
  dropped: number;
}

/** `sha256:<hex>` of a query: equal queries stay countable without their text being kept. */
export function hashQuery(query: string): string {
  return `sha256:${createHash('sha256').update(query, 'utf8').digest('hex')}`;
}

export class DecisionLog {
  private readonly pending: RoutingDecisionInput[] = [];
  private flushing: Promise<void> | undefined;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly batchSize: number;
  private readonly maxPending: number;
  private readonly counts = { written: 0, failed: 0, dropped: 0 };
  private lastFailureLogged = 0;

  constructor(private readonly options: DecisionLogOptions) {
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? (() => new Date());
    this.batchSize = options.batchSize ?? 256;
    this.maxPending = options.maxPending ?? 10_000;
  }

  /** Queue a decision; returns at once and never throws. */
  record(routed: RoutedQuery): void {
    if (this.pending.length >= this.maxPending) {
      this.count('dropped', 1);
      return;
    }
    const hashed = !this.options.logQueries;
    this.pending.push({
      at: this.now().toISOString(),
      query: hashed ? hashQuery(routed.query) : routed.query,
      query_hashed: hashed,
      candidates: routed.result.candidates.map(({ name, score }) => ({ name, score })),
      selected: [...routed.result.selected],
      follow_up: routed.result.follow_up,
      revision: routed.revision,
      session_id: routed.session_id ?? null,
    });
    // After the response is on its way: the batch grows with every request of the same tick.
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once everything queued so far is written (or has failed). */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  stats(): DecisionLogStats {
    return { pending: this.pending.length, ...this.counts };
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.batchSize);
        try {
          await this.options.store.recordDecisions(batch);
          this.count('written', batch.length);
        } catch (error) {
          this.count('failed', batch.length);
          // A store that is away fails every batch: say so at most once a minute.
          const now = this.now().getTime();
          if (now - this.lastFailureLogged >= 60_000) {
            this.lastFailureLogged = now;
            this.logger.error(
              { err: error, decisions: batch.length },
              `could not log routing decisions (${messageOf(error)}); routing is unaffected`,
            );
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private count(outcome: DecisionLogOutcome, n: number): void {
    this.counts[outcome] += n;
    this.options.observe?.(outcome, n);
  }
}
