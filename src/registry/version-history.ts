/**
 * @module registry/version-history
 * The file backend's agent versions: a SQLite database beside the registry file (DATA_DIR/registry_history.db).
 * `FileStore` writes a save's versions in a transaction that spans the registry file's replacement (BEGIN,
 * rows, durable file replace, COMMIT; ROLLBACK when the file write fails), so an acknowledged change always
 * has its version. A crash between the file replace and the COMMIT leaves the file ahead of the history:
 * the next load records the difference with actor `recovered`. Reads use a second connection, so they
 * never see the rows of a save that is still in flight.
 *
 * Durability without blocking: the writer runs `synchronous = NORMAL` (a COMMIT appends to the WAL and returns
 * at once), and the commit then fsyncs the WAL file through the thread pool before it resolves. That is as
 * durable as `FULL` (whose COMMIT fsyncs the same WAL, but synchronously, on the event loop: 1-3 ms per save
 * that no request could use), and SQLite still syncs the WAL before each checkpoint and the database after it.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { openSqliteDatabase, type SqliteConnection } from '../sessions/sqlite-database.js';
import type { AgentRecord } from './agent-record.js';
import { type AgentVersion, agentNotFound, type ChangeType, versionNotFound } from './registry-store.js';

export const HISTORY_DB = 'registry_history.db';
const SCHEMA_VERSION = 1;

/** One version to write. `record` is the record's JSON (for a deletion: the record that was deleted). */
export interface VersionRow {
  name: string;
  version: number;
  revision: number;
  type: ChangeType;
  record: string;
  at: string;
  actor: string;
}

/** The newest version of a name. */
export interface LatestVersion {
  version: number;
  type: ChangeType;
  record: string;
}

/** Writes begun and not yet committed or rolled back. */
export interface PendingVersions {
  /** COMMIT, then resolves once the commit is on disk (the WAL fsync'd). */
  commit(): Promise<void>;
  rollback(): void;
}

export interface VersionHistoryOptions {
  versionsKept: number;
  logger?: Logger;
}

export class VersionHistory {
  private readonly insert;
  private readonly prune;
  private readonly walPath: string;

  private constructor(
    file: string,
    private readonly writer: SqliteConnection,
    private readonly reader: SqliteConnection,
    private readonly versionsKept: number,
  ) {
    this.walPath = `${file}-wal`;
    this.insert = writer.prepare(
      'INSERT INTO registry_versions (name, version, revision, type, record, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.prune = writer.prepare('DELETE FROM registry_versions WHERE name = ? AND version <= ?');
  }

  /** Open (creating) the history database in `dataDir`; the caller holds the data directory's lock. */
  static open(dataDir: string, options: VersionHistoryOptions): VersionHistory {
    const file = path.join(dataDir, HISTORY_DB);
    const logger = options.logger === undefined ? {} : { logger: options.logger };
    const writer = openSqliteDatabase(file, { synchronous: 'NORMAL', ...logger }).db;
    try {
      const schema = writer.pragma('user_version', { simple: true }) as number;
      if (schema > SCHEMA_VERSION) {
        throw new AppError(
          'database_unavailable',
          `${file} was written by a newer version of the service (history schema ${schema}); upgrade the service`,
        );
      }
      writer.exec(`
        CREATE TABLE IF NOT EXISTS registry_versions (
          name TEXT NOT NULL,
          version INTEGER NOT NULL,
          revision INTEGER NOT NULL,
          type TEXT NOT NULL CHECK (type IN ('registered', 'updated', 'deleted')),
          record TEXT NOT NULL,
          at TEXT NOT NULL,
          actor TEXT NOT NULL,
          PRIMARY KEY (name, version)
        ) WITHOUT ROWID;
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
      const reader = openSqliteDatabase(file, { quickCheck: false, ...logger }).db;
      return new VersionHistory(file, writer, reader, options.versionsKept);
    } catch (error) {
      writer.close();
      throw error;
    }
  }

  /** The newest version of every name that has one (deleted names included). */
  latest(): Map<string, LatestVersion> {
    // SQLite takes the bare columns from the row holding max(version).
    const rows = this.writer
      .prepare('SELECT name, max(version) AS version, type, record FROM registry_versions GROUP BY name')
      .all() as ({ name: string } & LatestVersion)[];
    return new Map(rows.map(({ name, version, type, record }) => [name, { version, type, record }]));
  }

  /**
   * Write `rows` in a transaction left open: the caller commits once the registry file holds the same
   * changes, or rolls back. Versions beyond the kept number per name are deleted in the same transaction.
   */
  begin(rows: readonly VersionRow[]): PendingVersions {
    this.write(rows);
    let open = true;
    return {
      commit: async () => {
        if (!open) return;
        open = false;
        this.writer.exec('COMMIT');
        await this.syncWal();
      },
      rollback: () => {
        if (open) this.writer.exec('ROLLBACK');
        open = false;
      },
    };
  }

  /** `rows` written and committed durably at once, blocking (start-up reconciliation only). */
  record(rows: readonly VersionRow[]): void {
    if (rows.length === 0) return;
    this.write(rows);
    this.writer.exec('COMMIT');
    const fd = openSync(this.walPath, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** BEGIN and the rows, left open (rolled back when a row fails). */
  private write(rows: readonly VersionRow[]): void {
    this.writer.exec('BEGIN IMMEDIATE');
    try {
      for (const row of rows) {
        this.insert.run(row.name, row.version, row.revision, row.type, row.record, row.at, row.actor);
        if (row.version > this.versionsKept) this.prune.run(row.name, row.version - this.versionsKept);
      }
    } catch (error) {
      this.writer.exec('ROLLBACK');
      throw error;
    }
  }

  /** fsync the WAL in the thread pool: what `synchronous = FULL` does inside COMMIT. */
  private async syncWal(): Promise<void> {
    // The WAL exists while a connection is open (a checkpoint resets it, never deletes it).
    const handle = await open(this.walPath, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** The kept versions of `name`, newest first; `agent_not_found` when it has none. */
  list(name: string): AgentVersion[] {
    const rows = this.reader
      .prepare(
        'SELECT version, revision, type, at, actor FROM registry_versions WHERE name = ? ORDER BY version DESC',
      )
      .all(name) as AgentVersion[];
    if (rows.length === 0) throw agentNotFound(name);
    return rows;
  }

  /** The record version `version` of `name` left. */
  get(name: string, version: number): AgentRecord {
    const row = this.reader
      .prepare('SELECT record FROM registry_versions WHERE name = ? AND version = ?')
      .get(name, version) as { record: string } | undefined;
    if (row !== undefined) return JSON.parse(row.record) as AgentRecord;
    const known = this.reader.prepare('SELECT 1 FROM registry_versions WHERE name = ? LIMIT 1').get(name);
    throw known === undefined ? agentNotFound(name) : versionNotFound(name, version);
  }

  close(): void {
    this.reader.close();
    this.writer.close();
  }
}
