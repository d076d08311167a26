/**
 * @module postgres/postgres-group-commit
 * Group commit on PostgreSQL: writes requested while a transaction is running (or within one event-loop
 * turn) share the next `BEGIN ... COMMIT`, so concurrent callers share one WAL flush. One batch runs at a
 * time, its writes in call order, so writes to one row land in the order they were requested. Every
 * caller's promise settles after the COMMIT, never before.
 */
import { type AppError, isAppError, messageOf } from '../errors.js';
import { isConnectionFailure, isRetryableTransactionError, sqlState } from './postgres-error.js';
import {
  abortedTransaction,
  commit,
  type PostgresPool,
  type PostgresQueryable,
  rollbackQuietly,
} from './postgres-pool.js';

/** SQLSTATE of a statement sent in a transaction that an earlier failed statement aborted. */
const IN_FAILED_TRANSACTION = '25P02';

/**
 * One write: statements on the batch's connection, inside its transaction. It may run more than once (only
 * its last run is committed). It refuses by throwing an `AppError` *before* changing anything, e.g. when
 * an `UPDATE` matched no row; any other error aborts the transaction, which is then run again without it.
 */
export type GroupWrite<T> = (db: PostgresQueryable) => Promise<T>;

/** What one call of a combined write came to: its result, or the `AppError` refusing it. */
export type WriteOutcome<T> = { value: T } | { refused: AppError };

/**
 * A kind of write whose consecutive calls in a batch run together, e.g. as one multi-row statement:
 * `runMany` gets their arguments in call order and returns one outcome per argument. Nothing of a refused
 * call may be written. When it throws, the calls are run again one by one to find the one at fault.
 */
export interface CombinedWrite<A, T> {
  runMany(db: PostgresQueryable, args: readonly A[]): Promise<WriteOutcome<T>[]>;
}

export interface PostgresGroupCommitOptions {
  /** Most writes per transaction (default 512), which bounds how long one transaction holds its locks. */
  maxBatchSize?: number;
  /** Times a batch is run again after a deadlock or serialization failure (default 3). */
  retries?: number;
}

interface PendingWrite {
  kind: CombinedWrite<unknown, unknown>;
  arg: unknown;
  /** Run alone from now on: its combined run failed, and the culprit is being looked for. */
  solo: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class PostgresGroupCommit {
  private pending: PendingWrite[] = [];
  private inFlight = 0;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxBatchSize: number;
  private readonly retries: number;

  constructor(
    private readonly pool: PostgresPool,
    options: PostgresGroupCommitOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? 512;
    this.retries = options.retries ?? 3;
  }

  /** Writes waiting for or inside a transaction that has not committed yet. */
  get size(): number {
    return this.pending.length + this.inFlight;
  }

  /**
   * Run `write` in the next group transaction. Resolves with its result once committed; rejects with its
   * own error (the others' changes kept), or with the transaction's error when the connection, BEGIN or
   * COMMIT fails (then the batch is not acknowledged: it was rolled back, or, when the connection broke
   * during COMMIT, its fate is unknown).
   */
  enqueue<T>(write: GroupWrite<T>): Promise<T> {
    return this.enqueueCombined<undefined, T>(
      {
        runMany: async (db) => {
          try {
            return [{ value: await write(db) }];
          } catch (error) {
            if (isAppError(error)) return [{ refused: error }];
            throw error;
          }
        },
      },
      undefined,
    );
  }

  /** Like `enqueue`, for a call of a write kind whose consecutive calls run together. */
  enqueueCombined<A, T>(kind: CombinedWrite<A, T>, arg: A): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        kind: kind as CombinedWrite<unknown, unknown>,
        arg,
        solo: false,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.schedule();
    });
  }

  /** Resolves once every write queued so far has settled. */
  drain(): Promise<void> {
    if (this.pending.length === 0 && this.running === undefined && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running !== undefined) return;
    this.scheduled = true;
    // setImmediate, not a microtask: requests parsed in the same I/O phase join the first batch.
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.run().finally(() => {
        this.running = undefined;
        if (this.pending.length > 0) this.schedule();
        else for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    });
  }

  private async run(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatchSize);
      this.inFlight = batch.length;
      await this.runBatch(batch);
      this.inFlight = 0;
    }
  }

  private async runBatch(batch: PendingWrite[]): Promise<void> {
    let live = batch;
    let retries = 0;
    try {
      await this.pool.withClient(async (db) => {
        while (live.length > 0) {
          try {
            live = await this.runOnce(db, live);
          } catch (error) {
            if (isRetryableTransactionError(error) && retries++ < this.retries) continue;
            throw error;
          }
        }
      });
    } catch (error) {
      for (const item of live) item.reject(error);
    }
  }

  /**
   * One transaction over `items`. Returns the writes still to run: none once committed (every item
   * settled), all of them when a combined run failed (its calls then run alone), or all but the one whose
   * statement failed (it is rejected, the transaction rolled back). Throws, settling nothing, when the
   * whole transaction failed.
   */
  private async runOnce(db: PostgresQueryable, items: PendingWrite[]): Promise<PendingWrite[]> {
    await db.query('BEGIN');
    const outcomes: WriteOutcome<unknown>[] = [];
    for (let start = 0; start < items.length; ) {
      const group = consecutiveGroup(items, start);
      try {
        const results = await group[0]!.kind.runMany(
          db,
          group.map((item) => item.arg),
        );
        outcomes.push(...results.slice(0, group.length));
      } catch (error) {
        await rollbackQuietly(db, error);
        if (isConnectionFailure(error) || isRetryableTransactionError(error)) throw error;
        // An earlier write hid its failure: this one is not the culprit, and the batch cannot be trusted.
        if (sqlState(error) === IN_FAILED_TRANSACTION) throw abortedTransaction(messageOf(error));
        if (group.length > 1) {
          for (const item of group) item.solo = true;
          return items;
        }
        group[0]!.reject(error);
        return items.filter((other) => other !== group[0]);
      }
      start += group.length;
    }
    try {
      await commit(db);
    } catch (error) {
      await rollbackQuietly(db, error);
      throw error;
    }
    items.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome !== undefined && 'value' in outcome) item.resolve(outcome.value);
      else item.reject(outcome?.refused ?? new Error('a combined write returned too few outcomes'));
    });
    return [];
  }
}

/** The items from `start` on that run together: consecutive calls of one combined kind, none of them solo. */
function consecutiveGroup(items: readonly PendingWrite[], start: number): PendingWrite[] {
  const first = items[start]!;
  let end = start + 1;
  if (!first.solo) {
    while (end < items.length && items[end]!.kind === first.kind && !items[end]!.solo) end++;
  }
  return items.slice(start, end);
}
