/**
 * @module postgres/migrations
 * The PostgreSQL database's migrations, one ordered list for every table in it (sessions, registry, ...):
 * `applyPostgresMigrations` applies the pending ones at start-up. Append new migrations at the end; never
 * edit one that has shipped.
 */
import { readFileSync } from 'node:fs';
import { type PostgresMigration, sqlMigration } from './migration-runner.js';

/** `postgres-schema.sql` sits in `src/sessions/` and `dist/src/sessions/` (the build copies it). */
export function readSessionSchemaSql(): string {
  return readFileSync(new URL('../sessions/postgres-schema.sql', import.meta.url), 'utf8');
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  sqlMigration(1, 'sessions: sessions, history, invocations, context', readSessionSchemaSql),
];
