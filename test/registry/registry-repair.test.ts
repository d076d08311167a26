import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/registry/file-store.js';
import { applyRepair, describePlan, planRepair } from '../../src/registry/registry-repair.js';
import { exited, spawnTs } from '../support/child-process.js';
import { makeDocument, makeRecord } from '../support/records.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('registry-repair-');
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.ts');
const NOW = () => new Date('2026-03-04T05:06:07.089Z');
const stores: FileStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function store(dir: string): FileStore {
  const created = new FileStore({ dataDir: dir, now: NOW });
  stores.push(created);
  return created;
}

const file = (dir: string) => path.join(dir, 'registry_config.json');
const docText = (agents: Record<string, unknown>) =>
  JSON.stringify({ version: '1.0.0', last_updated: '2026-01-02T00:00:00.000Z', agents });

/**
 * A data directory as a bad start left it: `kept` loaded, `lost` set aside (it failed validation then,
 * e.g. written by a newer build with a field this one did not know; here: fixed by hand since), and a
 * whole file moved aside as corrupt.
 */
async function damagedDataDir(): Promise<string> {
  const dir = tempDir();
  writeFileSync(
    file(dir),
    docText({ kept: makeRecord('kept'), constructor: makeRecord('constructor'), lost: { name: 'lost' } }),
  );
  const first = store(dir);
  await first.open();
  await first.load();
  await first.close();
  // The operator fixed the set-aside copy by hand: "lost" is a whole record now.
  const copy = readdirSync(dir).find((name) => name.includes('.rejected-'))!;
  const fixed = JSON.parse(readFileSync(path.join(dir, copy), 'utf8'));
  fixed.agents.lost = makeRecord('lost');
  writeFileSync(path.join(dir, copy), JSON.stringify(fixed));
  writeFileSync(`${file(dir)}.corrupt-2026-01-01T00-00-00-000Z`, '{"agents": {trunc');
  writeFileSync(
    `${file(dir)}.backup.corrupt-2026-01-01T00-00-00-000Z`,
    docText({
      kept: makeRecord('kept', { description: 'an older kept' }),
      lost: makeRecord('lost', { updated_at: '2025-12-01T00:00:00.000Z' }),
      other: makeRecord('other'),
    }),
  );
  return dir;
}

describe('planRepair', () => {
  it('reads every set-aside file record by record and says what would happen to each, changing nothing', async () => {
    const dir = await damagedDataDir();
    const before = readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]);
    const inspecting = store(dir);
    const plan = await planRepair(inspecting, (await inspecting.inspect()).document);

    expect(plan.files.map((f) => [path.basename(f.file), f.records, f.unreadable ?? null])).toEqual([
      ['registry_config.json.backup.corrupt-2026-01-01T00-00-00-000Z', 3, null],
      ['registry_config.json.corrupt-2026-01-01T00-00-00-000Z', 0, expect.stringMatching(/not valid JSON/)],
      ['registry_config.json.rejected-2026-03-04T05-06-07-089Z', 3, null],
    ]);
    const actions = plan.items.map((item) => [item.name, item.action, path.basename(item.file)]);
    expect(actions).toEqual([
      ['kept', 'conflict', 'registry_config.json.backup.corrupt-2026-01-01T00-00-00-000Z'],
      ['lost', 'superseded', 'registry_config.json.backup.corrupt-2026-01-01T00-00-00-000Z'],
      ['other', 'restore', 'registry_config.json.backup.corrupt-2026-01-01T00-00-00-000Z'],
      ['constructor', 'invalid', 'registry_config.json.rejected-2026-03-04T05-06-07-089Z'],
      ['kept', 'present', 'registry_config.json.rejected-2026-03-04T05-06-07-089Z'],
      ['lost', 'restore', 'registry_config.json.rejected-2026-03-04T05-06-07-089Z'],
    ]);
    expect(plan.items.find((item) => item.action === 'invalid')?.reason).toMatch(/reserved/);
    expect(plan.restorable.map((record) => record.name).sort()).toEqual(['lost', 'other']);
    expect(
      readdirSync(dir)
        .sort()
        .map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]),
    ).toEqual(before);

    const text = describePlan(plan, false);
    expect(text).toContain('Dry run: 2 record(s) would be restored.');
    expect(text).toMatch(/constructor\s+invalid\s+registry_config\.json\.rejected-/);
  });

  it('says there is nothing to repair when nothing was set aside', async () => {
    const dir = tempDir();
    const inspecting = store(dir);
    const plan = await planRepair(inspecting, makeDocument([]));
    expect(plan).toEqual({ files: [], items: [], restorable: [] });
    expect(describePlan(plan, false)).toBe('Nothing was set aside: there is nothing to repair.\n');
  });
});

describe('applyRepair', () => {
  it('restores the valid records in one durable save, keeps the registry’s own, and the next load is clean', async () => {
    const dir = await damagedDataDir();
    const plan = await applyRepair(store(dir));
    expect(plan.restorable.map((record) => record.name).sort()).toEqual(['lost', 'other']);
    const reloaded = store(dir);
    await reloaded.open();
    const { agents, events, last_updated } = await reloaded.load();
    expect(events).toEqual([]);
    expect(agents.map((agent) => agent.record)).toEqual([
      makeRecord('kept'),
      makeRecord('lost'),
      makeRecord('other'),
    ]);
    expect(last_updated).toBe('2026-03-04T05:06:07.089Z');
    expect(describePlan(plan, true)).toContain('Restored 2 record(s) into the registry');
  });

  it('refuses while another process (a running service) holds the data directory, and changes nothing', async () => {
    const dir = await damagedDataDir();
    const holder = store(dir);
    await holder.open();
    const before = readFileSync(file(dir), 'utf8');
    await expect(applyRepair(new FileStore({ dataDir: dir }))).rejects.toMatchObject({
      code: 'data_dir_locked',
    });
    expect(readFileSync(file(dir), 'utf8')).toBe(before);
  });
});

describe('agent-registry repair (the real command)', () => {
  it('shows the plan by default, restores with --apply, and prints JSON with --json', async () => {
    const dir = await damagedDataDir();
    const before = readFileSync(file(dir), 'utf8');
    const run = async (...args: string[]) => {
      const child = spawnTs(CLI, ['repair', ...args], { DATA_DIR: dir, LOG_LEVEL: 'silent' });
      let stdout = '';
      child.stdout?.on('data', (chunk) => {
        stdout += String(chunk);
      });
      const { code } = await exited(child);
      return { code, stdout };
    };

    const dry = await run();
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: 2 record(s) would be restored.');
    expect(readFileSync(file(dir), 'utf8')).toBe(before);

    const json = await run('--json');
    expect(JSON.parse(json.stdout).restorable).toHaveLength(2);

    const applied = await run('--apply');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Restored 2 record(s)');
    expect(Object.keys(JSON.parse(readFileSync(file(dir), 'utf8')).agents)).toEqual([
      'kept',
      'lost',
      'other',
    ]);

    expect((await run('--bogus')).code).toBe(2);
  }, 120_000);
});
