import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCommitQueue } from '../../src/sessions/group-commit-queue.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('group-commit-');
const open: Database.Database[] = [];

afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function database(): { db: Database.Database; dbPath: string } {
  const dbPath = path.join(tempDir(), 'queue.db');
  const db = new Database(dbPath);
  open.push(db);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE item (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE,
      parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);`);
  return { db, dbPath };
}

const values = (db: Database.Database) =>
  (db.prepare('SELECT v FROM item ORDER BY id').all() as { v: string }[]).map((row) => row.v);

describe('GroupCommitQueue', () => {
  it('commits the writes of one turn together and resolves each with its own result, in order', async () => {
    const { db } = database();
    const queue = new GroupCommitQueue(db);
    const insert = db.prepare('INSERT INTO item (v) VALUES (?)');
    const results = await Promise.all(
      ['a', 'b', 'c'].map((v) => queue.enqueue(() => insert.run(v).lastInsertRowid)),
    );
    expect(results).toEqual([1, 2, 3]);
    expect(values(db)).toEqual(['a', 'b', 'c']);
  });

  it('fails only the write that throws; the others of its transaction are kept', async () => {
    const { db } = database();
    const queue = new GroupCommitQueue(db);
    const insert = db.prepare('INSERT INTO item (v) VALUES (?)');
    const results = await Promise.allSettled([
      queue.enqueue(() => insert.run('a')),
      queue.enqueue(() => {
        insert.run('half');
        insert.run('a'); // UNIQUE violation after a first insert: the whole write is undone.
      }),
      queue.enqueue(() => {
        throw new Error('refused');
      }),
      queue.enqueue(() => insert.run('b')),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(values(db)).toEqual(['a', 'b']);
  });

  it('rejects every write of the transaction when COMMIT fails, and saves none of them', async () => {
    const { db } = database();
    const queue = new GroupCommitQueue(db);
    const insert = db.prepare('INSERT INTO item (v, parent) VALUES (?, ?)');
    await queue.enqueue(() => insert.run('before', null));
    // A deferred foreign key is only checked at COMMIT, so the whole transaction fails there.
    const results = await Promise.allSettled([
      queue.enqueue(() => insert.run('x', null)),
      queue.enqueue(() => insert.run('dangling', 42)),
      queue.enqueue(() => insert.run('y', null)),
    ]);
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } });
    }
    expect(db.inTransaction).toBe(false);
    expect(values(db)).toEqual(['before']);
    await queue.enqueue(() => insert.run('after', null));
    expect(values(db)).toEqual(['before', 'after']);
  });

  it('rejects the whole batch when the write lock cannot be taken', async () => {
    const { db, dbPath } = database();
    db.pragma('busy_timeout = 10');
    const other = new Database(dbPath);
    other.exec('BEGIN IMMEDIATE');
    const queue = new GroupCommitQueue(db);
    const insert = db.prepare('INSERT INTO item (v) VALUES (?)');
    const results = await Promise.allSettled(['a', 'b'].map((v) => queue.enqueue(() => insert.run(v))));
    for (const result of results)
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_BUSY' } });
    other.exec('ROLLBACK');
    other.close();
    expect(values(db)).toEqual([]);
  });

  it('splits a burst at maxBatchSize and drains', async () => {
    const { db } = database();
    const queue = new GroupCommitQueue(db, { maxBatchSize: 4 });
    await queue.drain();
    const insert = db.prepare('INSERT INTO item (v) VALUES (?)');
    const writes = Array.from({ length: 10 }, (_, i) => queue.enqueue(() => insert.run(`v${i}`)));
    expect(queue.size).toBe(10);
    await queue.drain();
    expect(queue.size).toBe(0);
    await Promise.all(writes);
    expect(values(db)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  });
});
