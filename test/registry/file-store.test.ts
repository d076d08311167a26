import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { FileStore } from '../../src/registry/file-store.js';
import type { RegistryLoadResult } from '../../src/registry/registry-store.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { makeDocument, makeRecord } from '../support/records.js';
import { useTempDirs } from '../support/temp-dir.js';
import { describeRegistryStoreContract } from './registry-store.contract.js';

const tempDir = useTempDirs('file-store-');
const opened: FileStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function openStore(dataDir: string, options: Partial<ConstructorParameters<typeof FileStore>[0]> = {}) {
  const store = new FileStore({ dataDir, now: () => new Date('2026-03-04T05:06:07.089Z'), ...options });
  await store.open();
  opened.push(store);
  return store;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const corruptFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.includes('.corrupt-'))
    .sort();

describeRegistryStoreContract('file', async ({ changesKept, versionsKept }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'file-store-contract-'));
  const make = async () => {
    const store = new FileStore({
      dataDir: dir,
      ...(changesKept !== undefined && { changesKept }),
      ...(versionsKept !== undefined && { versionsKept }),
    });
    await store.open();
    await store.load();
    return store;
  };
  return {
    store: await make(),
    async reopen(store) {
      await store.close();
      return make();
    },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

/** A store opened on `dir` (with the test clock) and loaded. */
async function loadedStore(dir: string, options: Partial<ConstructorParameters<typeof FileStore>[0]> = {}) {
  const store = await openStore(dir, options);
  await store.load();
  return store;
}

const insertAll = (store: FileStore, names: readonly string[]) =>
  Promise.all(names.map((name) => store.insert(makeRecord(name))));

describe("FileStore: the seed's file format, written durably", () => {
  it('writes the seed format to DATA_DIR/registry_config.json, sorted by name, and loads it back', async () => {
    const dir = tempDir();
    const store = await loadedStore(dir);
    await insertAll(store, ['beta', 'alpha']);

    expect(store.path).toBe(path.join(dir, 'registry_config.json'));
    const onDisk = readJson(store.path);
    expect(Object.keys(onDisk)).toEqual(['version', 'last_updated', 'agents']);
    expect(onDisk).toEqual({ ...makeDocument(['alpha', 'beta']), last_updated: '2026-03-04T05:06:07.089Z' });
    await store.close();
    const again = await openStore(dir);
    const loaded = await again.load();
    expect(loaded.source).toBe('file');
    expect(loaded.events).toEqual([]);
    expect(loaded.agents).toEqual([
      { record: makeRecord('alpha'), version: 1 },
      { record: makeRecord('beta'), version: 1 },
    ]);
  });

  it('starts empty, without any recovery event, when nothing was ever saved', async () => {
    const store = await openStore(tempDir());
    const result = await store.load();
    expect(result).toMatchObject({
      source: 'empty',
      events: [],
      agents: [],
      last_updated: '2026-03-04T05:06:07.089Z',
    });
  });

  it('numbers revisions from a time-based epoch, so they grow across restarts', async () => {
    const dir = tempDir();
    const first = await loadedStore(dir, { now: () => new Date('2026-03-04T05:06:07.089Z') });
    const change = await first.insert(makeRecord('alpha'));
    expect(change.revision).toBe(Date.parse('2026-03-04T05:06:07.089Z') * 1000 + 1);
    await first.close();
    const second = await loadedStore(dir, { now: () => new Date('2026-03-04T05:06:08.000Z') });
    expect((await second.snapshot()).revision).toBeGreaterThan(change.revision);
  });

  it('keeps the previous version as the backup before each save', async () => {
    const store = await loadedStore(tempDir());
    await store.insert(makeRecord('one'));
    expect(existsSync(store.backupPath)).toBe(false);
    await store.insert(makeRecord('two'));
    expect(Object.keys(readJson(store.backupPath).agents)).toEqual(['one']);
    await store.insert(makeRecord('three'));
    expect(Object.keys(readJson(store.backupPath).agents)).toEqual(['one', 'two']);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['one', 'three', 'two']);
  });

  it('backup() and restoreFromBackup() copy between the file and its backup', async () => {
    const dir = tempDir();
    const store = await loadedStore(dir);
    expect(await store.backup()).toBe(false);
    expect(await store.restoreFromBackup()).toBe(false);
    await store.insert(makeRecord('kept'));
    expect(await store.backup()).toBe(true);
    await store.insert(makeRecord('later'));
    writeFileSync(store.backupPath, JSON.stringify(makeDocument(['kept'])));
    expect(await store.restoreFromBackup()).toBe(true);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['kept']);
  });

  it('loads files written by the original service without factory_params and updated_at', async () => {
    const dir = tempDir();
    const legacy = {
      version: '1.0.0',
      last_updated: '2025-01-01T00:00:00Z',
      agents: {
        tickets_agent: {
          name: 'tickets_agent',
          description: 'Tickets',
          agent_type: 'tickets',
          factory_module: 'jarvis_agent.mcp_agents.agent_factory',
          factory_function: 'create_tickets_agent',
          capabilities: {},
          tags: ['production'],
          enabled: true,
          registered_at: '2025-01-01T00:00:00Z',
        },
      },
    };
    writeFileSync(path.join(dir, 'registry_config.json'), JSON.stringify(legacy));
    const store = await openStore(dir);
    const { agents, source } = await store.load();
    expect(source).toBe('file');
    expect(agents[0]?.record).toMatchObject({ factory_params: {}, updated_at: '2025-01-01T00:00:00Z' });
  });

  it('removes temp files left by an interrupted save when it opens, and only those', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, '.registry_config.json.tmp-123-abc'), '{"half":');
    writeFileSync(path.join(dir, '.registry_config.json.backup.tmp-9-f00'), 'x');
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await openStore(dir);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses to be used before open() and load()', async () => {
    const store = new FileStore({ dataDir: tempDir() });
    await expect(store.load()).rejects.toMatchObject({ code: 'internal_error' });
    await expect(store.insert(makeRecord('a'))).rejects.toThrow(/before open/);
    await store.open();
    opened.push(store);
    await expect(store.insert(makeRecord('a'))).rejects.toThrow(/before load/);
  });

  it('reports its state for /health', async () => {
    const store = await loadedStore(tempDir());
    await store.insert(makeRecord('a'));
    expect(store.health()).toMatchObject({
      status: 'ok',
      backend: 'file',
      path: store.path,
      loaded_from: 'empty',
      recovery: [],
      last_saved_at: '2026-03-04T05:06:07.089Z',
      saves: 1,
      pending_changes: 0,
    });
  });
});

describe('FileStore group commit', () => {
  it('coalesces concurrent changes into few durable saves; each caller is answered after its save', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const store = await loadedStore(dir, { fs });
    const names = Array.from({ length: 64 }, (_, i) => `agent_${String(i).padStart(2, '0')}`);
    const answered: string[] = [];
    const renames = () =>
      fs.calls.filter((call) => call.method === 'rename' && call.file === store.path).length;
    await Promise.all(
      names.map(async (name) => {
        const change = await store.insert(makeRecord(name));
        // By the time a caller hears back, the file on disk holds its change.
        expect(readJson(store.path).agents[name]).toBeDefined();
        answered.push(change.agent_name);
      }),
    );
    expect(answered.sort()).toEqual(names);
    expect(renames()).toBeLessThan(names.length / 2);
    expect(store.health().saves).toBe(renames());
    expect(Object.keys(readJson(store.path).agents)).toEqual(names);
  });

  it('refuses a change the store rejects without failing the others in its batch', async () => {
    const store = await loadedStore(tempDir());
    await store.insert(makeRecord('taken'));
    const results = await Promise.allSettled([
      store.insert(makeRecord('fresh_a')),
      store.insert(makeRecord('taken')),
      store.update(makeRecord('taken', { enabled: false }), 7),
      store.remove('ghost'),
      store.insert(makeRecord('fresh_b')),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['fresh_a', 'fresh_b', 'taken']);
  });

  it('judges each change against the ones before it in the same batch', async () => {
    const store = await loadedStore(tempDir());
    const [inserted, updated, removed, again] = await Promise.all([
      store.insert(makeRecord('x')),
      store.update(makeRecord('x', { enabled: false }), 1),
      store.remove('x'),
      store.insert(makeRecord('x', { tags: ['second'] })),
    ]);
    expect([inserted.type, updated.type, removed.type, again.type]).toEqual([
      'registered',
      'updated',
      'deleted',
      'registered',
    ]);
    expect([inserted.revision + 1, inserted.revision + 2, inserted.revision + 3]).toEqual([
      updated.revision,
      removed.revision,
      again.revision,
    ]);
    expect(readJson(store.path).agents.x.tags).toEqual(['second']);
  });

  it('a failed save fails every change in its batch and leaves memory and the file unchanged', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const store = await loadedStore(dir, { fs });
    await store.insert(makeRecord('before'));
    const bytes = readFileSync(store.path);
    const snapshot = await store.snapshot();

    fs.fail('write', 'ENOSPC');
    const results = await Promise.allSettled([
      store.insert(makeRecord('one')),
      store.update(makeRecord('before', { enabled: false }), 1),
      store.remove('before'),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'storage_error',
        message: expect.stringMatching(/disk is full \(ENOSPC\)\. The previous version is intact/),
      });
    }
    expect(readFileSync(store.path)).toEqual(bytes);
    expect(await store.snapshot()).toEqual(snapshot);
    expect((await store.changesSince(snapshot.revision, 10)).changes).toEqual([]);

    // The versions of the failed save were rolled back with it.
    expect(await store.versions('before')).toEqual([expect.objectContaining({ version: 1 })]);
    await expect(store.versions('one')).rejects.toMatchObject({ code: 'agent_not_found' });

    fs.clear();
    const change = await store.insert(makeRecord('one'));
    expect(change.revision).toBe(snapshot.revision + 1);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['before', 'one']);
    expect((await store.versions('one')).map((version) => version.version)).toEqual([1]);
  });

  it('records, as recovered versions, where the file is ahead of its history (a crash before the history commit)', async () => {
    const dir = tempDir();
    const store = await loadedStore(dir);
    await insertAll(store, ['changed', 'deleted', 'same']);
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    // What a crash between the file replace and the history COMMIT leaves: the file has changes the
    // history lacks.
    const document = readJson(path.join(dir, 'registry_config.json'));
    document.agents.changed.enabled = false;
    delete document.agents.deleted;
    document.agents.added = makeRecord('added');
    writeFileSync(path.join(dir, 'registry_config.json'), JSON.stringify(document, null, 2));

    const reopened = await loadedStore(dir);
    const loaded = await reopened.snapshot();
    expect(loaded.agents.map((agent) => [agent.record.name, agent.version])).toEqual([
      ['added', 1],
      ['changed', 2],
      ['same', 1],
    ]);
    const summary = async (name: string) =>
      (await reopened.versions(name)).map((version) => [version.version, version.type, version.actor]);
    expect(await summary('changed')).toEqual([
      [2, 'updated', 'recovered'],
      [1, 'registered', 'anonymous'],
    ]);
    expect(await summary('deleted')).toEqual([
      [2, 'deleted', 'recovered'],
      [1, 'registered', 'anonymous'],
    ]);
    expect(await summary('added')).toEqual([[1, 'registered', 'recovered']]);
    expect(await summary('same')).toEqual([[1, 'registered', 'anonymous']]);
    expect((await reopened.version('changed', 2)).enabled).toBe(false);
    // Numbering goes on from the recovered versions; a deleted name is not seeded over.
    expect((await reopened.insert(makeRecord('deleted'))).version).toBe(3);
    expect((await reopened.update(makeRecord('changed'), 2)).version).toBe(3);
  });
});

describe('FileStore recovery from corrupt and invalid files', () => {
  const good = JSON.stringify(makeDocument(['from_backup']), null, 2);
  const valid = JSON.stringify(makeDocument(['from_file']), null, 2);
  const badFiles: Record<string, string | Buffer> = {
    truncated: valid.slice(0, Math.floor(valid.length / 2)),
    garbage: Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x7b, 0xff, 0x13]),
    empty: '',
    'valid JSON failing the schema': JSON.stringify({
      version: '1.0.0',
      last_updated: 'yesterday',
      agents: { x: { name: 1 } },
    }),
    'agents that is not an object': JSON.stringify({ ...makeDocument([]), agents: [] }),
    'prototype pollution key': `{"version":"1.0.0","last_updated":"2026-01-01T00:00:00Z","agents":{},"__proto__":{"polluted":true}}`,
  };
  const backups: Record<string, string | Buffer | undefined> = {
    'a good backup': good,
    'a bad backup': Buffer.from('not json at all'),
    'no backup': undefined,
  };

  for (const [badName, badBytes] of Object.entries(badFiles)) {
    for (const [backupName, backupBytes] of Object.entries(backups)) {
      it(`${badName} file with ${backupName}`, async () => {
        const dir = tempDir();
        const file = path.join(dir, 'registry_config.json');
        const backup = `${file}.backup`;
        writeFileSync(file, badBytes);
        if (backupBytes !== undefined) writeFileSync(backup, backupBytes);
        const store = await openStore(dir);
        const result = await store.load();

        // The bad file is never deleted or overwritten: it is moved aside, byte for byte.
        const movedMain = 'registry_config.json.corrupt-2026-03-04T05-06-07-089Z';
        const movedBackup = 'registry_config.json.backup.corrupt-2026-03-04T05-06-07-089Z';
        const moved = corruptFiles(dir);
        expect(moved).toContain(movedMain);
        expect(readFileSync(path.join(dir, movedMain))).toEqual(Buffer.from(badBytes));
        expect(result.events[0]).toMatchObject({
          file,
          action: 'quarantined',
          moved_to: path.join(dir, movedMain),
        });
        expect({} as Record<string, unknown>).not.toHaveProperty('polluted');

        if (backupName === 'a good backup') {
          expect(result.source).toBe('backup');
          expect(result.agents.map((a) => a.record.name)).toEqual(['from_backup']);
          expect(readFileSync(file, 'utf8')).toBe(good);
          expect(readFileSync(backup, 'utf8')).toBe(good);
          expect(result.events[1]).toMatchObject({ action: 'restored', file: backup });
        } else {
          expect(result.source).toBe('empty');
          expect(result.agents).toEqual([]);
          expect(existsSync(file)).toBe(false);
          if (backupName === 'a bad backup') {
            expect(moved).toEqual([movedBackup, movedMain]);
            expect(readFileSync(path.join(dir, movedBackup))).toEqual(Buffer.from(backupBytes!));
            expect(result.events[1]).toMatchObject({ file: backup, action: 'quarantined' });
          } else {
            expect(moved).toEqual([movedMain]);
          }
        }
        expect(store.health().recovery).toEqual(result.events);
      });
    }
  }

  it('restores from a good backup when the file itself is missing', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry_config.json.backup'), good);
    const store = await openStore(dir);
    const result = await store.load();
    expect(result.source).toBe('backup');
    expect(result.events).toEqual([
      expect.objectContaining({ action: 'restored', reason: 'the registry file was missing' }),
    ]);
    expect(readFileSync(path.join(dir, 'registry_config.json'), 'utf8')).toBe(good);
  });

  it('never overwrites an earlier quarantined file with the same timestamp', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'registry_config.json');
    writeFileSync(`${file}.corrupt-2026-03-04T05-06-07-089Z`, 'earlier');
    writeFileSync(file, 'later');
    const store = await openStore(dir);
    await store.load();
    expect(readFileSync(`${file}.corrupt-2026-03-04T05-06-07-089Z`, 'utf8')).toBe('earlier');
    expect(readFileSync(`${file}.corrupt-2026-03-04T05-06-07-089Z-1`, 'utf8')).toBe('later');
  });

  it('refuses to start (and moves nothing) when the file is from an incompatible format version', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'registry_config.json');
    writeFileSync(file, JSON.stringify({ ...makeDocument(['a']), version: '2.0.0' }));
    const store = await openStore(dir);
    await expect(store.load()).rejects.toThrow(/format 2\.0\.0.*reads 1\.x/);
    expect(corruptFiles(dir)).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });

  it('refuses to start when the file cannot be read, rather than starting empty over it', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry_config.json'), JSON.stringify(makeDocument(['a'])));
    const fs = new FaultyFs().fail('readFile', 'EIO', { match: (f) => f.endsWith('registry_config.json') });
    const store = await openStore(dir, { fs });
    const error = await store.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('storage_error');
    expect((error as AppError).message).toMatch(/Could not read .*registry_config\.json.*\(EIO\)/);
    expect(corruptFiles(dir)).toEqual([]);
  });
});

describe('FileStore: a bad record is set aside, every other agent loads', () => {
  const good = makeDocument(['alpha', 'omega']);
  const nested = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  /** Each bad record, as it would sit in a file written by hand, an older version or a bug. */
  const badRecords: Record<string, [string, unknown, RegExp]> = {
    'an unknown field': ['bad', { ...makeRecord('bad'), surprise: true }, /unknown field\(s\) "surprise"/],
    'a key that does not match its record': [
      'bad',
      makeRecord('other'),
      /the key "bad" holds a record named "other"/,
    ],
    'the name constructor': [
      'constructor',
      makeRecord('constructor'),
      /Invalid agent name "constructor": it is reserved/,
    ],
    'the name toString': [
      'toString',
      makeRecord('toString'),
      /Invalid agent name "toString": it is reserved/,
    ],
    'an escaped __proto__ key in capabilities': [
      'bad',
      {
        ...makeRecord('bad'),
        capabilities: JSON.parse('{"\\u005f_proto__":{"x":1}}'),
      },
      /forbidden key at \/capabilities\/__proto__/,
    ],
    'a 4,001-character description': [
      'bad',
      makeRecord('bad', { description: 'd'.repeat(4001) }),
      /description/,
    ],
    'capabilities nested 4,000 levels deep': [
      'bad',
      { ...makeRecord('bad'), capabilities: { deep: nested(4000), constructor_note: 'constructor' } },
      /nested deeper than the limit of 32 levels/,
    ],
    'a string with an unpaired surrogate': [
      'bad',
      makeRecord('bad', { description: 'x\ud800' }),
      /well-formed/,
    ],
    'a record that is not an object': ['bad', 'just a string', /must be object/],
  };

  for (const [what, [key, record, reason]] of Object.entries(badRecords)) {
    it(`${what}: set aside (file kept byte for byte), reported, the others load, the next start is clean`, async () => {
      const dir = tempDir();
      const file = path.join(dir, 'registry_config.json');
      // Written with JSON.parse-able text built by hand: JSON.stringify of 4,000 levels would overflow.
      const agents = Object.entries(good.agents).map(
        ([name, r]) => `${JSON.stringify(name)}:${JSON.stringify(r)}`,
      );
      const badText = what.includes('4,000')
        ? deepRecordText(record as Record<string, unknown>)
        : JSON.stringify(record);
      const text = `{"version":"1.0.0","last_updated":"${good.last_updated}","agents":{${[
        agents[0],
        `${JSON.stringify(key)}:${badText}`,
        agents[1],
      ].join(',')}}}`;
      writeFileSync(file, text);
      const store = await openStore(dir);
      const result = await store.load();

      expect(result.source).toBe('file');
      expect(documentOf(result)).toEqual(good);
      const copy = `${file}.rejected-2026-03-04T05-06-07-089Z`;
      expect(result.events).toEqual([
        {
          file,
          action: 'records_set_aside',
          moved_to: copy,
          reason: expect.stringMatching(/^1 record\(s\) failed validation and were set aside: /),
          records: [{ name: key, reason: expect.stringMatching(reason) }],
          at: '2026-03-04T05:06:07.089Z',
        },
      ]);
      expect(readFileSync(copy, 'utf8')).toBe(text);
      expect(corruptFiles(dir)).toEqual([]);
      // The registry file no longer holds it, so the next start loads clean; the backup is the file as read.
      expect(readJson(file)).toEqual(good);
      expect(readFileSync(`${file}.backup`, 'utf8')).toBe(text);
      await store.close();
      const again = await openStore(dir);
      const reloaded = await again.load();
      expect(documentOf(reloaded)).toEqual(good);
      expect(reloaded.events).toEqual([]);
    });
  }

  it('sets aside the bad records of a backup it restores from', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'registry_config.json');
    writeFileSync(file, 'garbage');
    const backupText = JSON.stringify({ ...good, agents: { ...good.agents, bad: { name: 'bad' } } });
    writeFileSync(`${file}.backup`, backupText);
    const store = await openStore(dir);
    const result = await store.load();
    expect(result.source).toBe('backup');
    expect(documentOf(result)).toEqual(good);
    expect(result.events.map((event) => event.action)).toEqual([
      'quarantined',
      'restored',
      'records_set_aside',
    ]);
    expect(readFileSync(`${file}.rejected-2026-03-04T05-06-07-089Z`, 'utf8')).toBe(backupText);
  });

  it('inspect() reports what load would do and changes nothing', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'registry_config.json');
    writeFileSync(file, 'garbage');
    writeFileSync(`${file}.backup`, JSON.stringify({ ...good, agents: { ...good.agents, bad: 1 } }));
    const before = readdirSync(dir).sort();
    const store = new FileStore({ dataDir: dir });
    const inspection = await store.inspect();
    expect(inspection).toMatchObject({
      source: 'backup',
      document: good,
      rejected: [{ name: 'bad' }],
      unusable: [expect.stringContaining('not valid JSON')],
    });
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readFileSync(file, 'utf8')).toBe('garbage');
  });
});

/** A record's JSON text with its `capabilities.deep` written out by hand (too deep for JSON.stringify). */
function deepRecordText(record: Record<string, unknown>): string {
  const { capabilities, ...rest } = record as { capabilities: { deep: unknown; constructor_note: string } };
  const deep = `${'{"a":'.repeat(4000)}1${'}'.repeat(4000)}`;
  const capabilitiesText = `{"deep":${deep},"note":${JSON.stringify(capabilities.constructor_note)}}`;
  return `${JSON.stringify(rest).slice(0, -1)},"capabilities":${capabilitiesText}}`;
}

describe('FileStore failures during a save leave the previous file intact', () => {
  const steps: [string, (fs: FaultyFs) => void, RegExp][] = [
    [
      'the disk fills while writing the temp file',
      (fs) => fs.fail('write', 'ENOSPC'),
      /disk is full \(ENOSPC\)/,
    ],
    [
      'fsync of the temp file fails',
      (fs) => fs.fail('sync', 'EIO', { match: (f) => f.includes('.tmp-') }),
      /EIO/,
    ],
    [
      'the temp file cannot be created (read-only)',
      (fs) => fs.fail('open', 'EROFS', { match: (f) => f.includes('.tmp-') }),
      /read-only \(EROFS\)/,
    ],
    ['keeping the backup fails', (fs) => fs.fail('link', 'EACCES'), /permission denied \(EACCES\)/],
    [
      'the final rename fails',
      (fs) => fs.fail('rename', 'EIO', { match: (f) => f.endsWith('registry_config.json') }),
      /EIO/,
    ],
    [
      'fsync of the directory fails after the rename',
      (fs) => fs.fail('sync', 'EIO', { match: (f) => !f.includes('.tmp-') && !f.endsWith('.json') }),
      /EIO/,
    ],
  ];

  it('answers a name taken within the same batch only once the winner is saved, and with the save failure when it is not', async () => {
    const dir = tempDir();
    const fs = new FaultyFs();
    const store = await loadedStore(dir, { fs });
    // Saved: the loser's 409 comes after the winner is readable.
    const [won, lost] = await Promise.allSettled([
      store.insert(makeRecord('twin')),
      store.insert(makeRecord('twin')).catch(async (error: unknown) => {
        expect((await store.snapshot()).agents.map((agent) => agent.record.name)).toContain('twin');
        throw error;
      }),
    ]);
    expect(won.status).toBe('fulfilled');
    expect(lost).toMatchObject({ status: 'rejected', reason: { code: 'agent_exists' } });
    // Not saved: neither is told the name is taken by an agent that was never stored.
    fs.fail('rename', 'EIO', { match: (f) => f.endsWith('registry_config.json') });
    const results = await Promise.allSettled([
      store.insert(makeRecord('ghost')),
      store.insert(makeRecord('ghost')),
    ]);
    expect(results.map((r) => r.status === 'rejected' && (r.reason as AppError).code)).toEqual([
      'storage_error',
      'storage_error',
    ]);
    await store.close();
  });

  for (const [step, inject, message] of steps) {
    it(`${step}: the save fails with a clear error and the file still holds the previous document`, async () => {
      const dir = tempDir();
      const fs = new FaultyFs();
      const store = await loadedStore(dir, { fs });
      await store.insert(makeRecord('before'));
      const previousBytes = readFileSync(store.path);

      inject(fs);
      const error = await store.insert(makeRecord('after')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('storage_error');
      expect((error as AppError).message).toMatch(message);
      expect((error as AppError).message).toMatch(/previous version is intact/);
      expect(readFileSync(store.path)).toEqual(previousBytes);
      expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
      expect(store.health().last_error).toMatch(/injected failure/);

      // The store keeps working once the fault is gone.
      fs.clear();
      await store.insert(makeRecord('again'));
      expect(Object.keys(readJson(store.path).agents)).toEqual(['again', 'before']);
      expect(store.health().last_error).toBeUndefined();
    });
  }

  it('copies the bytes when the filesystem does not support hard links', async () => {
    const dir = tempDir();
    const fs = new FaultyFs().fail('link', 'EPERM', { sticky: true });
    const store = await loadedStore(dir, { fs });
    await store.insert(makeRecord('v1'));
    await store.insert(makeRecord('v2'));
    expect(Object.keys(readJson(store.backupPath).agents)).toEqual(['v1']);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['v1', 'v2']);
    expect(await store.restoreFromBackup()).toBe(true);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['v1']);
  });
});

describe('FileStore data directory lock', () => {
  it('refuses a second store on the same directory, naming the holder and pointing to PostgreSQL', async () => {
    const dir = tempDir();
    await openStore(dir);
    const second = new FileStore({ dataDir: dir });
    const error = await second.open().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'data_dir_locked' });
    expect((error as Error).message).toContain(`process ${process.pid}`);
    expect((error as Error).message).toContain('DATABASE_URL=postgres://');
  });

  it('can be reopened after close()', async () => {
    const dir = tempDir();
    const first = await openStore(dir);
    await first.close();
    const second = await loadedStore(dir);
    await second.insert(makeRecord('x'));
  });

  it('reports a data directory it cannot create', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a-file'), '');
    const store = new FileStore({ dataDir: path.join(dir, 'a-file', 'data') });
    await expect(store.open()).rejects.toMatchObject({
      code: 'storage_error',
      message: /create the data directory/,
    });
  });
});

describe('durable-file primitives', () => {
  it('keeps writing after a short write, and fails on a write that makes no progress', async () => {
    const { writeAll } = await import('../../src/registry/durable-file.js');
    const written: number[] = [];
    const out: string[] = [];
    // The kernel takes at most 3 bytes per call, so writes end inside parts and on their boundaries.
    const shortWriter = {
      writev: async (buffers: Uint8Array[]) => {
        const bytes = Buffer.concat(buffers).subarray(0, 3);
        written.push(bytes.length);
        out.push(bytes.toString());
        return { bytesWritten: bytes.length };
      },
      sync: async () => {},
      close: async () => {},
    };
    await writeAll(shortWriter, Buffer.from('0123456789'));
    expect(written).toEqual([3, 3, 3, 1]);
    expect(out.join('')).toBe('0123456789');
    out.length = 0;
    written.length = 0;
    await writeAll(
      shortWriter,
      ['ab', '', 'cdef', 'g', 'hi'].map((part) => Buffer.from(part)),
    );
    expect(out.join('')).toBe('abcdefghi');
    expect(written).toEqual([3, 3, 3]);
    const stuck = { ...shortWriter, writev: async () => ({ bytesWritten: 0 }) };
    await expect(writeAll(stuck, Buffer.from('x'))).rejects.toMatchObject({ code: 'EIO' });
    await expect(writeAll(stuck, [Buffer.from('x'), Buffer.from('y')])).rejects.toMatchObject({
      code: 'EIO',
    });
  });

  it('treats a directory fsync the filesystem does not support (EINVAL) as done, and reports other errors', async () => {
    const { syncDirectory } = await import('../../src/registry/durable-file.js');
    const dir = tempDir();
    await syncDirectory(new FaultyFs().fail('sync', 'EINVAL'), dir);
    await expect(syncDirectory(new FaultyFs().fail('sync', 'EIO'), dir)).rejects.toMatchObject({
      code: 'EIO',
    });
  });

  it('reports a failure to move a corrupt file aside instead of starting empty over it', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry_config.json'), 'garbage');
    const fs = new FaultyFs().fail('rename', 'EACCES', { match: (f) => f.includes('.corrupt-') });
    const store = await openStore(dir, { fs });
    await expect(store.load()).rejects.toMatchObject({
      code: 'storage_error',
      message: /move the unusable file/,
    });
    expect(readFileSync(path.join(dir, 'registry_config.json'), 'utf8')).toBe('garbage');
  });

  it('leaves no temp file behind on the first save after a restore (file and backup are then one inode)', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry_config.json.backup'), JSON.stringify(makeDocument(['b'])));
    const store = await openStore(dir);
    expect((await store.load()).source).toBe('backup');
    await store.insert(makeRecord('c'));
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(Object.keys(readJson(path.join(dir, 'registry_config.json.backup')).agents)).toEqual(['b']);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['b', 'c']);
  });

  it('reports a backup that cannot be restored', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry_config.json.backup'), JSON.stringify(makeDocument(['b'])));
    const fs = new FaultyFs().fail('link', 'EIO');
    const store = await openStore(dir, { fs });
    await expect(store.restoreFromBackup()).rejects.toMatchObject({
      code: 'storage_error',
      message: /restore .* \(EIO\)/,
    });
  });
});

describe('FileStore serialization', () => {
  const at = '2026-03-04T05:06:07.089Z';

  it('writes exactly JSON.stringify(document, null, 2), reusing the bytes of unchanged records', async () => {
    const store = await loadedStore(tempDir());
    await store.insert(makeRecord('gone'));
    await store.remove('gone');
    expect(readFileSync(store.path, 'utf8')).toBe(`${JSON.stringify(makeDocument([], at), null, 2)}\n`);

    const two = makeRecord('two', {
      description: 'multi\nline "quoted" \u2028 text ✓',
      factory_params: {},
      capabilities: { nested: { empty: [], deeper: { list: [1, { x: null }] } } },
    });
    await Promise.all([store.insert(makeRecord('one')), store.insert(two)]);
    const document = { ...makeDocument(['one'], at), agents: { one: makeRecord('one'), two } };
    expect(readFileSync(store.path, 'utf8')).toBe(`${JSON.stringify(document, null, 2)}\n`);

    const three = makeRecord('three');
    await store.insert(three);
    await store.update(makeRecord('one', { enabled: false }), 1);
    const next = { ...document, agents: { one: makeRecord('one', { enabled: false }), three, two } };
    expect(readFileSync(store.path, 'utf8')).toBe(`${JSON.stringify(next, null, 2)}\n`);
  });

  it('freezes stored records, so a record cannot change behind its cached bytes', async () => {
    const store = await loadedStore(tempDir());
    const record = makeRecord('one');
    await store.insert(record);
    expect(() => {
      record.enabled = false;
    }).toThrow(TypeError);
    expect(() => {
      record.tags.push('x');
    }).toThrow(TypeError);
  });
});

/** A load result in the file's format, to compare with what was written. */
function documentOf(result: RegistryLoadResult) {
  return {
    version: '1.0.0',
    last_updated: result.last_updated,
    agents: Object.fromEntries(result.agents.map((agent) => [agent.record.name, agent.record])),
  };
}
