/**
 * @module postgres/postgres-error
 * Turns PostgreSQL and connection failures into `AppError`s: a database that cannot be reached or went
 * away is `database_unavailable` (503, retry later), anything else the server refuses is `storage_error`.
 * Messages say what happened and what to do, and name the database without its password.
 */
import { AppError, isAppError, messageOf, systemErrorCode } from '../errors.js';

/** Socket errors that mean the server cannot be reached or the connection broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
]);

/** What node-postgres says when a connection ends or cannot be had (it gives these errors no code). */
const DRIVER_CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /is not queryable$/,
  /^Cannot use a pool after calling end on the pool/,
];

/** SQLSTATEs (or their classes) for a server that is going away, starting, or cannot serve us now. */
const UNAVAILABLE_STATES: Record<string, string> = {
  '08': 'the connection failed',
  '57P01': 'the server terminated the connection (administrator command or shutdown)',
  '57P02': 'the server is restarting after a crash',
  '57P03': 'the server is starting up or shutting down',
  '57P04': 'the database was dropped',
  '3D000': 'the database does not exist',
  '28000': 'the server refused the credentials in DATABASE_URL',
  '28P01': 'the server refused the credentials in DATABASE_URL',
  '53300': 'the server has no free connections (too_many_connections)',
  '57014': 'the statement took longer than the statement timeout and was cancelled',
  '55P03': 'a lock stayed held by another session longer than the lock timeout',
  '40001': 'concurrent transactions kept conflicting (serialization failure)',
  '40P01': 'concurrent transactions kept deadlocking',
  '25006': 'the server is read-only (a standby, or in recovery)',
};

/** The SQLSTATE of a server error (five characters), if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = systemErrorCode(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * True when the connection to the server is gone or could not be made: whatever was in flight on it
 * may or may not have been committed, and the connection must not be reused.
 */
export function isConnectionFailure(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || state.startsWith('57P');
  if (networkCode(error) !== undefined) return true;
  const message = messageOf(error);
  return DRIVER_CONNECTION_MESSAGES.some((pattern) => pattern.test(message));
}

/** Serialization failures and deadlocks: PostgreSQL aborted the transaction, and running it again is safe. */
export function isRetryableTransactionError(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

/** True for failures that `toPostgresError` reports as `database_unavailable`. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (isAppError(error)) return error.code === 'database_unavailable';
  return unavailableReason(error) !== undefined;
}

/**
 * The `AppError` for a failure while doing `action` (e.g. "add the message") on the database `target`
 * (`PostgresPool.target`). `AppError`s pass through; the driver's error stays as `cause` for the logs.
 */
export function toPostgresError(error: unknown, action: string, target: string): AppError {
  if (isAppError(error)) return error;
  const state = sqlState(error);
  const options = { cause: error, details: { sqlstate: state ?? networkCode(error) ?? 'connection' } };
  const reason = unavailableReason(error);
  if (reason !== undefined) {
    return new AppError(
      'database_unavailable',
      `Could not ${action}: PostgreSQL at ${target} is unavailable: ${reason} (${messageOf(error)}). ` +
        'Nothing was acknowledged; retry once the database is reachable (the service reconnects by itself). ' +
        'If it persists, check DATABASE_URL and the database server.',
      options,
    );
  }
  if (state === '53100') {
    return new AppError(
      'storage_error',
      `Could not ${action}: the disk of the PostgreSQL server at ${target} is full. Free space on the database server; nothing was saved.`,
      options,
    );
  }
  return new AppError(
    'storage_error',
    `Could not ${action}: PostgreSQL at ${target} reported error ${state ?? 'unknown'} (${messageOf(error)}).`,
    options,
  );
}

function unavailableReason(error: unknown): string | undefined {
  const state = sqlState(error);
  if (state !== undefined) return UNAVAILABLE_STATES[state] ?? UNAVAILABLE_STATES[state.slice(0, 2)];
  const network = networkCode(error);
  if (network === 'ECONNREFUSED') return 'the server refused the connection (is it running?)';
  if (network === 'ENOTFOUND' || network === 'EAI_AGAIN') return 'its host name does not resolve';
  if (network !== undefined) return `the network connection failed (${network})`;
  if (isConnectionFailure(error)) return 'the connection was lost or could not be made in time';
  return undefined;
}

/** The socket error code; a connect to a name with several addresses fails with an AggregateError. */
function networkCode(error: unknown): string | undefined {
  const code = systemErrorCode(error);
  if (code !== undefined && NETWORK_CODES.has(code)) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = networkCode(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  return undefined;
}
