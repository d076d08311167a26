/**
 * @module postgres/migrations
 * The PostgreSQL database's migrations, one ordered list for every table in it (sessions, registry, ...):
 * `applyPostgresMigrations` applies the pending ones at start-up. Append new migrations at the end; never
 * edit one that has shipped.
 */
import { readFileSync } from 'node:fs';
import { type PostgresMigration, sqlMigration } from './migration-runner.js';

/** The schemas sit beside their stores in `src/` and `dist/src/` (the build copies them). */
function readSql(relative: string): () => string {
  return () => readFileSync(new URL(relative, import.meta.url), 'utf8');
}

const readSessionSchemaSql = readSql('../sessions/postgres-schema.sql');

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  sqlMigration(1, 'sessions: sessions, history, invocations, context', readSessionSchemaSql),
  sqlMigration(
    2,
    'registry: agents, revision, change feed',
    readSql('../registry/postgres-registry-schema.sql'),
  ),
  sqlMigration(
    3,
    'registry: agent versions (history, actor, rollback)',
    readSql('../registry/postgres-registry-versions.sql'),
  ),
  sqlMigration(
    4,
    'sessions: routing_decisions, the routing decision log',
    `CREATE TABLE routing_decisions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL,
      session_id text COLLATE "C",
      query text NOT NULL,
      query_hashed boolean NOT NULL,
      candidates json NOT NULL,
      selected text[] NOT NULL,
      follow_up boolean NOT NULL,
      revision bigint NOT NULL
    );
    CREATE INDEX idx_decisions_at ON routing_decisions (at);
    CREATE INDEX idx_decisions_session ON routing_decisions (session_id, id);`,
  ),
  sqlMigration(
    5,
    'ADK sessions: adk_sessions, adk_events, adk_state',
    readSql('../sessions/postgres-adk-schema.sql'),
  ),
];
