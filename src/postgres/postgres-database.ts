/**
 * @module postgres/postgres-database
 * Opening the product's PostgreSQL database: a pool plus its schema brought up to date. The service opens
 * it once and hands the pool to every PostgreSQL store; `agent-registry db-init` only migrates and reports.
 */
import {
  type AppliedPostgresMigration,
  applyPostgresMigrations,
  type PostgresMigration,
} from './migration-runner.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { PostgresPool, type PostgresPoolOptions } from './postgres-pool.js';

export interface PostgresDatabaseOptions extends PostgresPoolOptions {
  /** For tests of the migration machinery; defaults to the product's migrations. */
  migrations?: readonly PostgresMigration[];
  /** `schema_migrations.applied_at` (default: now). */
  now?: () => Date;
}

/** An open pool on a migrated database; the caller owns the pool and ends it. */
export interface PostgresDatabase {
  pool: PostgresPool;
  schemaVersion: number;
  appliedMigrations: AppliedPostgresMigration[];
}

/** Open a pool on `url` and apply pending migrations. Throws `database_unavailable` (and ends the pool). */
export async function openPostgresDatabase(
  url: string,
  options: PostgresDatabaseOptions = {},
): Promise<PostgresDatabase> {
  const pool = new PostgresPool(url, options);
  try {
    const result = await applyPostgresMigrations(pool, options.migrations ?? POSTGRES_MIGRATIONS, {
      now: options.now,
    });
    return { pool, schemaVersion: result.to, appliedMigrations: result.applied };
  } catch (error) {
    await pool.end();
    throw error;
  }
}

export interface PostgresInitReport {
  /** `postgres://user@host:port/database`, without the password. */
  database: string;
  schema_version: number;
  /** Migrations applied by this run (empty when the database was up to date). */
  applied_migrations: AppliedPostgresMigration[];
}

/**
 * `agent-registry db-init` with `DATABASE_URL`: apply pending migrations and report the schema version.
 * Idempotent, and safe while replicas run (they and it take the same advisory lock).
 */
export async function initializePostgres(
  url: string,
  options: PostgresDatabaseOptions = {},
): Promise<PostgresInitReport> {
  const opened = await openPostgresDatabase(url, { max: 1, ...options });
  await opened.pool.end();
  return {
    database: opened.pool.target,
    schema_version: opened.schemaVersion,
    applied_migrations: opened.appliedMigrations,
  };
}
