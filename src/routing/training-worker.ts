/**
 * @module routing/training-worker
 * The entry of a training worker thread. Kept to the wiring: the logic is in modules tests run in-thread
 * (`training-worker-host` for the live router's builds, `training-worker-shadow` for replay shadow routers).
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { WORKER_NICE } from './index-settings.js';
import type { WorkerData } from './training-worker-client.js';

// On Linux the priority belongs to this thread alone (see WORKER_NICE). It starts as the event loop's, and
// only lowering it needs no privilege.
if (process.platform === 'linux') os.setPriority(0, Math.min(19, os.getPriority(0) + WORKER_NICE));
const port = parentPort!;
const data = workerData as WorkerData;
const post = (message: unknown, transfer: ArrayBuffer[]) => port.postMessage(message, transfer);
const host =
  data.role === 'shadow'
    ? new (await import('./training-worker-shadow.js')).ShadowHost(data.shadow, post)
    : new (await import('./training-worker-host.js')).TrainingHost(data.settings, post);
port.on('message', (message) => host.handle(message as never));
