import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import {
  isConnectionFailure,
  isDatabaseUnavailable,
  isRetryableTransactionError,
  sqlState,
  toPostgresError,
} from '../../src/postgres/postgres-error.js';
import { useTestPostgres } from '../support/postgres.js';

const postgres = await useTestPostgres('postgres-error');
const TARGET = 'postgres://app@db:5432/registry';

/** An error as the driver raises it for a server error response. */
function serverError(code: string, message = `server error ${code}`): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:5432`), { code });
}

describe('toPostgresError', () => {
  it.each([
    ['57P01', /terminated the connection/],
    ['57P02', /restarting after a crash/],
    ['57P03', /starting up or shutting down/],
    ['57P04', /database was dropped/],
    ['08006', /connection failed/],
    ['08001', /connection failed/],
    ['3D000', /database does not exist/],
    ['28P01', /refused the credentials in DATABASE_URL/],
    ['28000', /refused the credentials in DATABASE_URL/],
    ['53300', /no free connections/],
    ['57014', /statement timeout/],
    ['55P03', /lock timeout/],
    ['40001', /serialization failure/],
    ['40P01', /deadlocking/],
    ['25006', /read-only/],
  ])('maps SQLSTATE %s to database_unavailable', (code, reason) => {
    const error = toPostgresError(serverError(code), 'add the message', TARGET);
    expect(error.code).toBe('database_unavailable');
    expect(error.status).toBe(503);
    expect(error.message).toMatch(
      /^Could not add the message: PostgreSQL at postgres:\/\/app@db:5432\/registry is unavailable: /,
    );
    expect(error.message).toMatch(reason);
    expect(error.message).toMatch(/Nothing was acknowledged; retry/);
    expect(error.details).toEqual({ sqlstate: code });
    expect(isDatabaseUnavailable(serverError(code))).toBe(true);
  });

  it.each([
    ['ECONNREFUSED', /refused the connection \(is it running\?\)/],
    ['ENOTFOUND', /host name does not resolve/],
    ['EAI_AGAIN', /host name does not resolve/],
    ['ECONNRESET', /network connection failed \(ECONNRESET\)/],
    ['ETIMEDOUT', /network connection failed \(ETIMEDOUT\)/],
    ['EHOSTUNREACH', /network connection failed/],
  ])('maps socket error %s to database_unavailable', (code, reason) => {
    const error = toPostgresError(systemError(code), 'read the session', TARGET);
    expect(error.code).toBe('database_unavailable');
    expect(error.message).toMatch(reason);
    expect(isConnectionFailure(systemError(code))).toBe(true);
  });

  it('looks inside an AggregateError (a host name with several addresses)', () => {
    const error = new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], '');
    expect(toPostgresError(error, 'connect', TARGET).message).toMatch(/refused the connection/);
    expect(isConnectionFailure(new AggregateError([new Error('other')], 'x'))).toBe(false);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
    'Cannot use a pool after calling end on the pool',
  ])('maps the driver message "%s" to database_unavailable', (message) => {
    const error = toPostgresError(new Error(message), 'list sessions', TARGET);
    expect(error.code).toBe('database_unavailable');
    expect(error.message).toMatch(/connection was lost or could not be made in time/);
    expect(isConnectionFailure(new Error(message))).toBe(true);
  });

  it('maps a full disk and any other server error to storage_error', () => {
    const full = toPostgresError(serverError('53100'), 'add the message', TARGET);
    expect(full).toMatchObject({ code: 'storage_error' });
    expect(full.message).toMatch(
      /disk of the PostgreSQL server at postgres:\/\/app@db:5432\/registry is full/,
    );
    const other = toPostgresError(serverError('42P01', 'relation "sessions" does not exist'), 'read', TARGET);
    expect(other).toMatchObject({ code: 'storage_error', details: { sqlstate: '42P01' } });
    expect(other.message).toBe(
      'Could not read: PostgreSQL at postgres://app@db:5432/registry reported error 42P01 (relation "sessions" does not exist).',
    );
    expect(toPostgresError('weird', 'read', TARGET).message).toMatch(/reported error unknown \(weird\)/);
    expect(isDatabaseUnavailable(serverError('42P01'))).toBe(false);
  });

  it('passes AppErrors through and keeps the cause', () => {
    const appError = new AppError('session_not_found', 'gone');
    expect(toPostgresError(appError, 'read', TARGET)).toBe(appError);
    expect(isDatabaseUnavailable(appError)).toBe(false);
    expect(isDatabaseUnavailable(new AppError('database_unavailable', 'closed'))).toBe(true);
    const cause = serverError('57P01');
    expect(toPostgresError(cause, 'read', TARGET).cause).toBe(cause);
  });

  it('tells SQLSTATEs from socket codes, and which transactions to retry', () => {
    expect(sqlState(serverError('40P01'))).toBe('40P01');
    expect(sqlState(systemError('ECONNRESET'))).toBeUndefined();
    expect(sqlState(new Error('plain'))).toBeUndefined();
    expect(isRetryableTransactionError(serverError('40001'))).toBe(true);
    expect(isRetryableTransactionError(serverError('40P01'))).toBe(true);
    expect(isRetryableTransactionError(serverError('23505'))).toBe(false);
    expect(isConnectionFailure(serverError('23505'))).toBe(false);
    expect(isConnectionFailure(serverError('57014'))).toBe(false);
  });
});

describe.skipIf(!postgres.available)('toPostgresError on real failures', () => {
  async function failureOf(url: string, sql = 'SELECT 1'): Promise<unknown> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query(sql);
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await client.end().catch(() => {});
    }
  }

  it('recognises a refused connection, a missing database and a missing table', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    expect(
      toPostgresError(await failureOf(`postgres://postgres@127.0.0.1:${port}/x`), 'a', TARGET).message,
    ).toMatch(/refused the connection/);
    const missing = new URL(await postgres.database());
    missing.pathname = '/no_such_database_here';
    expect(toPostgresError(await failureOf(missing.toString()), 'a', TARGET).message).toMatch(
      /the database does not exist/,
    );
    const table = toPostgresError(
      await failureOf(await postgres.database(), 'SELECT * FROM nowhere'),
      'a',
      TARGET,
    );
    expect(table).toMatchObject({ code: 'storage_error', details: { sqlstate: '42P01' } });
  });
});
