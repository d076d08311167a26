/**
 * @module sessions/sqlite-error
 * Turns SQLite failures into `AppError`s whose message says what happened and what to do. Client-facing
 * messages name no file paths; the original error stays as `cause` for the logs.
 */
import { AppError, isAppError, messageOf, systemErrorCode } from '../errors.js';

/** Result codes (extended codes included) that mean the file is not a usable database. */
export function isCorruptionError(error: unknown): boolean {
  const code = systemErrorCode(error) ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/**
 * The `AppError` for a failure while doing `action` (e.g. "add the message"). `AppError`s pass through;
 * "nothing was saved" holds because every write runs in a transaction that is rolled back on failure.
 */
export function toStoreError(error: unknown, action: string): AppError {
  if (isAppError(error)) return error;
  const code = systemErrorCode(error) ?? 'unknown';
  const options = { cause: error, details: { sqlite_code: code } };
  if (code === 'SQLITE_FULL') {
    return new AppError(
      'storage_error',
      `Could not ${action}: the disk holding the session database is full. Free space in the data directory; nothing was saved.`,
      options,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new AppError(
      'database_unavailable',
      `Could not ${action}: the session database stayed locked by another connection longer than the busy timeout. ` +
        'Retry; if it persists, make sure no other process holds the database open in a transaction.',
      options,
    );
  }
  if (isCorruptionError(error)) {
    return new AppError(
      'database_unavailable',
      `Could not ${action}: the session database is corrupt. Restart the service: the corrupt files are moved to ` +
        'DATA_DIR/quarantine/ and an empty database is created.',
      options,
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new AppError(
      'storage_error',
      `Could not ${action}: the session database is read-only. Check the permissions and mount of the data directory.`,
      options,
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return new AppError(
      'storage_error',
      `Could not ${action}: the disk reported an I/O error (${code}). Check the data directory's disk.`,
      options,
    );
  }
  return new AppError(
    'storage_error',
    `Could not ${action}: database error ${code} (${messageOf(error)}).`,
    options,
  );
}
