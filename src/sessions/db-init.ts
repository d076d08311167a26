/**
 * @module sessions/db-init
 * Creates or upgrades the sessions database: open it safely (quarantining a corrupt file), then apply
 * pending migrations. Safe on every start; `agent-registry db-init` and the SQLite store both use it.
 */
import type { QuarantineReport } from './database-quarantine.js';
import { type AppliedMigration, applyMigrations, MIGRATIONS, type Migration } from './migrations.js';
import { openSqliteDatabase, type SqliteConnection, type SqliteDatabaseOptions } from './sqlite-database.js';

export interface DatabaseInitOptions extends SqliteDatabaseOptions {
  /** For tests of the migration machinery; defaults to the product's migrations. */
  migrations?: readonly Migration[];
}

/** An open, migrated connection. */
export interface SessionDatabase {
  db: SqliteConnection;
  schemaVersion: number;
  appliedMigrations: AppliedMigration[];
  quarantine: QuarantineReport | undefined;
}

/** Open `dbPath` and bring its schema up to date; the caller owns (and closes) the connection. */
export function openSessionDatabase(dbPath: string, options: DatabaseInitOptions = {}): SessionDatabase {
  const { db, quarantine } = openSqliteDatabase(dbPath, options);
  try {
    const result = applyMigrations(db, options.migrations ?? MIGRATIONS, options.now);
    return { db, schemaVersion: result.to, appliedMigrations: result.applied, quarantine };
  } catch (error) {
    db.close();
    throw error;
  }
}

export interface DatabaseInitReport {
  path: string;
  schema_version: number;
  /** Migrations applied by this run (empty when the database was up to date). */
  applied_migrations: AppliedMigration[];
  quarantined?: QuarantineReport;
}

/**
 * `agent-registry db-init`: create the database with its schema, or apply pending migrations, then close.
 * Idempotent. Throws `database_unavailable` when the database cannot be opened or migrated.
 */
export async function initializeDatabase(
  dbPath: string,
  options: DatabaseInitOptions = {},
): Promise<DatabaseInitReport> {
  const opened = openSessionDatabase(dbPath, options);
  opened.db.close();
  return {
    path: dbPath,
    schema_version: opened.schemaVersion,
    applied_migrations: opened.appliedMigrations,
    ...(opened.quarantine === undefined ? {} : { quarantined: opened.quarantine }),
  };
}
