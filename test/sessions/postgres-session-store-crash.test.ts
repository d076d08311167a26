import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PostgresSessionStore } from '../../src/sessions/postgres-session-store.js';
import { exited, lines, spawnTs } from '../support/child-process.js';
import { useTestPostgres } from '../support/postgres.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const postgres = await useTestPostgres('pg-session-crash');
const KILLS = 6;

describe.skipIf(!postgres.available)('PostgresSessionStore under kill -9', () => {
  it('keeps every acknowledged append across repeated SIGKILLs of a writer with many writes in flight', async () => {
    const url = await postgres.schema();
    const setup = await PostgresSessionStore.open(url);
    const sessionId = await setup.createSession('crash-test');

    const acknowledged: string[] = [];
    for (let run = 0; run < KILLS; run++) {
      const child = spawnTs(path.join(fixtures, 'append-loop.ts'), [url, sessionId, `r${run}`]);
      const output = lines(child);
      await output.waitFor((line) => line === 'ready');
      // Kill once writes are committing, at a random point of a batch.
      await output.waitFor((line) => line.startsWith('ack '));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
      child.kill('SIGKILL');
      expect((await exited(child)).signal).toBe('SIGKILL');
      for (const line of output.all) if (line.startsWith('ack ')) acknowledged.push(line.slice(4));
    }
    expect(acknowledged.length).toBeGreaterThan(KILLS);

    const stored = (await setup.getConversationHistory(sessionId)).map((entry) => entry.content);
    const storedSet = new Set(stored);
    expect(acknowledged.filter((content) => !storedSet.has(content))).toEqual([]);
    expect(storedSet.size).toBe(stored.length);
    for (let run = 0; run < KILLS; run++) {
      const sequence = stored.filter((c) => c.startsWith(`r${run}-`)).map((c) => Number(c.split('-')[1]));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }
    await setup.close();
  }, 180_000);
});
