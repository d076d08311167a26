import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../src/registry/file-store.js';
import { canMountPrivateTmpfs, exited, lines, spawnTs, spawnTsOnTmpfs } from '../support/child-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const tempDir = useTempDirs('file-store-crash-');

/** The registry as a restart finds it: each lane's last saved seq, and every agent's name. */
async function readBack(dataDir: string) {
  const store = new FileStore({ dataDir });
  await store.open();
  try {
    const { agents, source } = await store.load();
    const seqs = new Map<number, number>();
    /** Each lane's newest versions: the seq each holds and who made it. */
    const versions = new Map<number, { seq: number; actor: string }[]>();
    for (const { record, version } of agents) {
      const lane = /^agent_(\d+)$/.exec(record.name)?.[1];
      if (lane === undefined) continue;
      seqs.set(Number(lane), Number(record.factory_params.seq));
      const kept = await store.versions(record.name);
      // Numbered without gaps, newest first, the newest being the stored record's.
      expect(kept[0]!.version).toBe(version);
      expect(kept.map((v) => v.version)).toEqual(kept.map((_, i) => version - i));
      const newest = [];
      for (const { version: n, actor } of kept.slice(0, 3)) {
        newest.push({ seq: Number((await store.version(record.name, n)).factory_params.seq), actor });
      }
      versions.set(Number(lane), newest);
    }
    return { source, seqs, versions, names: new Set(agents.map((agent) => agent.record.name)) };
  } finally {
    await store.close();
  }
}

describe('FileStore under SIGKILL', () => {
  it('keeps every change acknowledged from coalesced batches across 20 kills at random moments', async () => {
    const dataDir = tempDir();
    let next = 0;
    for (let round = 0; round < 20; round++) {
      const child = spawnTs(path.join(fixtures, 'save-loop.ts'), [dataDir, String(next)]);
      const output = lines(child);
      // Let it make a few saves, then kill it somewhere in the middle of one.
      await output.waitFor((line) => line === `ack 0 ${next + 2}`);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
      child.kill('SIGKILL');
      await exited(child);

      const acked = new Map<number, number>();
      const added: string[] = [];
      for (const line of output.all) {
        const [word, a, b] = line.split(' ');
        if (word === 'ack') acked.set(Number(a), Math.max(acked.get(Number(a)) ?? -1, Number(b)));
        if (word === 'added') added.push(a!);
      }
      const { seqs, names, source, versions } = await readBack(dataDir);
      expect(source).toBe('file');
      for (const [lane, last] of acked) {
        // The file holds the last acknowledged change of each writer, or the one it had in flight.
        const seq = seqs.get(lane)!;
        expect(seq === last || seq === last + 1, `lane ${lane}: file ${seq}, acknowledged ${last}`).toBe(
          true,
        );
        // The acknowledged change's version was committed with it (not recovered at the next load).
        expect(versions.get(lane), `lane ${lane}: version of seq ${last}`).toContainEqual({
          seq: last,
          actor: 'anonymous',
        });
      }
      for (const name of added) expect(names.has(name), `${name} was acknowledged`).toBe(true);
      next = Math.max(...seqs.values()) + 1;
    }
    expect(readdirSync(dataDir).filter((name) => name.includes('corrupt'))).toEqual([]);
  }, 300_000);
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
      enospc: string[];
      agentsAfterEnospc: string[];
      parsed: { agents: Record<string, unknown> };
    };

    // Every change of the batch failed with the save, and neither the file nor memory took any of them.
    expect(result.enospc).toHaveLength(1);
    expect(result.enospc[0]).toMatch(
      /^storage_error: Could not save the registry .*the disk is full \(ENOSPC\)\. The previous version is intact/,
    );
    expect(result.afterEnospc).toBe(result.before);
    expect(result.agentsAfterEnospc).toEqual(['kept_a', 'kept_b']);
    expect(result.erofs).toMatch(/^storage_error: .*read-only \(EROFS\)/);
    expect(result.afterErofs).toBe(result.before);
    expect(Object.keys(result.parsed.agents)).toEqual(['kept_a', 'kept_b']);
    expect((await exited(child)).code).toBe(0);
  }, 60_000);
});
