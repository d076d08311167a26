/**
 * A training or shadow worker run on the test's own thread: the host behind a `MessageChannel` (which clones
 * and transfers as `postMessage` to a real worker does), so coverage sees the host's code, and tests can make
 * it fail or crash on cue.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import type { SpawnWorker, WorkerData, WorkerPort } from '../../src/routing/training-worker-client.js';
import { TrainingHost } from '../../src/routing/training-worker-host.js';
import { ShadowHost } from '../../src/routing/training-worker-shadow.js';

export interface FakeWorker extends WorkerPort {
  /** Every message the main thread posted, by type. */
  readonly posted: string[];
  terminated: boolean;
  /** Dies as a thread with an uncaught error does: 'error', then 'exit'. */
  crash(error?: Error): void;
}

export interface FakeSpawn extends SpawnWorker {
  readonly workers: FakeWorker[];
  /** What each worker was started with. */
  readonly data: WorkerData[];
}

/**
 * @param intercept may answer a message itself (return true) instead of the host, e.g. to fail a build.
 */
export function inThreadSpawn(
  intercept?: (message: { type: string; version?: number }, reply: (answer: unknown) => void) => boolean,
): FakeSpawn {
  const workers: FakeWorker[] = [];
  const started: WorkerData[] = [];
  const spawn = (data: WorkerData): WorkerPort => {
    started.push(data);
    const { port1, port2 } = new MessageChannel();
    const events = new EventEmitter();
    const post = (message: unknown, transfer: ArrayBuffer[]) => port2.postMessage(message, transfer);
    const host =
      data.role === 'shadow' ? new ShadowHost(data.shadow, post) : new TrainingHost(data.settings, post);
    const worker: FakeWorker = {
      posted: [],
      terminated: false,
      postMessage(message, transfer) {
        worker.posted.push((message as { type: string }).type);
        port1.postMessage(message, transfer as ArrayBuffer[] | undefined);
      },
      on(event, listener) {
        if (event === 'message') port1.on('message', listener);
        else events.on(event, listener);
        return worker;
      },
      terminate() {
        worker.terminated = true;
        port1.close();
        port2.close();
        return Promise.resolve(1);
      },
      ref: () => port1.ref(),
      unref: () => port1.unref(),
      crash(error = new Error('worker crashed')) {
        events.emit('error', error);
        events.emit('exit', 1);
        void worker.terminate();
      },
    };
    port2.on('message', (message: { type: string }) => {
      if (intercept?.(message, (answer) => port2.postMessage(answer)) !== true) host.handle(message as never);
    });
    port2.unref();
    workers.push(worker);
    return worker;
  };
  return Object.assign(spawn, { workers, data: started });
}
