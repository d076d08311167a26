import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { FileStore } from '../../src/registry/file-store.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { makeDocument, makeRecord } from '../support/records.js';
import { useTempDirs } from '../support/temp-dir.js';

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

describe('FileStore save and load', () => {
  it('writes the seed format to DATA_DIR/registry_config.json and loads it back', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    const document = makeDocument(['alpha', 'beta']);
    await store.save(document);

    expect(store.path).toBe(path.join(dir, 'registry_config.json'));
    const onDisk = readJson(store.path);
    expect(Object.keys(onDisk)).toEqual(['version', 'last_updated', 'agents']);
    expect(onDisk).toEqual(document);
    expect(await store.load()).toEqual({ document, source: 'file', events: [] });
  });

  it('starts empty, without any recovery event, when nothing was ever saved', async () => {
    const store = await openStore(tempDir());
    const result = await store.load();
    expect(result.source).toBe('empty');
    expect(result.events).toEqual([]);
    expect(result.document).toEqual({
      version: '1.0.0',
      last_updated: '2026-03-04T05:06:07.089Z',
      agents: {},
    });
  });

  it('keeps the previous version as the backup before each save', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    await store.save(makeDocument(['one']));
    expect(existsSync(store.backupPath)).toBe(false);
    await store.save(makeDocument(['one', 'two']));
    expect(Object.keys(readJson(store.backupPath).agents)).toEqual(['one']);
    await store.save(makeDocument(['one', 'two', 'three']));
    expect(Object.keys(readJson(store.backupPath).agents)).toEqual(['one', 'two']);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['one', 'two', 'three']);
  });

  it('backup() and restoreFromBackup() copy between the file and its backup', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    expect(await store.backup()).toBe(false);
    expect(await store.restoreFromBackup()).toBe(false);
    await store.save(makeDocument(['kept']));
    expect(await store.backup()).toBe(true);
    await store.save(makeDocument(['kept', 'later']));
    // save() promoted the file to backup again, so make the backup hold "kept" only and restore it.
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
    const { document, source } = await store.load();
    expect(source).toBe('file');
    expect(document.agents.tickets_agent).toMatchObject({
      factory_params: {},
      updated_at: '2025-01-01T00:00:00Z',
    });
  });

  it('serializes concurrent saves: the last one called is the one on disk, and each left a complete file', async () => {
    const store = await openStore(tempDir());
    const saves = Array.from({ length: 25 }, (_, i) => store.save(makeDocument([`agent_${i}`])));
    await Promise.all(saves);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['agent_24']);
    expect(Object.keys(readJson(store.backupPath).agents)).toEqual(['agent_23']);
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

  it('refuses to be used before open()', async () => {
    const store = new FileStore({ dataDir: tempDir() });
    await expect(store.load()).rejects.toMatchObject({ code: 'internal_error' });
    expect(() => store.save(makeDocument([]))).toThrow(/before open/);
  });

  it('reports its state for /health', async () => {
    const store = await openStore(tempDir());
    await store.load();
    await store.save(makeDocument(['a']));
    expect(store.health()).toMatchObject({
      backend: 'file',
      path: store.path,
      loaded_from: 'empty',
      recovery: [],
      last_saved_at: '2026-03-04T05:06:07.089Z',
    });
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
          expect(Object.keys(result.document.agents)).toEqual(['from_backup']);
          expect(readFileSync(file, 'utf8')).toBe(good);
          expect(readFileSync(backup, 'utf8')).toBe(good);
          expect(result.events[1]).toMatchObject({ action: 'restored', file: backup });
        } else {
          expect(result.source).toBe('empty');
          expect(result.document.agents).toEqual({});
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
      expect(result.document).toEqual(good);
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
      expect(await again.load()).toEqual({ document: good, source: 'file', events: [] });
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
    expect(result.document).toEqual(good);
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

  for (const [step, inject, message] of steps) {
    it(`${step}: the save fails with a clear error and the file still holds the previous document`, async () => {
      const dir = tempDir();
      const fs = new FaultyFs();
      const store = await openStore(dir, { fs });
      const previous = makeDocument(['before']);
      await store.save(previous);
      const previousBytes = readFileSync(store.path);

      inject(fs);
      const error = await store.save(makeDocument(['before', 'after'])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('storage_error');
      expect((error as AppError).message).toMatch(message);
      expect((error as AppError).message).toMatch(/previous version is intact/);
      expect(readFileSync(store.path)).toEqual(previousBytes);
      expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
      expect(store.health().last_error).toMatch(/injected failure/);

      // The store keeps working once the fault is gone.
      fs.clear();
      await store.save(makeDocument(['before', 'again']));
      expect(Object.keys(readJson(store.path).agents)).toEqual(['before', 'again']);
      expect(store.health().last_error).toBeUndefined();
    });
  }

  it('copies the bytes when the filesystem does not support hard links', async () => {
    const dir = tempDir();
    const fs = new FaultyFs().fail('link', 'EPERM', { sticky: true });
    const store = await openStore(dir, { fs });
    await store.save(makeDocument(['v1']));
    await store.save(makeDocument(['v2']));
    expect(Object.keys(readJson(store.backupPath).agents)).toEqual(['v1']);
    expect(Object.keys(readJson(store.path).agents)).toEqual(['v2']);
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
    const second = await openStore(dir);
    await second.save(makeDocument(['x']));
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
    const shortWriter = {
      write: async (_b: Uint8Array, _o: number, length: number) => {
        const n = Math.min(3, length);
        written.push(n);
        return { bytesWritten: n };
      },
      sync: async () => {},
      close: async () => {},
    };
    await writeAll(shortWriter, Buffer.from('0123456789'));
    expect(written).toEqual([3, 3, 3, 1]);
    const stuck = { ...shortWriter, write: async () => ({ bytesWritten: 0 }) };
    await expect(writeAll(stuck, Buffer.from('x'))).rejects.toMatchObject({ code: 'EIO' });
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
    await store.save(makeDocument(['b', 'c']));
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
  it('writes exactly JSON.stringify(document, null, 2), reusing the bytes of unchanged records', async () => {
    const store = await openStore(tempDir());
    const empty = makeDocument([]);
    await store.save(empty);
    expect(readFileSync(store.path, 'utf8')).toBe(`${JSON.stringify(empty, null, 2)}\n`);

    const document = makeDocument(['one', 'two']);
    document.agents.two = {
      ...document.agents.two!,
      description: 'multi\nline "quoted" \u2028 text ✓',
      factory_params: {},
      capabilities: { nested: { empty: [], deeper: { list: [1, { x: null }] } } },
    };
    await store.save(document);
    expect(readFileSync(store.path, 'utf8')).toBe(`${JSON.stringify(document, null, 2)}\n`);

    const next = {
      ...document,
      agents: { ...document.agents, three: makeDocument(['three']).agents.three! },
    };
    await store.save(next);
    expect(readFileSync(store.path, 'utf8')).toBe(`${JSON.stringify(next, null, 2)}\n`);

    // The same (cached) record under another key is written under that key.
    const renamed = { ...next, agents: { alias: document.agents.one!, three: next.agents.three } };
    await store.save(renamed);
    expect(readFileSync(store.path, 'utf8')).toBe(`${JSON.stringify(renamed, null, 2)}\n`);
  });

  it('freezes saved records, so a record cannot change behind its cached bytes', async () => {
    const store = await openStore(tempDir());
    const document = makeDocument(['one']);
    await store.save(document);
    expect(() => {
      document.agents.one!.enabled = false;
    }).toThrow(TypeError);
    expect(() => {
      document.agents.one!.tags.push('x');
    }).toThrow(TypeError);
  });
});
