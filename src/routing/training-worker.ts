/**
 * @module routing/training-worker
 * The entry of a training worker thread. Kept to the wiring: the logic is in modules tests run in-thread
 * (`training-worker-host` for the live router's builds, `training-worker-shadow` for replay shadow routers).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerData } from './training-worker-client.js';

const port = parentPort!;
const data = workerData as WorkerData;
const post = (message: unknown, transfer: ArrayBuffer[]) => port.postMessage(message, transfer);
const host =
  data.role === 'shadow'
    ? new (await import('./training-worker-shadow.js')).ShadowHost(data.shadow, post)
    : new (await import('./training-worker-host.js')).TrainingHost(data.settings, post);
port.on('message', (message) => host.handle(message as never));
