/**
 * @module test/support/service
 * The real service (composition root, real stores, real HTTP) on an ephemeral port in a temp data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { demoServiceOptions } from '../../jarvis_agent/demo-service.js';
import { DEFAULT_AGENT_FACTORY_ROOT, loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { createService, type Service, type ServiceOptions } from '../../src/main.js';

export const TEST_FACTORY_ROOT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'factories',
);

export interface RunningService {
  url: string;
  dataDir: string;
  service: Service;
  stop(): Promise<void>;
  /** fetch against the service, JSON in and out. */
  call(method: string, route: string, options?: CallOptions): Promise<CallResult>;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send this raw text instead of JSON. */
  raw?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  body: any;
}

const running: RunningService[] = [];
afterEach(async () => {
  for (const service of running.splice(0)) await service.stop();
});

/**
 * Start the service as `npm start` does (the demo agents on first start, the offline model); `env` overrides
 * configuration, `options` the service options. Stopped (and its data dir removed) after each test.
 */
export async function startService(
  env: Record<string, string> = {},
  dataDir?: string,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const handle = await launchService(env, dataDir, options);
  running.push(handle);
  return handle;
}

/** Start the service as `startService` does, for a whole suite: the caller stops it. */
export async function launchService(
  env: Record<string, string> = {},
  dataDir?: string,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'service-test-'));
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: dir,
    AGENT_FACTORY_ROOTS: [DEFAULT_AGENT_FACTORY_ROOT, TEST_FACTORY_ROOT].join(','),
    SESSION_CLEANUP_INTERVAL_MINUTES: '0',
    ...env,
  });
  const service = await createService(config, {
    logger: silentLogger(),
    ...demoServiceOptions(),
    ...options,
  });
  const url = await service.start();
  // The router learns the registry in the background; tests start from the trained model, as a service
  // does a moment after start-up.
  await service.router.whenTrained();
  let stopped = false;
  const handle: RunningService = {
    url,
    dataDir: dir,
    service,
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.stop();
      if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
    call: (method, route, options = {}) => call(url, method, route, options),
  };
  return handle;
}

export async function call(
  base: string,
  method: string,
  route: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${base}${route}`, { method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed };
}
