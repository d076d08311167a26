/**
 * @module postgres/migration-runner
 * Applies a database's versioned migrations in order, each once, in its own transaction (PostgreSQL DDL is
 * transactional), recorded in `schema_migrations`. Everything runs under one advisory lock, so replicas
 * that start together migrate the database exactly once: the others wait, then find nothing to do.
 */
import { AppError, messageOf } from '../errors.js';
import { isDatabaseUnavailable, toPostgresError } from './postgres-error.js';
import { inTransaction, type PostgresPool, type PostgresQueryable } from './postgres-pool.js';

export interface PostgresMigration {
  /** 1, 2, 3, ...: applied in this order, each once. */
  readonly version: number;
  readonly name: string;
  /** Runs inside the migration's transaction (it must not COMMIT); throwing rolls the migration back. */
  up(db: PostgresQueryable): Promise<void>;
}

/** A migration that runs one SQL script (several statements, no parameters). */
export function sqlMigration(version: number, name: string, sql: string | (() => string)): PostgresMigration {
  return {
    version,
    name,
    up: async (db) => {
      await db.query(typeof sql === 'string' ? sql : sql());
    },
  };
}

export interface AppliedPostgresMigration {
  version: number;
  name: string;
}

export interface PostgresMigrationResult {
  /** Schema version before and after. */
  from: number;
  to: number;
  /** Migrations this call applied; empty when another process had applied them or none were pending. */
  applied: AppliedPostgresMigration[];
}

export interface ApplyMigrationsOptions {
  /** `schema_migrations.applied_at` (default: now). */
  now?: () => Date;
}

/**
 * The advisory lock key held while migrating: one number for this product's databases
 * (`pg_locks.objid` shows it; the high half, `classid`, is 0).
 */
export const MIGRATION_LOCK_KEY = 0x4152_5331; // "ARS1"

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL
)`;

/** The schema version recorded in the database (0 for an empty one). */
export async function postgresSchemaVersion(db: PostgresQueryable): Promise<number> {
  const { rows } = await db.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (!rows[0]?.present) return 0;
  const result = await db.query<{ version: number }>(
    'SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations',
  );
  return result.rows[0]!.version;
}

/**
 * Bring the database up to the last of `migrations` (ordered by version). Waits for another process that is
 * migrating. A failing migration is rolled back whole and throws `database_unavailable` naming it; a
 * database newer than `migrations` is refused the same way, so an old replica never writes to a schema it
 * does not know.
 */
export async function applyPostgresMigrations(
  pool: PostgresPool,
  migrations: readonly PostgresMigration[],
  options: ApplyMigrationsOptions = {},
): Promise<PostgresMigrationResult> {
  assertOrdered(migrations);
  const now = options.now ?? (() => new Date());
  const latest = migrations.at(-1)?.version ?? 0;
  try {
    return await pool.withClient(async (db) => {
      // Migrations may outlast the statement timeout, and so may the wait for another replica's.
      await db.query('SET statement_timeout = 0');
      await db.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        await db.query(CREATE_TABLE);
        const from = await postgresSchemaVersion(db);
        if (from > latest) {
          throw new AppError(
            'database_unavailable',
            `The PostgreSQL database ${pool.target} has schema version ${from}, but this version of the service ` +
              `knows up to ${latest}. Run the newer service version, or point DATABASE_URL at another database.`,
          );
        }
        const applied: AppliedPostgresMigration[] = [];
        for (const migration of migrations) {
          if (migration.version <= from) continue;
          await runMigration(db, migration, now, pool.target);
          applied.push({ version: migration.version, name: migration.name });
        }
        return { from, to: await postgresSchemaVersion(db), applied };
      } finally {
        await releaseLock(db);
      }
    });
  } catch (error) {
    throw toPostgresError(error, 'migrate the database', pool.target);
  }
}

/** Unlock and restore the timeout; on a broken connection both ended with the session already. */
async function releaseLock(db: PostgresQueryable): Promise<void> {
  try {
    await db.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    await db.query('RESET statement_timeout');
  } catch {
    // The pool drops the broken connection; the error that matters is the one already thrown, if any.
  }
}

async function runMigration(
  db: PostgresQueryable,
  migration: PostgresMigration,
  now: () => Date,
  target: string,
): Promise<void> {
  try {
    await inTransaction(
      db,
      async (tx) => {
        await migration.up(tx);
        await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          now().toISOString(),
        ]);
      },
      { retries: 0 },
    );
  } catch (error) {
    // A lost connection is reported as such; the migration was rolled back with the session.
    if (isDatabaseUnavailable(error)) throw error;
    throw new AppError(
      'database_unavailable',
      `PostgreSQL migration ${migration.version} (${migration.name}) failed on ${target} and was rolled back: ` +
        `${messageOf(error)}. The database stays at schema version ${migration.version - 1}.`,
      { cause: error },
    );
  }
}

function assertOrdered(migrations: readonly PostgresMigration[]): void {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) {
      throw new AppError(
        'internal_error',
        `PostgreSQL migrations must be numbered 1, 2, 3, ... in order; entry ${i} has version ${migration.version}.`,
      );
    }
  });
}
