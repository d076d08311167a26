/**
 * @module bench/processes
 * Servers under benchmark run in processes of their own, as users run them: the service from `dist/` (as
 * `npm start` runs it; `prebench` builds) and the Fastify hello-world anchor. Shared by the HTTP suites.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The service's command line (compiled) and the hello-world anchor's. */
export const SERVICE_CLI = path.join(here, '..', 'dist', 'jarvis_agent', 'service-cli.js');
export const HELLO_WORLD = path.join(here, 'fixtures', 'hello-world.mjs');

/**
 * How the benchmarked service runs: no per-request log lines, and rate limits far above any load here (the
 * limiter still runs on every call, so its cost is in the figures; its 429s would not be).
 */
export const SERVICE_BENCH_ENV = {
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  RATE_LIMIT_WRITES_PER_MINUTE: '1000000000',
  RATE_LIMIT_ROUTING_PER_MINUTE: '1000000000',
} as const;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Plain `node`, no TypeScript loader: the service runs from `dist/` as `npm start` runs it (`prebench` builds). */
export function startProcess(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Poll until `url` answers, so readiness does not depend on what the server logs. */
export async function waitUntilUp(child: ChildProcess, url: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within 30 s`);
}

export async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('close', resolve));
}

export async function json(url: string, method: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    ...(body !== undefined && {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    }),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/**
 * Waits until the service's capability probes have checked the registry as it is and nothing is pending: at
 * least one run, and no new one over longer than the probes' debounce after a change (2 s). A run under way
 * (at PROBE_CPU_PERCENT of the event loop) would take its share from the loads timed next, and its findings
 * change the agent list's ETag.
 */
export async function waitForProbes(base: string): Promise<void> {
  const runs = async () =>
    ((await json(`${base}/health`, 'GET')) as { probes?: { runs: number } }).probes?.runs ?? 0;
  let last = await runs();
  for (let attempt = 0; attempt < 30; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const now = await runs();
    if (now > 0 && now === last) return;
    last = now;
  }
  throw new Error('the capability probes did not settle within 75 s');
}
