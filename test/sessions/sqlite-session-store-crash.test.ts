import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { canMountPrivateTmpfs, exited, lines, spawnTs, spawnTsOnTmpfs } from '../support/child-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const tempDir = useTempDirs('sqlite-session-crash-');
const KILLS = 20;

describe('SqliteSessionStore under kill -9', () => {
  it('keeps every acknowledged append across repeated SIGKILLs of a writer with many writes in flight', async () => {
    const dbPath = path.join(tempDir(), 'sessions.db');
    const setup = await SqliteSessionStore.open(dbPath);
    const sessionId = await setup.createSession('crash-test');
    await setup.close();

    const acknowledged: string[] = [];
    for (let run = 0; run < KILLS; run++) {
      const child = spawnTs(path.join(fixtures, 'append-loop.ts'), [dbPath, sessionId, `r${run}`]);
      const output = lines(child);
      await output.waitFor((line) => line === 'ready');
      // Kill at a random moment: before the first commit, mid-batch, or after many.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
      child.kill('SIGKILL');
      expect((await exited(child)).signal).toBe('SIGKILL');
      for (const line of output.all) if (line.startsWith('ack ')) acknowledged.push(line.slice(4));
    }
    expect(acknowledged.length).toBeGreaterThan(KILLS);

    const db = new Database(dbPath);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const stored = (
      db
        .prepare('SELECT content FROM conversation_history WHERE session_id = ? ORDER BY id')
        .all(sessionId) as {
        content: string;
      }[]
    ).map((row) => row.content);
    db.close();
    const storedSet = new Set(stored);
    const missing = acknowledged.filter((content) => !storedSet.has(content));
    expect(missing).toEqual([]);
    expect(storedSet.size).toBe(stored.length);
    // Within one run, rows are stored in the order the writer issued them.
    for (let run = 0; run < KILLS; run++) {
      const sequence = stored.filter((c) => c.startsWith(`r${run}-`)).map((c) => Number(c.split('-')[1]));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }

    const reopened = await SqliteSessionStore.open(dbPath);
    expect((await reopened.health()).quarantined).toBeUndefined();
    expect((await reopened.getConversationHistory(sessionId)).length).toBe(stored.length);
    await reopened.close();
  }, 180_000);
});

const mountable = canMountPrivateTmpfs();
if (!mountable) {
  console.warn(
    'NOTICE: skipping the full-disk session store test: this machine cannot mount a private tmpfs (unshare -Urm)',
  );
}

describe.skipIf(!mountable)('SqliteSessionStore on a full and a read-only disk (real tmpfs)', () => {
  it('refuses appends on a full or read-only disk with a clear error, saving exactly what it acknowledged', async () => {
    const dataDir = tempDir();
    const child = spawnTsOnTmpfs(path.join(fixtures, 'disk-full.ts'), dataDir, '512k');
    const output = lines(child);
    const line = await output.waitFor((text) => text.startsWith('{'));
    expect((await exited(child)).code).toBe(0);
    const result = JSON.parse(line) as {
      acknowledged: string[];
      errors: { code: string; message: string }[];
      history: string[];
      healthWhileFull: string;
      readOnly: { code: string; message: string };
    };
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(error.code).toBe('storage_error');
      expect(error.message).toMatch(/disk holding the session database is full/);
    }
    expect(result.history).toEqual(['before', ...result.acknowledged, 'after']);
    expect(result.healthWhileFull).toBe('ok');
    expect(result.readOnly.code).toBe('database_unavailable');
    expect(result.readOnly.message).toMatch(/Cannot open the session database .*SQLITE_/);
  }, 60_000);
});
