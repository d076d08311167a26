/**
 * @module sessions/sqlite-database
 * Opens the sessions SQLite file the one safe way: WAL, foreign keys verified on, a busy timeout, the
 * configured `synchronous`, and a quick_check first; a corrupt file is quarantined and replaced.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SqliteSynchronous } from '../config.js';
import { AppError, messageOf, systemErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { type QuarantineReport, quarantineDatabase } from './database-quarantine.js';
import { isCorruptionError } from './sqlite-error.js';

/** The better-sqlite3 connection; only the SQLite backend's modules see this type. */
export type SqliteConnection = Database.Database;

export interface SqliteDatabaseOptions {
  /** `FULL` (default): a commit is fsynced, so an acknowledged write survives power loss. */
  synchronous?: SqliteSynchronous;
  /** How long a write waits for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Run `PRAGMA quick_check` before use (default true; O(database size), on every open). */
  quickCheck?: boolean;
  /**
   * Further per-connection pragmas, e.g. `{cache_size: -16000}` or `{mmap_size: 268435456}`. Names are
   * lower-case identifiers; values numbers or identifiers.
   */
  pragmas?: Readonly<Record<string, number | string>>;
  logger?: Logger;
  now?: () => Date;
}

export interface OpenedSqliteDatabase {
  db: SqliteConnection;
  /** Set when a corrupt database was moved aside and an empty one created. */
  quarantine: QuarantineReport | undefined;
}

const SYNCHRONOUS_LEVELS: Record<SqliteSynchronous, number> = { NORMAL: 1, FULL: 2, EXTRA: 3 };
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Open (creating if needed) the database at `dbPath`. A file that is not a database, or fails
 * `quick_check`, is moved with its side files to `quarantine/<timestamp>/` next to it, an error naming
 * that folder is logged, and an empty database is opened instead; the bad file is never deleted.
 * Any other failure throws `database_unavailable`.
 */
export function openSqliteDatabase(
  dbPath: string,
  options: SqliteDatabaseOptions = {},
): OpenedSqliteDatabase {
  const logger = options.logger ?? silentLogger();
  const now = options.now ?? (() => new Date());
  ensureDirectory(path.dirname(dbPath));

  const check = existsSync(dbPath) ? checkExisting(dbPath, options.quickCheck !== false) : 'ok';
  let problem = check === 'ok' || check === 'inconclusive' ? undefined : check;
  if (problem === undefined) {
    let db: SqliteConnection | undefined;
    try {
      db = openConnection(dbPath, options);
      problem = check === 'inconclusive' ? quickCheck(db) : undefined;
    } catch (error) {
      db?.close();
      if (!isCorruptionError(error)) throw cannotOpen(dbPath, error);
      problem = describeSqliteError(error);
    }
    if (problem === undefined) return { db: db!, quarantine: undefined };
    // Closed before the files move, so nothing writes to them afterwards.
    db?.close();
  }

  const quarantine = quarantineDatabase(dbPath, problem, now());
  logger.error(
    { quarantine },
    `Session database ${dbPath} was corrupt (${problem}): moved it with its side files to ${quarantine.folder} ` +
      'and created an empty database. The moved files are kept for inspection or recovery (sqlite3 .recover).',
  );
  try {
    return { db: openConnection(dbPath, options), quarantine };
  } catch (error) {
    throw cannotOpen(dbPath, error);
  }
}

function ensureDirectory(directory: string): void {
  try {
    mkdirSync(directory, { recursive: true });
  } catch (error) {
    throw new AppError(
      'database_unavailable',
      `Cannot create the data directory ${directory} (${systemErrorCode(error) ?? messageOf(error)}): check DATA_DIR and its permissions.`,
      { cause: error },
    );
  }
}

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Decide before any writer touches the files: a writer would "roll back" a garbage -journal into the
 * file, and delete the -wal and -shm when it closes, destroying what quarantine must keep.
 */
function checkExisting(dbPath: string, runQuickCheck: boolean): string {
  const header = Buffer.alloc(SQLITE_HEADER.length);
  let read: number;
  try {
    const fd = openSync(dbPath, 'r');
    try {
      read = readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'ok'; // Unreadable (a directory, no permission): opening it fails with the precise error.
  }
  // An empty file is a valid, empty database (SQLite writes the header with the first table).
  if (read > 0 && !header.subarray(0, read).equals(SQLITE_HEADER))
    return 'not an SQLite database (bad file header)';
  return runQuickCheck ? checkReadOnly(dbPath) : 'ok';
}

/**
 * Check on a read-only connection: unlike a writer, it never checkpoints the WAL into the file on
 * close, so a corrupt database is quarantined exactly as it was found. Returns the problem, or
 * `inconclusive` when only a writer can tell (a hot rollback journal must be replayed first).
 */
function checkReadOnly(dbPath: string): string {
  let db: SqliteConnection | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    return quickCheck(db) ?? 'ok';
  } catch (error) {
    return isCorruptionError(error) ? describeSqliteError(error) : 'inconclusive';
  } finally {
    db?.close();
  }
}

/** `undefined` when `PRAGMA quick_check` says ok, else its first findings. */
function quickCheck(db: SqliteConnection): string | undefined {
  let findings: string[];
  try {
    findings = (db.pragma('quick_check(5)') as { quick_check: string }[]).map((row) => row.quick_check);
  } catch (error) {
    // Some damage stops the check itself.
    if (isCorruptionError(error)) return `quick_check failed: ${describeSqliteError(error)}`;
    throw error;
  }
  if (findings.length === 1 && findings[0] === 'ok') return undefined;
  return `quick_check failed: ${findings.join('; ')}`;
}

function openConnection(dbPath: string, options: SqliteDatabaseOptions): SqliteConnection {
  const synchronous = options.synchronous ?? 'FULL';
  const db = new Database(dbPath, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    expectPragma(
      db,
      dbPath,
      'journal_mode',
      'wal',
      'the session store needs WAL: put DATA_DIR on a local disk',
    );
    db.pragma(`synchronous = ${synchronous}`);
    expectPragma(db, dbPath, 'synchronous', SYNCHRONOUS_LEVELS[synchronous], 'SQLite refused the setting');
    // Cascading deletes depend on it, and SQLite ignores the pragma silently where it is unsupported.
    db.pragma('foreign_keys = ON');
    expectPragma(db, dbPath, 'foreign_keys', 1, 'this SQLite build cannot enforce foreign keys');
    for (const [name, value] of Object.entries(options.pragmas ?? {})) {
      if (!/^[a-z_]+$/.test(name) || !/^-?[A-Za-z0-9_]+$/.test(String(value))) {
        throw new AppError('database_unavailable', `Invalid SQLite pragma ${name} = ${value}`);
      }
      db.pragma(`${name} = ${value}`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function expectPragma(
  db: SqliteConnection,
  dbPath: string,
  name: string,
  expected: string | number,
  hint: string,
): void {
  const actual = db.pragma(name, { simple: true }) as unknown;
  if (actual !== expected) {
    throw new AppError(
      'database_unavailable',
      `Cannot use the session database ${dbPath}: PRAGMA ${name} is ${String(actual)}, expected ${expected} (${hint}).`,
    );
  }
}

function describeSqliteError(error: unknown): string {
  return `${systemErrorCode(error) ?? 'error'}: ${messageOf(error)}`;
}

function cannotOpen(dbPath: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError(
    'database_unavailable',
    `Cannot open the session database ${dbPath}: ${describeSqliteError(error)}. Check DATA_DIR, its permissions and free space.`,
    { cause: error },
  );
}
