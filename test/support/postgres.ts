/**
 * @module test/support/postgres
 * Real PostgreSQL for tests: a uniquely named database per test file, dropped after the file's tests, on
 * the machine's server (127.0.0.1:5432, user postgres, trust auth) or `TEST_DATABASE_URL`. Without a
 * reachable server the PostgreSQL tests are skipped with a warning saying why, except under CI (`CI` set),
 * where an unreachable server fails the run instead: CI has PostgreSQL, so its suites must really run there.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';

/** A URL of the server's maintenance database; the tests' databases are created next to it. */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestPostgres {
  /** False when no server was reachable (then the PostgreSQL tests skip). */
  readonly available: boolean;
  /** The URL of this file's own database (created on first use). */
  database(): Promise<string>;
  /**
   * The URL of a fresh, empty schema in this file's database (its `search_path`): a clean slate per test at
   * the cost of a `CREATE SCHEMA`.
   */
  schema(): Promise<string>;
  /** Another fresh database, dropped with the rest, for tests that drop or break their database. */
  createDatabase(): Promise<string>;
  /** Run SQL as the superuser on the maintenance database (terminate backends, drop databases, ...). */
  admin<Row = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<Row[]>;
  /** Run SQL on a database given by URL, on a connection of its own. */
  run<Row = Record<string, unknown>>(url: string, sql: string, values?: unknown[]): Promise<Row[]>;
}

let probe: Promise<string | undefined> | undefined;

/** Why the server cannot be used, or undefined when it can. Checked once per test process. */
function unreachableReason(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message || error.constructor.name : String(error);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probe;
}

/**
 * Set up PostgreSQL for one test file (call at the top level: it registers an `afterAll` that drops the
 * databases). `label` goes into the database names, to tell which file left one behind after a crash.
 */
export async function useTestPostgres(label: string): Promise<TestPostgres> {
  const reason = await unreachableReason();
  if (reason !== undefined) {
    const message = `PostgreSQL at ${redact(TEST_DATABASE_URL)} is unreachable (${reason})`;
    if (process.env.CI) throw new Error(`${message}; CI must run the PostgreSQL suites. Start the server.`);
    console.warn(
      `SKIPPING PostgreSQL tests in ${label}: ${message}. Set TEST_DATABASE_URL or start the server.`,
    );
  }
  const created: string[] = [];
  const base = `t_${label
    .replace(/[^a-z0-9]+/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  let schemas = 0;
  let main: Promise<string> | undefined;

  const run = async <Row>(url: string, sql: string, values?: unknown[]): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query(sql, values)).rows as Row[];
    } finally {
      await client.end().catch(() => {});
    }
  };
  const admin = <Row>(sql: string, values?: unknown[]) => run<Row>(TEST_DATABASE_URL, sql, values);
  const createDatabase = async (): Promise<string> => {
    const name = `${base}_${created.length}`;
    await admin(`CREATE DATABASE ${name}`);
    created.push(name);
    return databaseUrl(name);
  };
  const database = () => {
    main ??= createDatabase();
    return main;
  };

  afterAll(async () => {
    for (const name of created.splice(0)) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  return {
    available: reason === undefined,
    database,
    createDatabase,
    admin,
    run,
    async schema() {
      const url = await database();
      const schema = `s${++schemas}`;
      await run(url, `CREATE SCHEMA ${schema}`);
      const withSchema = new URL(url);
      withSchema.searchParams.set('options', `-c search_path=${schema}`);
      return withSchema.toString();
    },
  };
}

/** The URL of database `name` on the test server. */
function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable TEST_DATABASE_URL)';
  }
}
