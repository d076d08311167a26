import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { realFs } from '../../src/registry/durable-file.js';
import { FileStore } from '../../src/registry/file-store.js';
import {
  InlineFileWriter,
  RegistryImage,
  serveFileWrites,
  WorkerFileWriter,
  writerThread,
} from '../../src/registry/file-writer.js';
import { spawnTs } from '../support/child-process.js';
import { makeRecord } from '../support/records.js';
import { useTempDirs } from '../support/temp-dir.js';

const SAVE_SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'file-store-save.ts',
);
const tempDir = useTempDirs('file-writer-');
const opened: FileStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function loadedStore(dir: string, writer: 'worker' | 'inline'): Promise<FileStore> {
  const store = new FileStore({ dataDir: dir, writer, now: () => new Date('2026-12-02T00:00:00.000Z') });
  opened.push(store);
  await store.open();
  await store.load();
  return store;
}

/** The same changes on a store: every kind of change, and the registry emptied and refilled. */
async function changes(store: FileStore): Promise<string[]> {
  const files: string[] = [];
  const saved = () => files.push(readFileSync(store.path, 'utf8'));
  await store.insert(makeRecord('b_agent'));
  saved();
  await Promise.all([store.insert(makeRecord('a_agent')), store.insert(makeRecord('c_agent'))]);
  saved();
  await store.update(makeRecord('b_agent', { description: 'changed "quoted"\nnew line', tags: ['x'] }), 1);
  saved();
  await Promise.all(['a_agent', 'b_agent', 'c_agent'].map((name) => store.remove(name)));
  saved();
  await store.insert(makeRecord('d_agent'));
  saved();
  return files;
}

describe('registry file writer', () => {
  it('writes in its thread exactly what the inline writer writes: JSON.stringify(document, null, 2)', async () => {
    const inThread = await changes(await loadedStore(tempDir(), 'worker'));
    const inline = await changes(await loadedStore(tempDir(), 'inline'));
    expect(inThread).toEqual(inline);
    for (const file of inThread) expect(file).toBe(`${JSON.stringify(JSON.parse(file), null, 2)}\n`);
    expect(Object.keys(JSON.parse(inThread[1]!).agents)).toEqual(['a_agent', 'b_agent', 'c_agent']);
    expect(JSON.parse(inThread[3]!).agents).toEqual({});
  });

  it('resends every entry after its thread died, so the next save loses no agent', async () => {
    const store = await loadedStore(tempDir(), 'worker');
    await Promise.all(['one', 'two'].map((name) => store.insert(makeRecord(name))));
    await writerThread.stop();
    await store.insert(makeRecord('three'));
    expect(Object.keys(JSON.parse(readFileSync(store.path, 'utf8')).agents)).toEqual(['one', 'three', 'two']);
  });

  it('rejects with the system error of a failed save, and is no longer synced', async () => {
    const dir = tempDir();
    const writer = new WorkerFileWriter();
    const write = (target: string, reset: boolean) =>
      writer.write({
        target,
        backupPath: `${target}.backup`,
        header: Buffer.from('{\n  "agents": {'),
        reset,
        entries: [['x', Buffer.from(',\n    "x": 1')]],
      });
    await write(path.join(dir, 'file.json'), true);
    expect(writer.synced).toBe(true);
    await expect(write(path.join(dir, 'missing', 'file.json'), true)).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(writer.synced).toBe(false);
    writer.invalidate();
    await writer.close();
    expect(readFileSync(path.join(dir, 'file.json'), 'utf8')).toBe('{\n  "agents": {\n    "x": 1\n  }\n}\n');
  });

  it('keeps a process alive while a save is under way, and lets it exit after', async () => {
    const child = spawnTs(SAVE_SCRIPT, [tempDir()]);
    const output: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect({ code, output: output.join('').trim() }).toEqual({ code: 0, output: 'saved 2' });
  });

  it('answers in order in the thread: saves, an error with its code, and a forgotten image', async () => {
    // The thread's side run in this thread (coverage does not see worker threads).
    const dir = tempDir();
    const target = path.join(dir, 'file.json');
    let listener: ((message: never) => void) | undefined;
    const answers: unknown[] = [];
    let answered: () => void = () => {};
    serveFileWrites({
      on: (_event, callback) => {
        listener = callback as never;
      },
      postMessage: (message) => {
        answers.push(message);
        answered();
      },
    });
    const write = (id: number, file: string, reset: boolean, entries: [string, Uint8Array | null][]) =>
      listener!({
        id,
        target: file,
        backupPath: `${file}.backup`,
        header: Buffer.from('{'),
        reset,
        entries,
      } as never);
    const settled = (count: number) =>
      new Promise<void>((resolve) => {
        answered = () => answers.length === count && resolve();
      });
    const done = settled(4);
    write(1, target, true, [
      ['a', Buffer.from(',"a"')],
      ['b', Buffer.from(',"b"')],
    ]);
    write(2, target, false, [
      ['a', null],
      ['c', Buffer.from(',"c"')],
    ]);
    write(3, path.join(dir, 'missing', 'file.json'), true, []);
    listener!({ id: 4, forget: target } as never);
    await done;
    expect(answers).toEqual([
      { id: 1 },
      { id: 2 },
      { id: 3, error: expect.objectContaining({ code: 'ENOENT', syscall: 'open' }) },
      { id: 4 },
    ]);
    expect(readFileSync(target, 'utf8')).toBe('{"b","c"\n  }\n}\n');
  });

  it('refuses changed entries alone on an image it does not hold, leaving the file as it was', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'file.json');
    const image = new RegistryImage();
    const write = (reset: boolean, entries: [string, Uint8Array | null][]) =>
      image.save({ target, backupPath: `${target}.backup`, header: Buffer.from('{'), reset, entries });
    // A new image (a writer thread just started) holds no file yet.
    await expect(write(false, [['a', Buffer.from(',"a"')]])).rejects.toThrow(/refusing a partial save/);
    expect(existsSync(target)).toBe(false);
    await write(true, [
      ['a', Buffer.from(',"a"')],
      ['b', Buffer.from(',"b"')],
    ]);
    await write(false, [['c', Buffer.from(',"c"')]]);
    const saved = readFileSync(target, 'utf8');
    expect(saved).toBe('{"a","b","c"\n  }\n}\n');
    // A failed save drops the image: the next partial save is refused, the file keeps every agent.
    await expect(
      image.save({
        target: path.join(dir, 'missing', 'file.json'),
        backupPath: `${target}.backup`,
        header: Buffer.from('{'),
        reset: false,
        entries: [],
      }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(write(false, [['d', Buffer.from(',"d"')]])).rejects.toThrow(/refusing a partial save/);
    expect(readFileSync(target, 'utf8')).toBe(saved);
  });

  it('takes an injected filesystem only inline', () => {
    expect(() => new FileStore({ dataDir: tempDir(), fs: realFs, writer: 'worker' })).toThrow(/inline/);
    expect(new InlineFileWriter(realFs).synced).toBe(false);
  });
});
