/**
 * @module bench/registry
 * The registry store through the real service (HTTP, factory, router included), on both backends:
 * registrations per second with 8 in flight as the registry grows to 10,000 agents, `PUT …/capabilities`
 * latency next to a raw fsync'd write of the same file, and (PostgreSQL) how fast a change made through one
 * replica reaches another. Each figure sits next to its baseline, measured in the same run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { AgentRecord } from '../src/registry/agent-record.js';
import { FileStore } from '../src/registry/file-store.js';
import { type BenchSuite, measureInterleaved, ms, type Report, ratio, stats } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const IN_FLIGHT = 8;
const TARGET = Number(process.env.BENCH_REGISTRY_AGENTS ?? 10_000);
const CHUNK = 500;

function registration(i: number) {
  return {
    agent_type: 'generic',
    factory_module: 'jarvis_agent.mcp_agents.agent_factory',
    factory_function: 'create_generic_agent',
    factory_params: {
      name: `agent_${i}`,
      description: `Handles requests of kind ${i} about topic ${i % 31}`,
    },
    capabilities: {
      domains: [`domain_${i % 17}`],
      examples: Array.from(
        { length: 10 },
        (_, k) => `example query ${k} for agent ${i} about topic ${i % 31}`,
      ),
    },
    tags: ['bench', `group-${i % 7}`],
  };
}

async function send(url: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}${route}`, {
    method,
    ...(body !== undefined && {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 200)}`);
  return text === '' ? undefined : JSON.parse(text);
}

interface Backend {
  name: string;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

async function fileBackend(): Promise<Backend> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-registry-'));
  return { name: 'file', env: { DATA_DIR: dir }, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** A fresh database on the bench server, or undefined (with a note) when there is none. */
async function postgresBackend(report: Report): Promise<Backend | undefined> {
  const name = `bench_registry_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    report.text(
      `PostgreSQL at ${ADMIN_URL} is not reachable (${(error as Error).message}): its rows are missing.`,
    );
    await admin.end().catch(() => {});
    return undefined;
  }
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name: 'postgresql',
    env: {
      DATABASE_URL: url.toString(),
      DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'bench-registry-pg-')),
    },
    async dispose() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") "; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux architecture Node.js runs on. */
const CLOCK_TICKS = 100;

interface Chunk {
  from: number;
  perSecond: number;
  perSave: number | undefined;
  /** The service's CPU time per registration (ms): what a registration costs whatever else the box does. */
  cpuMs: number | undefined;
}

/**
 * Registrations with `IN_FLIGHT` clients, in chunks of 500, up to `TARGET` agents. The service runs in its
 * own process, as users run it, so the clients' own HTTP work does not share its event loop.
 */
async function registrationRun(backend: Backend) {
  // One client host loading thousands of agents a minute: the per-client write limit would throttle it.
  const { child, url } = await startReplica({ ...backend.env, RATE_LIMIT_WRITES_PER_MINUTE: '0' });
  const chunks: Chunk[] = [];
  const saves = async () =>
    ((await send(url, 'GET', '/health')) as { stores: { registry: { saves?: number } } }).stores.registry
      .saves;
  try {
    let next = 0;
    for (let from = 0; from < TARGET; from += CHUNK) {
      const savesBefore = await saves();
      const cpuBefore = await cpuSeconds(child.pid);
      const started = performance.now();
      const end = from + CHUNK;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let i = next++; i < end; i = next++)
            await send(url, 'POST', '/registry/agents', registration(i));
        }),
      );
      next = end;
      const seconds = (performance.now() - started) / 1000;
      const cpuAfter = await cpuSeconds(child.pid);
      const savesAfter = await saves();
      chunks.push({
        from,
        perSecond: CHUNK / seconds,
        perSave:
          savesBefore === undefined || savesAfter === undefined
            ? undefined
            : CHUNK / (savesAfter - savesBefore),
        cpuMs:
          cpuBefore === undefined || cpuAfter === undefined
            ? undefined
            : ((cpuAfter - cpuBefore) * 1000) / CHUNK,
      });
    }
    // PUT capabilities at this size, next to a raw fsync'd write of as many bytes as the registry file.
    const file = path.join(backend.env.DATA_DIR!, 'raw-write.json');
    const registryFile = path.join(backend.env.DATA_DIR!, 'registry_config.json');
    const bytes =
      backend.name === 'file'
        ? await readFile(registryFile)
        : Buffer.from(JSON.stringify(await send(url, 'GET', '/registry/agents'), null, 2));
    let toggle = 0;
    const latency = await measureInterleaved(
      {
        put: () =>
          send(url, 'PUT', '/registry/agents/agent_7/capabilities', {
            capabilities: { examples: [`changed ${toggle++}`, 'second example'] },
          }),
        raw: () => rawWrite(file, bytes),
      },
      { iterations: 60, warmup: 5 },
    );
    return { chunks, latency, fileBytes: bytes.length };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('close', resolve));
  }
}

async function rawWrite(file: string, bytes: Buffer): Promise<void> {
  const handle = await open(file, 'w');
  await handle.write(bytes, 0, bytes.length, 0);
  await handle.sync();
  await handle.close();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A replica as users run it: `node dist/jarvis_agent/service-cli.js serve` (`prebench` builds), ready once /health answers. */
async function startReplica(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(here, '..', 'dist', 'jarvis_agent', 'service-cli.js'), 'serve'],
    {
      env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`replica exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

/**
 * How long after replica A acknowledged a change replica B's change feed hands it out: B long-polls
 * `/registry/changes`, A is told to change an agent; the delay is from A's answer to B's.
 */
async function propagation(backend: Backend, samples: number) {
  const a = await startReplica(backend.env);
  const b = await startReplica({ ...backend.env, DATA_DIR: `${backend.env.DATA_DIR}-b` });
  try {
    const delays: number[] = [];
    let revision = ((await send(b.url, 'GET', '/registry/changes')) as { revision: number }).revision;
    for (let i = 0; i < samples; i++) {
      const polled = send(b.url, 'GET', `/registry/changes?since=${revision}&wait=30`);
      await new Promise((resolve) => setImmediate(resolve));
      const changed = send(a.url, 'PATCH', '/registry/agents/tickets_agent/status', {
        enabled: i % 2 === 1,
      }).then(() => performance.now());
      const [ackedAt, seen] = await Promise.all([
        changed,
        polled.then((body) => ({ body, at: performance.now() })),
      ]);
      const page = seen.body as { revision: number; changes: unknown[] };
      revision = page.revision;
      if (page.changes.length > 0) delays.push(Math.max(0, seen.at - ackedAt));
    }
    return stats(delays);
  } finally {
    for (const replica of [a, b]) {
      replica.child.kill('SIGTERM');
      await new Promise((resolve) => replica.child.once('close', resolve));
    }
  }
}

/**
 * The seed's "save < 100 ms": one change to a 100-agent registry on the file store (judge, serialize, temp
 * file, fsync, backup link, rename, directory fsync), next to a raw fsync'd write of the same file's bytes.
 */
async function saveAt100(report: Report) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-registry-save-'));
  const store = new FileStore({ dataDir: dir });
  await store.open();
  await store.load();
  const records = Array.from({ length: 100 }, (_, i) => agentRecord(i));
  const versions = new Map<string, number>();
  for (const change of await Promise.all(records.map((record) => store.insert(record)))) {
    versions.set(change.agent_name, change.version);
  }
  const bytes = await readFile(store.path);
  const rawFile = path.join(dir, 'raw.json');
  const measured = await measureInterleaved(
    {
      save: async (i) => {
        const record = { ...records[i % 100]!, tags: ['bench', `round-${i}`] };
        const change = await store.update(record, versions.get(record.name)!);
        versions.set(record.name, change.version);
      },
      raw: () => rawWrite(rawFile, bytes),
    },
    { iterations: 300 },
  );
  await store.close();
  await rm(dir, { recursive: true, force: true });
  const save = measured.save!;
  const raw = measured.raw!;
  report.section("Registry: one change to a 100-agent registry file (the seed's save scenario)");
  report.text(
    `FileStore.update of one record, sequential (no coalescing), ${(bytes.length / 1024).toFixed(0)} KiB file, ` +
      'interleaved with a raw write (open, write, fsync, close) of the same bytes.',
  );
  report.table(
    ['save median', 'save p99', 'raw median', 'raw p99', 'save/raw'],
    [[ms(save.median), ms(save.p99), ms(raw.median), ms(raw.p99), ratio(save.median, raw.median)]],
  );
  report.scenario('save', {
    median: save.median,
    p99: save.p99,
    how: 'FileStore.update of one record in a 100-agent registry (temp file, fsync, backup link, rename, directory fsync)',
    anchor: { name: 'raw fsync’d write of the same bytes', median: raw.median, p99: raw.p99 },
  });
}

function agentRecord(i: number): AgentRecord {
  const at = '2026-11-23T00:00:00.000Z';
  const { factory_params, capabilities, tags, ...rest } = registration(i);
  return {
    ...rest,
    name: `agent_${i}`,
    description: factory_params.description,
    factory_params,
    capabilities,
    tags,
    enabled: true,
    registered_at: at,
    updated_at: at,
  };
}

const RANGES = [0, 500, 1500, 4500, 9500];
const label = (from: number) => `${from.toLocaleString('en-US')}–${(from + CHUNK).toLocaleString('en-US')}`;

export const suite: BenchSuite = {
  name: 'registry',
  async run(report) {
    await saveAt100(report);
    report.section('Registry: registrations through the API as the registry grows (8 in flight)');
    report.text(
      '`agent-registry serve` in its own process, as users run it (HTTP, factory import, router learning in the ' +
        `background), fresh store; ${IN_FLIGHT} clients in the bench process registering generic agents with 10 ` +
        `example queries each up to ${TARGET.toLocaleString('en-US')} agents, timed per 500. "per save" is ` +
        'registrations per durable whole-file write on the file backend (group commit); "service CPU" is the ' +
        "service process's user + system time per registration (from /proc), which other load on the box does " +
        'not inflate the way it inflates wall time. Targets: file ≥ 500/s at 1,500–2,000 (≥ 2 per save); ' +
        'PostgreSQL at 9,500–10,000 ≥ 80% of 0–500.',
    );
    const results: Record<string, unknown> = {};
    const rows: (string | number)[][] = [];
    const latencyRows: (string | number)[][] = [];
    const backends = [await fileBackend(), await postgresBackend(report)].filter(
      (b): b is Backend => b !== undefined,
    );
    for (const backend of backends) {
      try {
        const run = await registrationRun(backend);
        results[backend.name] = run;
        const first = run.chunks[0]!.perSecond;
        for (const from of RANGES.filter((from) => from < TARGET)) {
          const chunk = run.chunks.find((c) => c.from === from)!;
          rows.push([
            backend.name,
            label(from),
            chunk.perSecond.toFixed(0),
            chunk.perSave === undefined ? '—' : chunk.perSave.toFixed(1),
            chunk.cpuMs === undefined ? '—' : chunk.cpuMs.toFixed(2),
            `${((chunk.perSecond / first) * 100).toFixed(0)}%`,
          ]);
        }
        latencyRows.push([
          backend.name,
          `${(run.fileBytes / 2 ** 20).toFixed(1)} MiB`,
          ms(run.latency.put!.median),
          ms(run.latency.put!.p99),
          ms(run.latency.raw!.median),
          ratio(run.latency.put!.median, run.latency.raw!.median),
        ]);
      } finally {
        if (backend.name === 'file') await backend.dispose();
      }
    }
    report.table(
      ['backend', 'agents', 'registrations/s', 'per save', 'service CPU ms each', 'of the 0–500 rate'],
      rows,
    );

    report.section(
      `Registry: PUT …/capabilities at ${TARGET.toLocaleString('en-US')} agents vs a raw fsync'd write`,
    );
    report.text(
      'Sequential PUTs through HTTP, interleaved with a raw write (open, write, fsync, close) of a file the size ' +
        'of the registry file, on the same disk in the same run.',
    );
    report.table(
      ['backend', 'registry file', 'PUT median', 'PUT p99', 'raw write median', 'PUT/raw'],
      latencyRows,
    );

    const postgres = backends.find((backend) => backend.name === 'postgresql');
    if (postgres !== undefined) {
      try {
        report.section('Registry: propagation between two replicas (PostgreSQL, LISTEN/NOTIFY)');
        const delay = await propagation(postgres, 200);
        report.text(
          'Two `agent-registry serve` processes on one database. B long-polls its change feed while A is asked ' +
            'to change an agent; the delay runs from A acknowledging the change to B handing it out. Targets: ' +
            'median ≤ 100 ms, p99 ≤ 1 s.',
        );
        report.table(
          ['samples', 'median', 'p99', 'max'],
          [[delay.n, ms(delay.median), ms(delay.p99), ms(delay.max)]],
        );
        results.propagation = delay;
      } finally {
        await postgres.dispose();
      }
    }
    report.record('registry', results);
  },
};
