/**
 * @module sessions/group-commit-queue
 * Group commit on a synchronous SQLite connection: the writes requested within one event-loop turn share
 * one `BEGIN IMMEDIATE ... COMMIT` (one fsync), each in its own savepoint so a failing write fails only
 * its own caller. Every caller's promise settles after the COMMIT, never before.
 */
import type { Statement } from 'better-sqlite3';
import type { SqliteConnection } from './sqlite-database.js';

export interface GroupCommitQueueOptions {
  /** At most this many writes per transaction, which bounds how long one commit blocks the event loop. */
  maxBatchSize?: number;
}

export const DEFAULT_MAX_BATCH_SIZE = 512;

interface PendingWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommitQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly maxBatchSize: number;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  constructor(
    private readonly db: SqliteConnection,
    options: GroupCommitQueueOptions = {},
  ) {
    this.maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT queued_write');
    this.release = db.prepare('RELEASE queued_write');
    this.rollbackTo = db.prepare('ROLLBACK TO queued_write');
  }

  /** Writes waiting for the next commit. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Run `write` (synchronous statements on the connection) in the next group transaction. Resolves with
   * its result once committed; rejects with its error (its own changes rolled back, the others' kept), or
   * with the transaction's error when BEGIN or COMMIT fails (then nothing of the batch was saved).
   */
  enqueue<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once every write queued so far has settled. */
  drain(): Promise<void> {
    if (this.pending.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: requests parsed in the same I/O phase join the batch.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatchSize);
    if (this.pending.length > 0) this.schedule();
    const outcomes = this.runBatch(batch);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
    if (!this.scheduled) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private runBatch(batch: readonly PendingWrite[]): Outcome[] {
    const failAll = (error: unknown): Outcome[] => batch.map(() => ({ ok: false, error }));
    try {
      this.begin.run();
    } catch (error) {
      return failAll(error);
    }
    const outcomes: Outcome[] = [];
    for (const item of batch) {
      this.savepoint.run();
      try {
        const value = item.write();
        this.release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        if (!this.undoOne()) {
          // SQLite rolled back the whole transaction (disk full, I/O error): nothing of the batch was saved.
          this.abort();
          return failAll(error);
        }
        outcomes.push({ ok: false, error });
      }
    }
    try {
      this.commit.run();
    } catch (error) {
      this.abort();
      return failAll(error);
    }
    return outcomes;
  }

  /** Undo the current write only; false when the transaction itself is gone or cannot continue. */
  private undoOne(): boolean {
    if (!this.db.inTransaction) return false;
    try {
      this.rollbackTo.run();
      this.release.run();
      return true;
    } catch {
      return false;
    }
  }

  private abort(): void {
    if (!this.db.inTransaction) return;
    try {
      this.rollback.run();
    } catch {
      // The connection reports the failure on its next use; there is nothing more to undo here.
    }
  }
}
