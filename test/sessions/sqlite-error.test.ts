import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { isCorruptionError, toStoreError } from '../../src/sessions/sqlite-error.js';

// The driver's own error class, as better-sqlite3 throws it.
const sqliteError = (code: string) => new Database.SqliteError(`${code} from SQLite`, code);

describe('toStoreError', () => {
  it.each([
    ['SQLITE_FULL', 'storage_error', /disk holding the session database is full/],
    ['SQLITE_BUSY', 'database_unavailable', /locked by another connection/],
    ['SQLITE_LOCKED_SHAREDCACHE', 'database_unavailable', /locked by another connection/],
    ['SQLITE_CORRUPT_INDEX', 'database_unavailable', /corrupt/],
    ['SQLITE_NOTADB', 'database_unavailable', /corrupt/],
    ['SQLITE_READONLY_DBMOVED', 'storage_error', /read-only/],
    ['SQLITE_IOERR_FSYNC', 'storage_error', /I\/O error \(SQLITE_IOERR_FSYNC\)/],
    ['SQLITE_CANTOPEN', 'storage_error', /I\/O error/],
    ['SQLITE_CONSTRAINT_CHECK', 'storage_error', /database error SQLITE_CONSTRAINT_CHECK/],
  ])('maps %s to %s', (code, appCode, message) => {
    const error = toStoreError(sqliteError(code), 'add the message');
    expect(error.code).toBe(appCode);
    expect(error.message).toMatch(/^Could not add the message: /);
    expect(error.message).toMatch(message);
    expect(error.cause).toBeInstanceOf(Database.SqliteError);
    expect(error.details).toEqual({ sqlite_code: code });
  });

  it('passes AppErrors through and describes errors without a code', () => {
    const appError = new AppError('session_not_found', 'gone');
    expect(toStoreError(appError, 'x')).toBe(appError);
    expect(toStoreError(new Error('strange'), 'read').message).toMatch(/database error unknown \(strange\)/);
  });

  it('recognises corruption codes only', () => {
    expect(isCorruptionError(sqliteError('SQLITE_CORRUPT'))).toBe(true);
    expect(isCorruptionError(sqliteError('SQLITE_NOTADB'))).toBe(true);
    expect(isCorruptionError(sqliteError('SQLITE_FULL'))).toBe(false);
    expect(isCorruptionError('SQLITE_CORRUPT')).toBe(false);
  });
});
