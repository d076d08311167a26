/**
 * @module registry/file-writer-worker
 * The entry of the registry file writer thread (see `file-writer`); kept to the wiring.
 */
import { parentPort } from 'node:worker_threads';
import { serveFileWrites } from './file-writer.js';

serveFileWrites(parentPort as never);
