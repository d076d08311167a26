import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { initializeDatabase, openSessionDatabase } from '../../src/sessions/db-init.js';
import { applyMigrations, MIGRATIONS, type Migration, schemaVersion } from '../../src/sessions/migrations.js';
import { exited, lines, spawnTs } from '../support/child-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('session-migrations-');
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

function inspect<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** The schema version this code creates, and one more for a migration that a later release adds. */
const LATEST = MIGRATIONS.at(-1)!.version;
const NEXT = LATEST + 1;
const shipped = MIGRATIONS.map(({ version, name }) => ({ version, name }));

const addNotes: Migration = {
  version: NEXT,
  name: 'add notes',
  up: (db) => db.exec('ALTER TABLE sessions ADD COLUMN notes TEXT'),
};

describe('initializeDatabase (db-init)', () => {
  it('creates the schema once and does nothing on later runs', async () => {
    const dbPath = path.join(tempDir(), 'data', 'sessions.db');
    const first = await initializeDatabase(dbPath, { now: () => new Date('2026-02-01T00:00:00.000Z') });
    expect(first).toEqual({ path: dbPath, schema_version: LATEST, applied_migrations: shipped });
    const second = await initializeDatabase(dbPath);
    expect(second).toEqual({ path: dbPath, schema_version: LATEST, applied_migrations: [] });
    inspect(dbPath, (db) => {
      expect(db.prepare('SELECT version, name, applied_at FROM schema_migrations').all()).toEqual(
        shipped.map((migration) => ({ ...migration, applied_at: '2026-02-01T00:00:00.000Z' })),
      );
      expect(db.pragma('user_version', { simple: true })).toBe(LATEST);
    });
  });

  it("creates the seed's tables, indexes and cascading foreign keys", async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    await initializeDatabase(dbPath);
    inspect(dbPath, (db) => {
      const names = (type: string) =>
        (
          db.prepare('SELECT name FROM sqlite_master WHERE type = ? ORDER BY name').all(type) as {
            name: string;
          }[]
        ).map((row) => row.name);
      expect(names('table')).toEqual(
        expect.arrayContaining(['sessions', 'conversation_history', 'agent_invocations', 'session_context']),
      );
      expect(names('index')).toEqual(
        expect.arrayContaining([
          'idx_sessions_user',
          'idx_sessions_created',
          'idx_history_session',
          'idx_invocations_session',
          'idx_invocations_agent',
        ]),
      );
      for (const table of ['conversation_history', 'agent_invocations', 'session_context']) {
        expect(db.pragma(`foreign_key_list(${table})`)).toEqual([
          expect.objectContaining({
            table: 'sessions',
            from: 'session_id',
            to: 'session_id',
            on_delete: 'CASCADE',
          }),
        ]);
      }
      expect(
        (db.pragma('table_info(agent_invocations)') as { name: string }[]).map((column) => column.name),
      ).toEqual([
        'id',
        'session_id',
        'agent_name',
        'query',
        'response',
        'success',
        'error_message',
        'duration_ms',
        'timestamp',
      ]);
    });
  });

  it('reports a quarantine it performed', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    writeFileSync(dbPath, 'garbage');
    const report = await initializeDatabase(dbPath);
    expect(report.quarantined?.folder).toContain(path.join(dir, 'quarantine'));
    expect(report.schema_version).toBe(LATEST);
  });
});

describe('applyMigrations', () => {
  it('applies only the new migrations of a longer list', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    await initializeDatabase(dbPath);
    const upgraded = await initializeDatabase(dbPath, { migrations: [...MIGRATIONS, addNotes] });
    expect(upgraded.applied_migrations).toEqual([{ version: NEXT, name: 'add notes' }]);
    expect(upgraded.schema_version).toBe(NEXT);
    inspect(dbPath, (db) => {
      expect((db.pragma('table_info(sessions)') as { name: string }[]).map((c) => c.name)).toContain('notes');
      expect(db.pragma('user_version', { simple: true })).toBe(NEXT);
    });
  });

  it('rolls a failing migration back whole and keeps the previous version', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    await initializeDatabase(dbPath);
    const broken: Migration = {
      version: NEXT,
      name: 'half done',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('disk on fire');
      },
    };
    const error = await initializeDatabase(dbPath, { migrations: [...MIGRATIONS, broken] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('database_unavailable');
    expect((error as AppError).message).toMatch(
      new RegExp(
        `migration ${NEXT} \\(half done\\) failed .*disk on fire.*stays at schema version ${LATEST}`,
      ),
    );
    inspect(dbPath, (db) => {
      expect(schemaVersion(db)).toBe(LATEST);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeUndefined();
    });
    // The fixed migration applies on the next start.
    expect((await initializeDatabase(dbPath, { migrations: [...MIGRATIONS, addNotes] })).schema_version).toBe(
      NEXT,
    );
  });

  it('refuses a database from a newer version of the service', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    await initializeDatabase(dbPath, { migrations: [...MIGRATIONS, addNotes] });
    const error = await initializeDatabase(dbPath).catch((e: unknown) => e);
    expect((error as AppError).code).toBe('database_unavailable');
    expect((error as AppError).message).toMatch(
      new RegExp(`schema version ${NEXT}, but this version of the service knows up to ${LATEST}`),
    );
  });

  it('applies each migration once when two processes initialise the same database at once', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const children = [0, 1].map(() => spawnTs(path.join(fixtures, 'db-init-child.ts'), [dbPath]));
    const reports = await Promise.all(
      children.map(async (child) => {
        const output = lines(child);
        const line = await output.waitFor((text) => text.startsWith('{'));
        expect(await exited(child)).toEqual({ code: 0, signal: null });
        return JSON.parse(line) as { schema_version: number; applied_migrations: unknown[] };
      }),
    );
    expect(reports.map((report) => report.schema_version)).toEqual([LATEST, LATEST]);
    expect(reports.flatMap((report) => report.applied_migrations)).toHaveLength(MIGRATIONS.length);
    inspect(dbPath, (db) =>
      expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({
        n: MIGRATIONS.length,
      }),
    );
  });

  it('does not re-run a migration found recorded once its transaction holds the lock', () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const { db } = openSessionDatabase(dbPath, { migrations: [] });
    let runs = 0;
    const counted: Migration = {
      ...addNotes,
      version: 1,
      up: (conn) => {
        runs++;
        addNotes.up(conn);
      },
    };
    // Listed twice, as if a second process had applied it between our version read and our lock.
    const result = applyMigrations(db, [MIGRATIONS[0]!, counted]);
    expect(result).toEqual({ from: 0, to: 1, applied: [{ version: 1, name: MIGRATIONS[0]!.name }] });
    expect(runs).toBe(0);
    db.close();
  });

  it('reads schema.sql from next to the module', async () => {
    const { readSchemaSql } = await import('../../src/sessions/migrations.js');
    expect(readSchemaSql()).toMatch(/CREATE TABLE IF NOT EXISTS conversation_history/);
  });
});
