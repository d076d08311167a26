/**
 * @module test/integration/stack
 * Shared fixtures of the seed's integration scenarios: the service and Jarvis as real processes, on free
 * ports, in a temporary data directory, with every token set (so access control is exercised end to end),
 * and typed clients that send the tokens. A `Backend` says where the stores live: the embedded files
 * (SQLite) or PostgreSQL (`DATABASE_URL`); each scenario runs on every backend that is available.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { RegistryClient } from '../../src/client/registry-client.js';
import { ServiceHttpClient } from '../../src/client/service-http-client.js';
import { SessionClient } from '../../src/client/session-client.js';
import { DEFAULT_AGENT_FACTORY_ROOT } from '../../src/config.js';
import { exited, lines, spawnTs } from '../support/child-process.js';
import { freePort } from '../support/ports.js';
import { type CallOptions, type CallResult, call } from '../support/service.js';
import { type ServiceProcess, serveProcess } from '../support/service-process.js';
import { useTempDirs } from '../support/temp-dir.js';

export const TOKENS = {
  admin: 'integration-admin-token-0123',
  api: 'integration-api-token-456789',
  read: 'integration-read-token-abcdef',
} as const;

const JARVIS_MAIN = fileURLToPath(new URL('../../jarvis_agent/main-with-registry.ts', import.meta.url));
const FACTORY_ROOTS = [
  DEFAULT_AGENT_FACTORY_ROOT,
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'factories'),
].join(',');

/** Where the stores live. */
export interface Backend {
  /** `sqlite` (registry file + SQLite in DATA_DIR) or `postgresql`. */
  readonly name: 'sqlite' | 'postgresql';
  /** What `/health` calls the session store. */
  readonly sessionBackend: string;
  /** Extra environment of each new stack (a fresh `DATABASE_URL`, for PostgreSQL). */
  environment(): Promise<Record<string, string>>;
}

export const SQLITE: Backend = { name: 'sqlite', sessionBackend: 'sqlite', environment: async () => ({}) };

export interface Clients {
  registry: RegistryClient;
  sessions: SessionClient;
  admin: RegistryClient;
}

export interface Stack {
  readonly dataDir: string;
  /** The running service (after `start`). */
  readonly service: ServiceProcess;
  /** Start the service on the stack's data (again, after a stop: a restart). */
  start(): Promise<ServiceProcess>;
  /** SIGKILL (a crash) or SIGTERM the service and wait until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Jarvis as a process, on the running service; resolves to its URL. */
  startJarvis(): Promise<string>;
  /** Typed clients of the running service, each with the tokens it needs. */
  clients(): Clients;
  /** A raw call to the running service with the given token (`admin`, `api`, `read` or none). */
  call(
    method: string,
    route: string,
    token?: keyof typeof TOKENS,
    options?: CallOptions,
  ): Promise<CallResult>;
}

const tempDir = useTempDirs('integration-');
const running: ChildProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }
});

/** A new stack on `backend`: a fresh data directory (and database), nothing running yet. */
export async function newStack(backend: Backend): Promise<Stack> {
  const dataDir = tempDir();
  const env = {
    ...(await backend.environment()),
    AGENT_FACTORY_ROOTS: FACTORY_ROOTS,
    REGISTRY_ADMIN_TOKEN: TOKENS.admin,
    REGISTRY_API_TOKEN: TOKENS.api,
    REGISTRY_READ_TOKEN: TOKENS.read,
  };
  let current: ServiceProcess | undefined;
  const service = () => {
    if (current === undefined) throw new Error('the service is not running: call start() first');
    return current;
  };
  return {
    dataDir,
    get service() {
      return service();
    },
    async start() {
      current = await serveProcess(dataDir, env);
      running.push(current.child);
      return current;
    },
    async stop(signal = 'SIGKILL') {
      await current?.kill(signal);
      current = undefined;
    },
    async startJarvis() {
      const port = await freePort();
      const child = spawnTs(JARVIS_MAIN, [], {
        ...env,
        JARVIS_PORT: String(port),
        REGISTRY_URL: service().url,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      });
      running.push(child);
      await lines(child).waitFor((line) => line.includes('Jarvis listening on'));
      return `http://127.0.0.1:${port}`;
    },
    clients() {
      const base = { baseUrl: service().url, backoffBaseMs: 1 };
      const reader = new ServiceHttpClient({ ...base, apiToken: TOKENS.api, readToken: TOKENS.read });
      return {
        registry: new RegistryClient(reader),
        sessions: new SessionClient(reader),
        admin: new RegistryClient(
          new ServiceHttpClient({ ...base, adminToken: TOKENS.admin, readToken: TOKENS.read }),
        ),
      };
    },
    call(method, route, token, options = {}) {
      const headers = {
        ...options.headers,
        ...(token !== undefined && { authorization: `Bearer ${TOKENS[token]}` }),
      };
      return call(service().url, method, route, { ...options, headers });
    },
  };
}

/** A chat through Jarvis with the API token. */
export function chat(jarvisUrl: string, body: { user_id: string; message: string; session_id?: string }) {
  return call(jarvisUrl, 'POST', '/chat', { body, headers: { authorization: `Bearer ${TOKENS.api}` } });
}
