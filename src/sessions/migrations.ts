/**
 * @module sessions/migrations
 * Versioned schema changes for the sessions database, applied in order at every start. Each runs in its
 * own transaction and is recorded in `schema_migrations`, so running them again does nothing.
 */
import { readFileSync } from 'node:fs';
import { AppError, messageOf } from '../errors.js';
import type { SqliteConnection } from './sqlite-database.js';

export interface Migration {
  /** 1, 2, 3, ...: applied in this order, each once. */
  readonly version: number;
  readonly name: string;
  /** Runs inside the migration's transaction; it must not commit or change pragmas that need no transaction. */
  up(db: SqliteConnection): void;
}

/** `schema.sql` sits next to this module in `src/` and in `dist/src/` (the build copies it). */
export function readSchemaSql(): string {
  return readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
}

/** Append new migrations here; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema: sessions, history, invocations, context',
    up: (db) => db.exec(readSchemaSql()),
  },
  {
    version: 2,
    name: 'sessions.version: a counter of changes, for cached reads and ETags',
    up: (db) => db.exec('ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0'),
  },
  {
    version: 3,
    name: 'routing_decisions: the routing decision log',
    // No foreign key: a decision outlives nothing it names, but may be logged just after its session was
    // deleted; deleting a session deletes its decisions explicitly.
    up: (db) =>
      db.exec(`CREATE TABLE routing_decisions (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          at TEXT NOT NULL,
          session_id TEXT,
          query TEXT NOT NULL,
          query_hashed INTEGER NOT NULL CHECK (query_hashed IN (0, 1)),
          candidates TEXT NOT NULL,
          selected TEXT NOT NULL,
          follow_up INTEGER NOT NULL CHECK (follow_up IN (0, 1)),
          revision INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX idx_decisions_at ON routing_decisions (at);
        CREATE INDEX idx_decisions_session ON routing_decisions (session_id, id);`),
  },
  {
    version: 4,
    name: 'ADK sessions: adk_sessions, adk_events, adk_state',
    up: (db) => db.exec(readFileSync(new URL('./adk-schema.sql', import.meta.url), 'utf8')),
  },
];

export interface AppliedMigration {
  version: number;
  name: string;
}

export interface MigrationResult {
  /** Schema version before and after. */
  from: number;
  to: number;
  applied: AppliedMigration[];
}

/** The schema version recorded in the database (0 for a new one). */
export function schemaVersion(db: SqliteConnection): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return 0;
  return (
    db.prepare('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations').get() as {
      version: number;
    }
  ).version;
}

/**
 * Apply the migrations the database has not seen. Each one re-reads the version inside its
 * `BEGIN IMMEDIATE` transaction, so two processes starting at once apply it once. A failing migration is
 * rolled back whole and throws `database_unavailable`; a database newer than this code is refused.
 */
export function applyMigrations(
  db: SqliteConnection,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => Date = () => new Date(),
): MigrationResult {
  const latest = migrations.at(-1)?.version ?? 0;
  const from = schemaVersion(db);
  if (from > latest) {
    throw new AppError(
      'database_unavailable',
      `The session database has schema version ${from}, but this version of the service knows up to ${latest}. ` +
        'Run the newer service version, or point DATA_DIR at another directory.',
    );
  }
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
  );
  const applied: AppliedMigration[] = [];
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (schemaVersion(db) < migration.version) {
        migration.up(db);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          migration.version,
          migration.name,
          now().toISOString(),
        );
        db.pragma(`user_version = ${migration.version}`);
        applied.push({ version: migration.version, name: migration.name });
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new AppError(
        'database_unavailable',
        `Session database migration ${migration.version} (${migration.name}) failed and was rolled back: ` +
          `${messageOf(error)}. The database stays at schema version ${schemaVersion(db)}.`,
        { cause: error },
      );
    }
  }
  return { from, to: schemaVersion(db), applied };
}
