/**
 * @module registry/data-dir-lock
 * One process per data directory. The registry file is rewritten whole on every change, so two processes
 * sharing it would silently lose each other's updates; the second one must refuse to start instead.
 *
 * The lock is an exclusive SQLite lock on `DATA_DIR/.lock` (a POSIX advisory lock taken through
 * better-sqlite3, already a dependency): the kernel releases it when the holder exits, even on SIGKILL, so
 * there is no stale-lock guessing. `DATA_DIR/.lock.json` names the holder for the error message.
 * Advisory locks are unreliable on some network filesystems: keep DATA_DIR on a local disk.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError, messageOf } from '../errors.js';

export const LOCK_FILE = '.lock';
export const LOCK_INFO_FILE = '.lock.json';

export interface LockHolder {
  pid: number;
  hostname: string;
  started_at: string;
  command: string;
}

export class DataDirLock {
  private constructor(
    readonly dataDir: string,
    private db: Database.Database | undefined,
  ) {}

  /**
   * Take the lock or throw `data_dir_locked` naming the holder. `dataDir` must exist.
   * Holding it in the same process twice is refused as well.
   */
  static acquire(dataDir: string): DataDirLock {
    const lockPath = path.join(dataDir, LOCK_FILE);
    const infoPath = path.join(dataDir, LOCK_INFO_FILE);
    const db = new Database(lockPath, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // A write in exclusive locking mode takes the EXCLUSIVE lock and keeps it until the connection closes.
      db.exec(
        'BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT;',
      );
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new AppError('data_dir_locked', describeHolder(dataDir, readHolder(infoPath)), {
          cause: error,
        });
      }
      throw new AppError(
        'storage_error',
        `Could not lock the data directory ${dataDir}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    const holder: LockHolder = {
      pid: process.pid,
      hostname: os.hostname(),
      started_at: new Date().toISOString(),
      command: process.argv.slice(1).join(' '),
    };
    try {
      writeFileSync(infoPath, `${JSON.stringify(holder, null, 2)}\n`);
    } catch {
      // The lock itself is held; the info file only improves another process's error message.
    }
    return new DataDirLock(dataDir, db);
  }

  get held(): boolean {
    return this.db !== undefined;
  }

  /** Release the lock (idempotent). The kernel also releases it if the process dies. */
  release(): void {
    if (this.db === undefined) return;
    rmSync(path.join(this.dataDir, LOCK_INFO_FILE), { force: true });
    this.db.close();
    this.db = undefined;
  }
}

function readHolder(infoPath: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(infoPath, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

function describeHolder(dataDir: string, holder: LockHolder | undefined): string {
  const who =
    holder === undefined
      ? 'another process'
      : `process ${holder.pid} on ${holder.hostname} (started ${holder.started_at}: ${holder.command})`;
  return (
    `The data directory ${dataDir} is in use by ${who}. Only one process may use a data directory: ` +
    'stop the other process or give this one its own DATA_DIR. Several replicas on shared data need the ' +
    'PostgreSQL backend: set DATABASE_URL=postgres://... (see docs/deployment.md).'
  );
}
