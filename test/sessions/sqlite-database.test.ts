import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { quarantineDatabase } from '../../src/sessions/database-quarantine.js';
import { openSqliteDatabase } from '../../src/sessions/sqlite-database.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { useTempDirs } from '../support/temp-dir.js';
import { TestClock } from './session-store.contract.js';

const tempDir = useTempDirs('sqlite-database-');

function captureLogs(): {
  logger: ReturnType<typeof createLogger>;
  entries: { level: number; msg: string }[];
} {
  const entries: { level: number; msg: string }[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: {
      write: (line: string) => entries.push(JSON.parse(line) as { level: number; msg: string }),
    },
  });
  return { logger, entries };
}

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected a throw');
}

/** A real sessions database with enough rows to span many b-tree pages, closed cleanly. */
async function writeValidDatabase(dbPath: string): Promise<string> {
  const store = await SqliteSessionStore.open(dbPath);
  const id = await store.createSession('alice');
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => store.addToHistory(id, 'user', `${i} ${'z'.repeat(400)}`)),
  );
  await store.close();
  return id;
}

describe('openSqliteDatabase', () => {
  it('opens in WAL mode with foreign keys verified on, FULL sync and the busy timeout', () => {
    const dbPath = path.join(tempDir(), 'nested', 'dir', 'sessions.db');
    const { db, quarantine } = openSqliteDatabase(dbPath, { busyTimeoutMs: 1234 });
    expect(quarantine).toBeUndefined();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    db.close();
  });

  it('applies the configured synchronous level and extra pragmas', () => {
    const dir = tempDir();
    const extra = openSqliteDatabase(path.join(dir, 'a.db'), {
      synchronous: 'EXTRA',
      pragmas: { cache_size: -4000 },
    });
    expect(extra.db.pragma('synchronous', { simple: true })).toBe(3);
    expect(extra.db.pragma('cache_size', { simple: true })).toBe(-4000);
    extra.db.close();
    const normal = openSqliteDatabase(path.join(dir, 'b.db'), { synchronous: 'NORMAL' });
    expect(normal.db.pragma('synchronous', { simple: true })).toBe(1);
    normal.db.close();
  });

  it('refuses pragma names or values that are not plain identifiers or numbers', () => {
    const error = thrown(() =>
      openSqliteDatabase(path.join(tempDir(), 'a.db'), { pragmas: { 'cache_size = 1; DROP TABLE x': 1 } }),
    );
    expect(error.code).toBe('database_unavailable');
    expect(error.message).toMatch(/Invalid SQLite pragma/);
    expect(
      thrown(() => openSqliteDatabase(path.join(tempDir(), 'b.db'), { pragmas: { cache_size: '1; x' } }))
        .code,
    ).toBe('database_unavailable');
  });

  it('refuses an in-memory database: durability needs WAL on a file', () => {
    const error = thrown(() => openSqliteDatabase(':memory:'));
    expect(error.code).toBe('database_unavailable');
    expect(error.message).toMatch(/journal_mode is memory, expected wal/);
  });

  it('fails with database_unavailable, moving nothing, when the path cannot be opened', () => {
    const dir = tempDir();
    const asDirectory = path.join(dir, 'sessions.db');
    mkdirSync(asDirectory);
    const error = thrown(() => openSqliteDatabase(asDirectory));
    expect(error.code).toBe('database_unavailable');
    expect(error.message).toMatch(/Cannot open the session database/);
    expect(existsSync(path.join(dir, 'quarantine'))).toBe(false);
  });

  it('fails with database_unavailable when the data directory cannot be created', () => {
    const file = path.join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const error = thrown(() => openSqliteDatabase(path.join(file, 'sessions.db')));
    expect(error.code).toBe('database_unavailable');
    expect(error.message).toMatch(/Cannot create the data directory/);
  });

  it('opens a healthy existing database without moving anything', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    await writeValidDatabase(dbPath);
    const { db, quarantine } = openSqliteDatabase(dbPath);
    expect(quarantine).toBeUndefined();
    expect(db.prepare('SELECT count(*) AS n FROM conversation_history').get()).toEqual({ n: 300 });
    db.close();
    expect(existsSync(path.join(dir, 'quarantine'))).toBe(false);
  });

  it('recovers a database left with a hot rollback journal instead of quarantining it', () => {
    const crashed = crashImageWithHotJournal(tempDir());
    const { db, quarantine } = openSqliteDatabase(crashed);
    expect(quarantine).toBeUndefined();
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 200 });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('quarantines a database that is still damaged once its hot journal is rolled back', () => {
    const dir = tempDir();
    const crashed = crashImageWithHotJournal(dir);
    // Pages 4-6 are leaves of committed rows the journal does not restore.
    const fd = openSync(crashed, 'r+');
    for (let page = 3; page < 6; page++) writeSync(fd, Buffer.alloc(16, 0x5a), 0, 16, page * 4096);
    closeSync(fd);
    const { db, quarantine } = openSqliteDatabase(crashed);
    expect(quarantine?.reason).toMatch(/quick_check failed/);
    expect(quarantine?.files).toContain('sessions.db');
    db.close();
  });

  it('quarantines at the first statement when the open-time check is off', () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    // A real header followed by garbage: only SQLite itself can tell.
    writeFileSync(dbPath, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), randomBytes(8192)]));
    const { db, quarantine } = openSqliteDatabase(dbPath, { quickCheck: false });
    expect(quarantine?.reason).toMatch(/SQLITE_/);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});

/**
 * The files a crash leaves in the middle of a rollback-journal transaction (an older tool's database):
 * uncommitted pages spilled into the file, the original pages in a hot -journal.
 */
function crashImageWithHotJournal(dir: string): string {
  const live = path.join(dir, 'live.db');
  const setup = new Database(live);
  setup.pragma('journal_mode = DELETE');
  setup.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = setup.prepare('INSERT INTO t (v) VALUES (?)');
  setup.transaction(() => {
    for (let i = 0; i < 200; i++) insert.run('committed '.repeat(50));
  })();
  // A tiny cache makes SQLite spill uncommitted pages to the file mid-transaction.
  setup.pragma('cache_size = 1');
  setup.exec('BEGIN');
  for (let i = 0; i < 200; i++) insert.run('uncommitted '.repeat(50));
  const crashed = path.join(dir, 'sessions.db');
  writeFileSync(crashed, readFileSync(live));
  writeFileSync(`${crashed}-journal`, readFileSync(`${live}-journal`));
  setup.exec('ROLLBACK');
  setup.close();
  return crashed;
}

describe('quarantine of a corrupt database', () => {
  it('moves a garbage file with its -wal, -shm and -journal byte for byte, recreates, logs and reports', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    const original: Record<string, Buffer> = {
      'sessions.db': randomBytes(50_000),
      'sessions.db-wal': randomBytes(9_000),
      'sessions.db-shm': randomBytes(32_768),
      'sessions.db-journal': Buffer.from('not a journal either'),
    };
    for (const [name, bytes] of Object.entries(original)) writeFileSync(path.join(dir, name), bytes);
    const { logger, entries } = captureLogs();
    const clock = new TestClock('2026-03-04T05:06:07.890Z');

    const store = await SqliteSessionStore.open(dbPath, { logger, now: clock.now });

    const folder = path.join(dir, 'quarantine', '2026-03-04T05-06-07.890Z');
    expect(readdirSync(folder).sort()).toEqual(Object.keys(original).sort());
    for (const [name, bytes] of Object.entries(original))
      expect(readFileSync(path.join(folder, name))).toEqual(bytes);
    const health = await store.health();
    expect(health).toMatchObject({
      status: 'ok',
      quarantined: {
        folder,
        files: expect.arrayContaining(Object.keys(original)),
        at: '2026-03-04T05:06:07.890Z',
      },
    });
    expect((health.quarantined as { reason: string }).reason).toMatch(/not an SQLite database/);
    const errors = entries.filter((entry) => entry.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toContain(folder);
    // The fresh database works.
    const id = await store.createSession('alice');
    await store.addToHistory(id, 'user', 'fresh start');
    expect((await store.getSession(id)).conversation_history).toHaveLength(1);
    await store.close();
  });

  it('quarantines a text file posing as the database', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    writeFileSync(dbPath, 'hello, I am not a database\n'.repeat(100));
    const store = await SqliteSessionStore.open(dbPath);
    const health = await store.health();
    expect(health.quarantined).toMatchObject({ files: ['sessions.db'] });
    expect(
      readFileSync(path.join((health.quarantined as { folder: string }).folder, 'sessions.db'), 'utf8'),
    ).toMatch(/^hello, I am not a database/);
    await store.close();
  });

  it('quarantines a database with a damaged b-tree page (quick_check fails), byte for byte', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    await writeValidDatabase(dbPath);
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
    const pageSize = 4096;
    const pages = statSync(dbPath).size / pageSize;
    expect(pages).toBeGreaterThan(10);
    const fd = openSync(dbPath, 'r+');
    // The history's leaf pages are the last ones allocated: overwrite one's header (its page type included),
    // which quick_check reads whatever the page holds.
    const leaf = pages - 2;
    writeSync(fd, Buffer.alloc(100, 0x5a), 0, 100, leaf * pageSize);
    closeSync(fd);
    const damaged = readFileSync(dbPath);
    const { logger, entries } = captureLogs();

    const store = await SqliteSessionStore.open(dbPath, { logger });

    const health = await store.health();
    const report = health.quarantined as { folder: string; reason: string };
    expect(report.reason).toMatch(/quick_check failed/);
    expect(readFileSync(path.join(report.folder, 'sessions.db'))).toEqual(damaged);
    expect(entries.some((entry) => entry.level === 50 && entry.msg.includes(report.folder))).toBe(true);
    expect((await store.listSessions()).total).toBe(0);
    await store.close();
  });

  it('quarantines a crashed database and its -wal together, without checkpointing into it', async () => {
    const dir = tempDir();
    const live = path.join(dir, 'live.db');
    const id = await writeValidDatabase(live);
    const store = await SqliteSessionStore.open(live);
    for (let i = 0; i < 5; i++) await store.addToHistory(id, 'assistant', `in the wal ${i}`);
    // Copying the files of an open database gives what a power cut leaves: a -wal with committed frames.
    const dbPath = path.join(dir, 'sessions.db');
    writeFileSync(dbPath, readFileSync(live));
    writeFileSync(`${dbPath}-wal`, readFileSync(`${live}-wal`));
    await store.close();
    const pages = statSync(dbPath).size / 4096;
    const fd = openSync(dbPath, 'r+');
    for (let page = 2; page < pages; page++) writeSync(fd, Buffer.alloc(8, 0x5a), 0, 8, page * 4096);
    closeSync(fd);
    const before = { db: readFileSync(dbPath), wal: readFileSync(`${dbPath}-wal`) };
    expect(before.wal.length).toBeGreaterThan(0);

    const reopened = await SqliteSessionStore.open(dbPath);

    const folder = ((await reopened.health()).quarantined as { folder: string }).folder;
    expect(readFileSync(path.join(folder, 'sessions.db'))).toEqual(before.db);
    expect(readFileSync(path.join(folder, 'sessions.db-wal'))).toEqual(before.wal);
    await reopened.close();
  });

  it('uses a new folder when two quarantines share a timestamp', () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    const at = new Date('2026-03-04T05:06:07.890Z');
    writeFileSync(dbPath, 'first');
    const first = quarantineDatabase(dbPath, 'test', at);
    writeFileSync(dbPath, 'second');
    writeFileSync(`${dbPath}-wal`, 'second wal');
    const second = quarantineDatabase(dbPath, 'test', at);
    expect(path.basename(first.folder)).toBe('2026-03-04T05-06-07.890Z');
    expect(path.basename(second.folder)).toBe('2026-03-04T05-06-07.890Z-2');
    expect(readFileSync(path.join(second.folder, 'sessions.db'), 'utf8')).toBe('second');
    expect(second.files).toEqual(['sessions.db', 'sessions.db-wal']);
  });

  it('refuses to start, keeping the file in place, when it cannot be moved aside', () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'sessions.db');
    writeFileSync(dbPath, 'garbage that cannot move');
    writeFileSync(path.join(dir, 'quarantine'), 'a file where the folder should be');
    const error = thrown(() => openSqliteDatabase(dbPath));
    expect(error.code).toBe('database_unavailable');
    expect(error.message).toMatch(/is corrupt .* could not be moved .* by hand/);
    expect(readFileSync(dbPath, 'utf8')).toBe('garbage that cannot move');
  });
});
