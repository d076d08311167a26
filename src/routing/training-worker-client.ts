/**
 * @module routing/training-worker-client
 * The main thread's side of the training worker threads (node:worker_threads): builds of the live router run
 * in a worker, so the event loop only streams the agents' documents to it and adopts finished models.
 *
 * - **Mirror.** The worker keeps a copy of every agent's documents. Each change marks the agent; the marked
 *   agents are packed into typed arrays and transferred in batches of bounded size, one batch per turn of the
 *   event loop, so even the first sync of 10,000 agents never holds the loop for more than a millisecond or two.
 * - **Builds.** Once the worker has every change, a build is requested; messages are ordered, so it covers
 *   exactly the registry as it was then. At most one build runs: changes that arrive meanwhile are streamed
 *   and covered by the next build, requested as soon as this one is adopted (one running, one pending; a
 *   burst of registrations never queues builds, and a build is never thrown away half done, so a registry
 *   that keeps changing still gets trained models at the pace of one build).
 * - **Pacing.** A build that follows another one at once (the registry kept changing) waits `restRatio`
 *   times the last build's duration after its adoption (at most `maxRestMs`) before it starts. The worker's
 *   core is shared, on a small machine, with the event loop and the database that take the very
 *   registrations the build would soon make stale: during a burst training takes about
 *   1 / (1 + restRatio) of a core, and a change after a quiet spell is trained at once. Until then a changed
 *   agent is routed by its untrained scorer, as during any build.
 * - **Failures.** A build that throws, or a worker that dies, leaves the last model in place; the error is
 *   reported, and the next change retries (with a new worker, brought up to date from scratch).
 * - **Lifetime.** Workers are `unref`'d: they never keep a process alive, except while someone awaits
 *   `whenIdle()`; `stop()` terminates them.
 *
 * `ShadowWorker` runs one shadow router in its own worker, for what-if replays.
 */
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../worker-entry.js';
import type { BuildItem, BuildSettings, BuiltModel } from './model-build.js';
import { builtFromTransfer } from './model-build.js';
import type { RoutableAgent } from './routable-agent.js';
import { type FromTrainingWorker, packAgents, type ToTrainingWorker } from './training-worker-host.js';
import type {
  FromShadowWorker,
  ShadowChange,
  ShadowOptions,
  ToShadowWorker,
} from './training-worker-shadow.js';

export type WorkerData =
  | { readonly role: 'training'; readonly settings: BuildSettings }
  | { readonly role: 'shadow'; readonly shadow: ShadowOptions };

/** The slice of `Worker` used here: tests substitute an in-thread one. */
export interface WorkerPort {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  /** 'message' (a message), 'error' (an uncaught Error) or 'exit' (the exit code). */
  // biome-ignore lint/suspicious/noExplicitAny: each event has its own argument type, as on `Worker`.
  on(event: 'message' | 'error' | 'exit', listener: (value: any) => void): unknown;
  terminate(): Promise<number> | undefined;
  ref(): void;
  unref(): void;
}

export type SpawnWorker = (data: WorkerData) => WorkerPort;

/** How to start the training worker (see `workerEntry`); `from` defaults to this module. */
export function trainingWorkerEntry(from: string = import.meta.url): { entry: URL | string; eval: boolean } {
  return workerEntry('./training-worker', from);
}

export const spawnWorker: SpawnWorker = (data) => {
  const { entry, eval: evaluate } = trainingWorkerEntry();
  return new Worker(entry, { workerData: data, eval: evaluate });
};

/** What the worker trainer needs of the index it trains. */
export interface WorkerTrainerSource {
  /** The agent as a build should see it now, or undefined once removed. */
  item(name: string): BuildItem | undefined;
  /** Every agent's name, to bring a new worker up to date. */
  names(): Iterable<string>;
  /** Whether the registry changed since the last build started. */
  due(): boolean;
  /** Starts a build when the registry changed since the last one started: the version it covers. */
  startBuild(): number | undefined;
  /** A finished build of registry version `version`. */
  adopt(built: BuiltModel, version: number, startedAt: number): void;
}

export interface WorkerTrainerOptions {
  readonly settings: BuildSettings;
  readonly onError: (error: unknown) => void;
  readonly spawn?: SpawnWorker;
  /** Features packed per batch at most (bounds the time one turn of the event loop spends packing). */
  readonly batchFeatures?: number;
  /** Rest after a build, as a multiple of its duration, before the next one starts (0: none). */
  readonly restRatio?: number;
  /** The longest rest. */
  readonly maxRestMs?: number;
}

/** About a millisecond of packing and transfer (measured: 116,000 features took 6-10 ms on a loaded core). */
const BATCH_FEATURES = 20_000;

export class WorkerTrainer {
  private worker: WorkerPort | undefined;
  /** Agents changed since the worker last heard of them. */
  private readonly outbox = new Set<string>();
  private inFlight: { version: number; startedAt: number } | undefined;
  private scheduled = false;
  /** No build starts before this time (`performance.now()`): the rest after the last one. */
  private restUntil = 0;
  private restTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly spawn: SpawnWorker;
  /** The longest the event loop spent on training in one go (packing a batch, adopting a model). */
  longestSliceMs = 0;

  constructor(
    private readonly source: WorkerTrainerSource,
    private readonly options: WorkerTrainerOptions,
  ) {
    this.spawn = options.spawn ?? spawnWorker;
  }

  /** True while a build is under way in the worker. */
  get running(): boolean {
    return this.inFlight !== undefined;
  }

  get busy(): boolean {
    return this.scheduled || this.inFlight !== undefined;
  }

  /** Call after every change of agent `name`. */
  wake(name: string): void {
    this.outbox.add(name);
    this.schedule();
  }

  /** Resolves once no build is running or due (at once when idle); keeps the process alive meanwhile. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    this.worker?.ref();
    this.restTimer?.ref();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Terminates the worker for good (a build under way is dropped); waiters are released. */
  stop(): void {
    this.stopped = true;
    if (this.restTimer !== undefined) clearTimeout(this.restTimer);
    this.restTimer = undefined;
    void this.worker?.terminate();
    this.worker = undefined;
    this.inFlight = undefined;
    this.outbox.clear();
    this.scheduled = false;
    this.settle();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.tick);
  }

  private readonly tick = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    const start = performance.now();
    try {
      const worker = this.worker;
      if (worker === undefined) {
        // No thread until a build is due (a router trained only by `trainNow` never starts one). Starting
        // one costs a few milliseconds of its own: the first batch waits for the next turn.
        if (this.source.due()) {
          this.start();
          this.schedule();
        }
        return;
      }
      if (this.outbox.size > 0) this.flush(worker);
      if (this.outbox.size > 0) this.schedule();
      else if (this.inFlight === undefined && this.source.due() && performance.now() < this.restUntil) {
        this.rest();
      } else if (this.inFlight === undefined) {
        const version = this.source.startBuild();
        if (version !== undefined) {
          this.inFlight = { version, startedAt: performance.now() };
          worker.postMessage({ type: 'build', version } satisfies ToTrainingWorker);
        }
      }
    } catch (error) {
      this.options.onError(error);
    } finally {
      this.measure(start);
      this.settle();
    }
  };

  /** Waits out the rest after the last build; `busy` meanwhile, since a build is due. */
  private rest(): void {
    this.scheduled = true;
    this.restTimer = setTimeout(
      () => {
        this.restTimer = undefined;
        this.scheduled = false;
        this.schedule();
      },
      Math.max(1, this.restUntil - performance.now()),
    );
    if (this.waiters.length === 0) this.restTimer.unref();
  }

  private start(): void {
    const worker = this.spawn({ role: 'training', settings: this.options.settings });
    worker.on('message', (message: FromTrainingWorker) => this.receive(worker, message));
    worker.on('error', (error: Error) => this.lost(worker, error));
    worker.on('exit', (code: number) =>
      this.lost(worker, new Error(`the training worker exited (code ${code})`)),
    );
    if (this.waiters.length > 0) worker.ref();
    else worker.unref();
    this.worker = worker;
    // A new worker knows nothing yet.
    for (const name of this.source.names()) this.outbox.add(name);
  }

  /** Sends the next batch of changed agents. */
  private flush(worker: WorkerPort): void {
    const limit = this.options.batchFeatures ?? BATCH_FEATURES;
    const items: BuildItem[] = [];
    const removed: string[] = [];
    let features = 0;
    for (const name of this.outbox) {
      this.outbox.delete(name);
      const item = this.source.item(name);
      if (item === undefined) removed.push(name);
      else {
        items.push(item);
        for (const terms of item.terms) features += terms.ids.length;
      }
      if (features >= limit) break;
    }
    const { agents, transfer } = packAgents(items);
    worker.postMessage({ type: 'changes', agents, removed } satisfies ToTrainingWorker, transfer);
  }

  private receive(worker: WorkerPort, message: FromTrainingWorker): void {
    if (worker !== this.worker) return;
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    const start = performance.now();
    if (message.type === 'built') {
      this.source.adopt(builtFromTransfer(message.built), message.version, inFlight?.startedAt ?? start);
      this.measure(start);
      const took = performance.now() - (inFlight?.startedAt ?? start);
      const rest = Math.min(this.options.maxRestMs ?? 0, (this.options.restRatio ?? 0) * took);
      this.restUntil = performance.now() + rest;
    } else {
      this.options.onError(new Error(`router training failed in the worker: ${message.message}`));
    }
    // Changes that arrived meanwhile are due now (after a failure too: they are the next change).
    this.schedule();
    this.settle();
  }

  /** The worker died: keep the last model, report, and start afresh on the next change. */
  private lost(worker: WorkerPort, error: Error): void {
    if (worker !== this.worker || this.stopped) return;
    this.worker = undefined;
    this.inFlight = undefined;
    void worker.terminate();
    this.options.onError(error);
    // Changes that arrived since the lost build started retry now, on a new worker.
    this.schedule();
    this.settle();
  }

  private measure(start: number): void {
    this.longestSliceMs = Math.max(this.longestSliceMs, performance.now() - start);
  }

  private settle(): void {
    if (this.busy && !this.stopped) return;
    this.worker?.unref();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Agents sent to a shadow worker per message, and queries per routing batch. */
const SHADOW_AGENTS = 200;
const SHADOW_QUERIES = 500;

/**
 * One shadow router in its own worker thread: given the registry's agents and a change, it trains there and
 * routes there; the event loop only sends agents and queries in small batches and receives the selections.
 */
export class ShadowWorker {
  private readonly worker: WorkerPort;
  private failure: Error | undefined;
  private readonly pending = new Map<
    number,
    { resolve: (v: string[][]) => void; reject: (e: Error) => void }
  >();
  private trained: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private nextId = 0;
  /** Calls under way: the worker keeps the process alive only while there are some. */
  private holds = 0;

  private constructor(options: ShadowOptions, spawn: SpawnWorker) {
    this.worker = spawn({ role: 'shadow', shadow: options });
    this.worker.unref();
    this.worker.on('message', (message: FromShadowWorker) => this.receive(message));
    this.worker.on('error', (error: Error) => this.fail(error));
    this.worker.on('exit', (code: number) =>
      this.fail(new Error(`the shadow router's worker exited (code ${code})`)),
    );
  }

  /** Starts a shadow router of `agents` with `change` applied; resolves once it is trained. */
  static async open(
    agents: readonly RoutableAgent[],
    change: ShadowChange | null,
    options: ShadowOptions = {},
    spawn: SpawnWorker = spawnWorker,
  ): Promise<ShadowWorker> {
    const shadow = new ShadowWorker(options, spawn);
    shadow.hold(1);
    try {
      const trained = new Promise<void>((resolve, reject) => {
        shadow.trained = { resolve, reject };
      });
      // It may fail before it is awaited (while the agents are still being sent).
      trained.catch(() => {});
      for (let i = 0; i < agents.length; i += SHADOW_AGENTS) {
        shadow.post({ type: 'agents', agents: agents.slice(i, i + SHADOW_AGENTS) });
        // Structured cloning of the agents runs on this thread: a turn of the event loop between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      shadow.post({ type: 'train', change });
      await trained;
      return shadow;
    } catch (error) {
      shadow.close();
      throw error;
    } finally {
      shadow.hold(-1);
    }
  }

  /** Each query's selection, in order. */
  async route(queries: readonly string[]): Promise<string[][]> {
    if (this.failure !== undefined) throw this.failure;
    this.hold(1);
    try {
      return await this.routeBatches(queries);
    } finally {
      this.hold(-1);
    }
  }

  private async routeBatches(queries: readonly string[]): Promise<string[][]> {
    const batches: Promise<string[][]>[] = [];
    for (let i = 0; i < queries.length; i += SHADOW_QUERIES) {
      const id = this.nextId++;
      batches.push(
        new Promise((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
        }),
      );
      this.post({ type: 'route', id, queries: queries.slice(i, i + SHADOW_QUERIES) });
    }
    return (await Promise.all(batches)).flat();
  }

  close(): void {
    this.fail(new Error('the shadow router was closed'));
    void this.worker.terminate();
  }

  private hold(delta: number): void {
    this.holds += delta;
    if (this.holds > 0) this.worker.ref();
    else this.worker.unref();
  }

  private post(message: ToShadowWorker): void {
    if (this.failure !== undefined) throw this.failure;
    this.worker.postMessage(message);
  }

  private receive(message: FromShadowWorker): void {
    if (message.type === 'trained') this.trained?.resolve();
    else if (message.type === 'routed') {
      this.pending.get(message.id)?.resolve(message.selected);
      this.pending.delete(message.id);
    } else this.fail(new Error(`the shadow router failed: ${message.message}`));
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.trained?.reject(error);
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
