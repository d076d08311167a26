import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../src/registry/file-store.js';
import { canMountPrivateTmpfs, exited, lines, spawnTs, spawnTsOnTmpfs } from '../support/child-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const tempDir = useTempDirs('file-store-crash-');

async function readSeq(dataDir: string): Promise<{ seq: number; source: string }> {
  const store = new FileStore({ dataDir });
  await store.open();
  try {
    const { document, source } = await store.load();
    return { seq: Number(document.agents.agent_0?.factory_params.seq ?? -1), source };
  } finally {
    await store.close();
  }
}

describe('FileStore under SIGKILL', () => {
  it('keeps every acknowledged save across 20 kills at random moments, and the file always parses', async () => {
    const dataDir = tempDir();
    let next = 0;
    for (let round = 0; round < 20; round++) {
      const child = spawnTs(path.join(fixtures, 'save-loop.ts'), [dataDir, String(next)]);
      const output = lines(child);
      // Let it make a few saves, then kill it somewhere in the middle of one.
      await output.waitFor((line) => line === `ack ${next + 2}`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
      child.kill('SIGKILL');
      await exited(child);

      const acked = output.all.filter((line) => line.startsWith('ack ')).map((line) => Number(line.slice(4)));
      const lastAcked = Math.max(...acked);
      const { seq, source } = await readSeq(dataDir);
      expect(source).toBe('file');
      // The file holds the last acknowledged save, or the one after it that was in flight.
      expect(seq === lastAcked || seq === lastAcked + 1).toBe(true);
      next = seq + 1;
    }
    expect(readdirSync(dataDir).filter((name) => name.includes('corrupt'))).toEqual([]);
  }, 240_000);
});

describe('FileStore data directory lock across processes', () => {
  it('refuses while another process holds the directory, and the kernel frees it when that process is killed', async () => {
    const dataDir = tempDir();
    const child = spawnTs(path.join(fixtures, 'hold-lock.ts'), [dataDir]);
    await lines(child).waitFor((line) => line === 'locked');

    const refused = new FileStore({ dataDir });
    const error = await refused.open().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'data_dir_locked' });
    expect((error as Error).message).toContain(`process ${child.pid} `);
    expect((error as Error).message).toContain('hold-lock.ts');

    child.kill('SIGKILL');
    await exited(child);
    const store = new FileStore({ dataDir });
    await store.open();
    await store.close();
  }, 60_000);
});

const mountable = canMountPrivateTmpfs();
if (!mountable) {
  console.warn(
    'NOTICE: skipping full-disk and read-only tests: this machine cannot mount a private tmpfs (unshare -Urm)',
  );
}

describe.skipIf(!mountable)('FileStore on a full disk and a read-only filesystem (real tmpfs)', () => {
  it('fails the save with a clear error and keeps the previous file intact and parseable', async () => {
    const dataDir = tempDir();
    const child = spawnTsOnTmpfs(path.join(fixtures, 'disk-faults.ts'), dataDir, '96k');
    const output = lines(child);
    const line = await output.waitFor((l) => l.startsWith('{'));
    const result = JSON.parse(line) as Record<string, string> & {
      parsed: { agents: Record<string, unknown> };
    };

    expect(result.enospc).toMatch(
      /^storage_error: Could not save the registry .*the disk is full \(ENOSPC\)\. The previous version is intact/,
    );
    expect(result.afterEnospc).toBe(result.before);
    expect(result.erofs).toMatch(/^storage_error: .*read-only \(EROFS\)/);
    expect(result.afterErofs).toBe(result.before);
    expect(Object.keys(result.parsed.agents)).toEqual(['kept_a', 'kept_b']);
    expect((await exited(child)).code).toBe(0);
  }, 60_000);
});
