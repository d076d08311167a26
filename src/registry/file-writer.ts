/**
 * @module registry/file-writer
 * The registry file's saves, run in a worker thread.
 *
 * A save is about ten filesystem calls (temp file, write, fsync, backup link, rename, directory fsync), each a
 * round trip through libuv's thread pool whose completion then waits for the event loop. In a busy service
 * the event loop answers those completions late: at 2,000 agents a save took 16–19 ms there against the
 * 8–10 ms the disk needs, and the saves were what every registration waited for. A worker thread's event loop
 * has nothing else to do, so it chains the same calls (`replaceFileDurably`, unchanged) at the disk's pace.
 *
 * The worker keeps its own image of the file, one part per agent, so a save sends only the entries it
 * changes. A writer is `synced` while its image is the file its last save wrote; after a failed save, a new
 * worker or a change to the file made elsewhere (`invalidate`), the next save sends every entry (`reset`).
 */
import { Worker } from 'node:worker_threads';
import { systemErrorCode } from '../errors.js';
import { lowerBound } from '../sorted.js';
import { workerEntry } from '../worker-entry.js';
import { type DurableFs, type FileBytes, realFs, replaceFileDurably } from './durable-file.js';

const CLOSE_AGENTS = Buffer.from('\n  }\n}\n');
const CLOSE_EMPTY_AGENTS = Buffer.from('}\n}\n');

/**
 * The file's parts in order: `header`, then each entry's bytes (each starts with the comma that separates it
 * from the entry before; the first is written without it, as a view), then the closing braces.
 */
export function registryFileParts(header: Uint8Array, entries: Iterable<Uint8Array>): Uint8Array[] {
  const parts: Uint8Array[] = [header];
  for (const bytes of entries) parts.push(parts.length > 1 ? bytes : bytes.subarray(1));
  parts.push(parts.length > 1 ? CLOSE_AGENTS : CLOSE_EMPTY_AGENTS);
  return parts;
}

/** One save: the file's header, and the entries that changed (null: removed) or, with `reset`, all of them. */
export interface FileWrite {
  target: string;
  backupPath: string;
  header: Uint8Array;
  reset: boolean;
  entries: [name: string, bytes: Uint8Array | null][];
}

type ToWriter = (FileWrite & { id: number }) | { id: number; forget: string };
type FromWriter = { id: number; error?: { message: string; code?: string; syscall?: string; path?: string } };

/** Where a file write goes: the worker in the service, the calling thread where tests inject filesystem faults. */
export interface FileWriter {
  /** The image is the file the last save wrote: a save may send only the entries it changes. */
  readonly synced: boolean;
  write(request: FileWrite): Promise<void>;
  /** The file was changed by something else: the next save must be a `reset`. */
  invalidate(): void;
  close(): Promise<void>;
}

/**
 * The registry file as the last save left it, by agent name in file order. Used by the worker; in-thread
 * by tests.
 */
export class RegistryImage {
  private entries = new Map<string, Uint8Array>();
  private names: string[] = [];
  /** The image is the file as last saved: only then can changed entries alone make the next file. */
  private held = false;

  constructor(private readonly fs: DurableFs = realFs) {}

  /**
   * Apply `request` to the image and save it. A new image, or one whose save failed, takes only a `reset`:
   * changed entries applied to it would write a file without the other agents.
   */
  async save(request: FileWrite): Promise<void> {
    if (request.reset) {
      this.entries = new Map();
      this.names = [];
    } else if (!this.held) {
      throw new Error(
        `the registry file writer does not hold ${request.target} as saved; refusing a partial save`,
      );
    }
    this.held = false;
    try {
      for (const [name, bytes] of request.entries) this.set(name, bytes);
      const parts: FileBytes = registryFileParts(
        request.header,
        this.names.map((name) => this.entries.get(name)!),
      );
      await replaceFileDurably(this.fs, request.target, parts, { backupPath: request.backupPath });
      this.held = true;
    } catch (error) {
      this.entries = new Map();
      this.names = [];
      throw error;
    }
  }

  private set(name: string, bytes: Uint8Array | null): void {
    const at = lowerBound(this.names, name);
    const present = this.names[at] === name;
    if (bytes === null) {
      if (present) this.names.splice(at, 1);
      this.entries.delete(name);
      return;
    }
    if (!present) this.names.splice(at, 0, name);
    this.entries.set(name, bytes);
  }
}

/** The worker side: one image per registry file, each request answered once its save is done, in order. */
export function serveFileWrites(port: {
  on(event: 'message', listener: (message: ToWriter) => void): void;
  postMessage(message: FromWriter): void;
}): void {
  const images = new Map<string, RegistryImage>();
  let last = Promise.resolve();
  port.on('message', (request) => {
    last = last.then(async () => {
      if ('forget' in request) {
        images.delete(request.forget);
        port.postMessage({ id: request.id });
        return;
      }
      const image = images.get(request.target) ?? new RegistryImage();
      images.set(request.target, image);
      try {
        await image.save(request);
        port.postMessage({ id: request.id });
      } catch (caught) {
        const error = caught as NodeJS.ErrnoException;
        const code = systemErrorCode(error);
        port.postMessage({
          id: request.id,
          error: {
            message: error.message,
            ...(code !== undefined && { code }),
            ...(error.syscall !== undefined && { syscall: error.syscall }),
            ...(error.path !== undefined && { path: error.path }),
          },
        });
      }
    });
  });
}

/**
 * The one writer thread of this process, shared by its file stores (a CLI command or a test opens several):
 * started at the first save, holding the process open only while a save is under way. `generation` changes
 * whenever a thread starts or ends: a writer synced with an earlier one must resend its whole file.
 */
class WriterThread {
  generation = 0;
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();

  send(message: FileWrite | { forget: string }, transfer: ArrayBuffer[] = []): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  private start(): Worker {
    const { entry, eval: evaluate } = workerEntry('./file-writer-worker', import.meta.url);
    const worker = new Worker(entry, { eval: evaluate });
    this.generation++;
    worker.unref();
    worker.on('message', ({ id, error }: FromWriter) => {
      const waiter = this.waiting.get(id);
      this.waiting.delete(id);
      if (this.waiting.size === 0) worker.unref();
      if (error === undefined) waiter?.resolve();
      else waiter?.reject(Object.assign(new Error(error.message), error));
    });
    const fail = (error: Error) => this.retire(worker, error);
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the registry file writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** Drop the image of `target` (its store closed); nothing to do when no thread runs. */
  async forget(target: string): Promise<void> {
    if (this.worker !== undefined) await this.send({ forget: target }).catch(() => {});
  }

  /** Stop the thread (tests); saves under way fail, the next save starts a new one. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.retire(worker, new Error('the registry file writer thread was stopped'));
    await worker.terminate();
  }

  /** A thread that died takes its images with it: a new generation, whose first save of each file resends it. */
  private retire(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.generation++;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

export const writerThread = new WriterThread();

/** Saves of one registry file through the process's writer thread. */
export class WorkerFileWriter implements FileWriter {
  /** The thread generation whose image is the file as last saved; undefined while none is. */
  private syncedWith: number | undefined;
  private target: string | undefined;

  constructor(private readonly thread: WriterThread = writerThread) {}

  get synced(): boolean {
    return this.syncedWith !== undefined && this.syncedWith === this.thread.generation;
  }

  async write(request: FileWrite): Promise<void> {
    this.syncedWith = undefined;
    this.target = request.target;
    // Copies the thread owns: the entries are the store's cached bytes, which a transfer would detach.
    const entries = request.entries.map(([name, bytes]): [string, Uint8Array | null] => [
      name,
      bytes === null ? null : new Uint8Array(bytes),
    ]);
    const transfer = entries.flatMap(([, bytes]) => (bytes === null ? [] : [bytes.buffer as ArrayBuffer]));
    const sent = this.thread.send({ ...request, entries }, transfer);
    const generation = this.thread.generation;
    await sent;
    this.syncedWith = generation;
  }

  invalidate(): void {
    this.syncedWith = undefined;
  }

  async close(): Promise<void> {
    this.syncedWith = undefined;
    if (this.target !== undefined) await this.thread.forget(this.target);
  }
}

/** Saves on the calling thread, through `fs` (where tests inject faults). */
export class InlineFileWriter implements FileWriter {
  synced = false;
  private readonly image: RegistryImage;

  constructor(fs: DurableFs) {
    this.image = new RegistryImage(fs);
  }

  async write(request: FileWrite): Promise<void> {
    this.synced = false;
    await this.image.save(request);
    this.synced = true;
  }

  invalidate(): void {
    this.synced = false;
  }

  async close(): Promise<void> {
    this.synced = false;
  }
}
