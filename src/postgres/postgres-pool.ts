/**
 * @module postgres/postgres-pool
 * With postgres-listener.ts (a LISTEN connection), the one place that touches node-postgres: a connection
 * pool for a `postgres://` URL with bounded waits, clients that are checked out safely (a connection lost
 * while checked out never crashes the process), and transactions. Everything else sees only the
 * `PostgresQueryable` slice below.
 */
import pg from 'pg';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { isConnectionFailure, isRetryableTransactionError } from './postgres-error.js';

/** What a query returns: rows as objects keyed by column name. */
export interface PostgresResult<Row> {
  rows: Row[];
  /** Rows inserted, updated, deleted or returned by the statement. */
  rowCount: number;
  /** The command tag: `SELECT`, `INSERT`, ...; `COMMIT` answers `ROLLBACK` when the transaction had failed. */
  command: string;
}

/** The slice of the driver the stores use: one statement with `$1, $2, ...` parameters. */
export interface PostgresQueryable {
  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<PostgresResult<Row>>;
}

export interface PostgresPoolOptions {
  /** Most connections this process opens (default 10). */
  max?: number;
  /** How long to wait for a connection, new or from the pool, before failing (default 5,000 ms). */
  connectionTimeoutMs?: number;
  /** An idle connection is closed after this long (default 30,000 ms). */
  idleTimeoutMs?: number;
  /** The server cancels a statement running longer than this (default 30,000 ms; 0 disables). */
  statementTimeoutMs?: number;
  /** The server ends a session left idle inside a transaction this long, releasing its locks (default 60,000 ms). */
  idleInTransactionTimeoutMs?: number;
  /** Shown in `pg_stat_activity.application_name` (default `agent-registry`). */
  applicationName?: string;
  logger?: Logger;
}

export interface PostgresPoolStats {
  /** Open connections, idle ones included. */
  total: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
  max: number;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  readOnly?: boolean;
  /**
   * How often to run `work` again after a serialization failure or a deadlock, which PostgreSQL resolves by
   * aborting one transaction (default 2). `work` must therefore be safe to run more than once.
   */
  retries?: number;
}

export const DEFAULT_POOL_OPTIONS = {
  max: 10,
  connectionTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  statementTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  applicationName: 'agent-registry',
} as const;

/**
 * A pool of connections to one database. Queries take any free connection; `withClient` and `transaction`
 * hold one connection for several statements. Connections that fail are dropped and replaced on the next
 * use, so the pool recovers by itself once the server is back. Errors are the driver's: map them with
 * `toPostgresError` where the action they interrupted is known.
 */
export class PostgresPool implements PostgresQueryable {
  /** The database as `postgres://user@host:port/database`, never with the password: safe to log and show. */
  readonly target: string;
  private readonly pool: pg.Pool;
  private readonly max: number;
  private readonly logger: Logger;
  private ending: Promise<void> | undefined;

  constructor(url: string, options: PostgresPoolOptions = {}) {
    const settings = { ...DEFAULT_POOL_OPTIONS, ...definedOnly(options) };
    this.target = describePostgresUrl(url);
    this.max = settings.max;
    this.logger = options.logger ?? silentLogger();
    this.pool = new pg.Pool({
      connectionString: url,
      max: settings.max,
      connectionTimeoutMillis: settings.connectionTimeoutMs,
      idleTimeoutMillis: settings.idleTimeoutMs,
      // Sent as start-up parameters; 0 means the server's own setting.
      statement_timeout: settings.statementTimeoutMs || undefined,
      idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs || undefined,
      application_name: settings.applicationName,
      // Notice a peer that vanished without closing the connection (a crashed host, a dropped route).
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Acknowledged means durable: a server configured with synchronous_commit=off acknowledges commits
      // before flushing them, so every new connection turns it back on for its own session first.
      onConnect: async (client) => {
        await client.query(
          "SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'",
        );
      },
    });
    // An idle connection that the server closes (restart, pg_terminate_backend) is reported here; the
    // pool has already dropped it. Without a listener, the 'error' event would end the process.
    this.pool.on('error', (error) => {
      this.logger.warn({ err: error, database: this.target }, 'PostgreSQL closed an idle connection');
    });
  }

  async query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<PostgresResult<Row>> {
    const result = await this.pool.query(text, values as unknown[] | undefined);
    return toResult<Row>(result);
  }

  /**
   * Run `work` with one connection held for it. A connection that failed during `work` is closed instead
   * of going back to the pool.
   */
  async withClient<T>(work: (client: PostgresQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    // A checked-out client reports a lost connection as an 'error' event too; unheard, it ends the process.
    const onError = (error: unknown) => {
      broken ??= error;
    };
    client.on('error', onError);
    const queryable: PostgresQueryable = {
      query: async <Row>(text: string, values?: readonly unknown[]) =>
        toResult<Row>(await client.query(text, values as unknown[] | undefined)),
    };
    try {
      return await work(queryable);
    } catch (error) {
      if (isConnectionFailure(error)) broken ??= error;
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken === undefined ? undefined : toError(broken));
    }
  }

  /** Run `work` in a transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(
    work: (client: PostgresQueryable) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    return this.withClient((client) => inTransaction(client, work, options));
  }

  stats(): PostgresPoolStats {
    return {
      total: this.pool.totalCount,
      idle: this.pool.idleCount,
      waiting: this.pool.waitingCount,
      max: this.max,
    };
  }

  /** Close every connection once the checked-out ones are released. Idempotent. */
  end(): Promise<void> {
    this.ending ??= this.pool.end();
    return this.ending;
  }
}

/**
 * Run `work` in a transaction on `client` (one held connection). Serialization failures and deadlocks are
 * retried `options.retries` times; any other error rolls back and is rethrown.
 */
export async function inTransaction<T>(
  client: PostgresQueryable,
  work: (client: PostgresQueryable) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const begin = [
    'BEGIN',
    options.isolation === undefined ? '' : `ISOLATION LEVEL ${options.isolation.toUpperCase()}`,
    options.readOnly ? 'READ ONLY' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    await client.query(begin);
    try {
      const result = await work(client);
      await commit(client);
      return result;
    } catch (error) {
      await rollbackQuietly(client, error);
      if (attempt < retries && isRetryableTransactionError(error)) continue;
      throw error;
    }
  }
}

/**
 * COMMIT, refusing to report success for a transaction the server had already aborted (a failed statement
 * whose error was caught): PostgreSQL answers such a COMMIT with ROLLBACK, not with an error.
 */
export async function commit(client: PostgresQueryable): Promise<void> {
  const result = await client.query('COMMIT');
  if (result.command !== 'COMMIT') throw abortedTransaction(`the server answered ${result.command}`);
}

/** The error for a transaction that a failed statement had aborted although no caller saw the failure. */
export function abortedTransaction(evidence: string): AppError {
  return new AppError(
    'storage_error',
    `The transaction was rolled back instead of committed (${evidence}): a statement in it had failed. ` +
      'Nothing of it was saved.',
  );
}

/** ROLLBACK after `cause`; a connection that is gone has rolled back already. */
export async function rollbackQuietly(client: PostgresQueryable, cause: unknown): Promise<void> {
  if (isConnectionFailure(cause)) return;
  try {
    await client.query('ROLLBACK');
  } catch {
    // The connection failed meanwhile; the server rolls the transaction back when the session ends.
  }
}

/**
 * `postgres://user@host:port/database` for a connection URL, without password or query parameters.
 * A URL that does not parse is described as `(unparsable DATABASE_URL)`: the driver reports the error.
 */
export function describePostgresUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unparsable DATABASE_URL)';
  }
  const socketHost = parsed.searchParams.get('host');
  const host = parsed.hostname === '' ? (socketHost ?? 'localhost') : parsed.hostname;
  const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return `postgres://${user}${host}:${parsed.port || '5432'}/${database}`;
}

function toResult<Row>(result: pg.QueryResult): PostgresResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0, command: result.command };
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
