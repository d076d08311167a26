/**
 * @module bench/service
 * HTTP throughput of the real service (its own process, `agent-registry serve`) under autocannon, next to a
 * Fastify hello-world server measured in the same run: the list of 100 agents (full body, and the 304 a
 * polling client gets), a 1,000-message session, durable history appends, and routing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type BenchSuite, ratio } from './harness.js';
import {
  freePort,
  json,
  SERVICE_BENCH_ENV,
  startProcess,
  stop,
  waitForProbes,
  waitUntilUp,
} from './processes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DURATION_S = 8;
const CONNECTIONS = 32;

interface Load {
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  /** Status every response must have. */
  expect: number;
}

interface LoadResult {
  name: string;
  requestsPerSecond: number;
  latencyMedian: number;
  latencyP99: number;
  bytesPerRequest: number;
  non2xx: number;
  errors: number;
}

async function load(spec: Load): Promise<LoadResult> {
  const result = await autocannon({
    url: spec.url,
    method: spec.method ?? 'GET',
    connections: CONNECTIONS,
    duration: DURATION_S,
    ...(spec.body !== undefined && { body: spec.body }),
    headers: { ...(spec.body !== undefined && { 'content-type': 'application/json' }), ...spec.headers },
  });
  const ok = spec.expect === 304 ? result['3xx'] : result['2xx'];
  return {
    name: spec.name,
    requestsPerSecond: result.requests.average,
    latencyMedian: result.latency.p50,
    latencyP99: result.latency.p99,
    bytesPerRequest: result.throughput.total / Math.max(1, result.requests.total),
    non2xx: result.requests.total - ok,
    errors: result.errors + result.timeouts,
  };
}

export const suite: BenchSuite = {
  name: 'service',
  async run(report) {
    report.section('REST service throughput (autocannon) vs a Fastify hello-world in the same run');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-service-'));
    const helloPort = await freePort();
    const servicePort = await freePort();
    const hello = startProcess([path.join(here, 'fixtures', 'hello-world.mjs'), String(helloPort)], {});
    const service = startProcess([path.join(here, '..', 'dist', 'jarvis_agent', 'service-cli.js'), 'serve'], {
      DATA_DIR: dataDir,
      PORT: String(servicePort),
      ...SERVICE_BENCH_ENV,
    });
    const base = `http://127.0.0.1:${servicePort}`;
    try {
      await waitUntilUp(hello, `http://127.0.0.1:${helloPort}/`);
      await waitUntilUp(service, `${base}/health`);
      // 97 generic agents beside the 3 demo agents: 100, each with a description and 10 examples.
      for (let i = 0; i < 97; i++) {
        await json(`${base}/registry/agents`, 'POST', {
          agent_type: 'generic',
          factory_module: 'jarvis_agent.mcp_agents.agent_factory',
          factory_function: 'create_generic_agent',
          factory_params: { name: `agent_${i}`, description: `Answers questions about business area ${i}` },
          capabilities: {
            examples: Array.from({ length: 10 }, (_, k) => `question ${k} about business area ${i}`),
          },
          tags: ['bench'],
        });
      }
      const { session_id: sessionId } = (await json(`${base}/sessions`, 'POST', { user_id: 'bench' })) as {
        session_id: string;
      };
      for (let i = 0; i < 1000; i++) {
        await json(`${base}/sessions/${sessionId}/history`, 'POST', {
          role: i % 2 === 0 ? 'user' : 'assistant',
          content: `message ${i}: ${'lorem ipsum dolor sit amet '.repeat(3)}`,
        });
      }
      // The list's ETag covers the probes' findings: taken once they have checked these agents.
      await waitForProbes(base);
      const etag = (await fetch(`${base}/registry/agents`)).headers.get('etag') ?? '';
      const sessionEtag = (await fetch(`${base}/sessions/${sessionId}`)).headers.get('etag') ?? '';
      const appendTarget = (
        (await json(`${base}/sessions`, 'POST', { user_id: 'bench-appends' })) as { session_id: string }
      ).session_id;

      const loads: Load[] = [
        { name: 'hello world (baseline)', url: `http://127.0.0.1:${helloPort}/`, expect: 200 },
        { name: 'GET /registry/agents (100 agents)', url: `${base}/registry/agents`, expect: 200 },
        {
          name: 'GET /registry/agents, Accept-Encoding: gzip',
          url: `${base}/registry/agents`,
          headers: { 'accept-encoding': 'gzip' },
          expect: 200,
        },
        {
          name: 'GET /registry/agents, If-None-Match (304)',
          url: `${base}/registry/agents`,
          headers: { 'if-none-match': etag },
          expect: 304,
        },
        { name: 'GET /sessions/{id} (1,000 messages)', url: `${base}/sessions/${sessionId}`, expect: 200 },
        {
          name: 'GET /sessions/{id}, If-None-Match (304)',
          url: `${base}/sessions/${sessionId}`,
          headers: { 'if-none-match': sessionEtag },
          expect: 304,
        },
        {
          name: 'POST /sessions/{id}/history (durable)',
          url: `${base}/sessions/${appendTarget}/history`,
          method: 'POST',
          body: JSON.stringify({ role: 'user', content: 'show my open tickets' }),
          expect: 201,
        },
        {
          name: 'POST /registry/route',
          url: `${base}/registry/route`,
          method: 'POST',
          body: JSON.stringify({ query: 'show my open tickets' }),
          expect: 200,
        },
      ];
      // Hello world is measured before and after the others; the mean is the baseline. A load whose responses
      // are large is also compared with a constant body of the same size from the same bare server.
      const results: LoadResult[] = [];
      const sameSize = new Map<string, LoadResult>();
      for (const spec of [...loads, loads[0]!]) {
        console.log(`  measuring ${spec.name} ...`);
        const result = await load(spec);
        results.push(result);
        if (result.bytesPerRequest > 4096) {
          const size = Math.round(result.bytesPerRequest);
          console.log(`  measuring a constant ${size}-byte body ...`);
          sameSize.set(
            spec.name,
            await load({
              name: `constant ${size} bytes`,
              url: `http://127.0.0.1:${helloPort}/bytes/${size}`,
              expect: 200,
            }),
          );
        }
      }
      const helloRuns = [results[0]!, results[results.length - 1]!];
      const baseline = (helloRuns[0]!.requestsPerSecond + helloRuns[1]!.requestsPerSecond) / 2;
      const rows = results.slice(1, -1).map((r) => {
        const ceiling = sameSize.get(r.name);
        return [
          r.name,
          Math.round(r.requestsPerSecond).toLocaleString('en-US'),
          ratio(r.requestsPerSecond, baseline),
          ceiling === undefined
            ? ''
            : `${Math.round(ceiling.requestsPerSecond).toLocaleString('en-US')} (${ratio(r.requestsPerSecond, ceiling.requestsPerSecond)})`,
          `${r.latencyMedian} ms`,
          `${r.latencyP99} ms`,
          `${(r.bytesPerRequest / 1024).toFixed(1)} KiB`,
          r.non2xx + r.errors,
        ];
      });
      report.text(
        `Each load: ${CONNECTIONS} connections for ${DURATION_S} s; the server and autocannon run as separate processes on the ` +
          `same 2 cores. Hello world: ${helloRuns.map((r) => Math.round(r.requestsPerSecond).toLocaleString('en-US')).join(' and ')} ` +
          `requests/s (before and after the others; baseline = their mean, ${Math.round(baseline).toLocaleString('en-US')}). ` +
          '"same-size constant body" is the bare Fastify server answering a constant JSON body of the same size: the ceiling ' +
          'for a response that large here. The service runs with LOG_LEVEL=warn (no per-request log lines) and synchronous=FULL.',
      );
      report.table(
        [
          'load',
          'requests/s',
          'vs hello world',
          'same-size constant body (ratio)',
          'latency p50',
          'latency p99',
          'bytes/response',
          'errors',
        ],
        rows,
      );
      report.text(
        'Target: reads at least half the hello-world throughput. Small responses (304, routing) are measured against hello ' +
          'world; a full agent list or a 1,000-message session is a large body, and even a constant body of that size stays ' +
          'far below hello world on these cores, so the same-size column is the fair comparison. Polling clients send ' +
          'If-None-Match (304 while nothing changed) and Accept-Encoding: gzip.',
      );
      report.record('service', { baseline, results, sameSize: Object.fromEntries(sameSize) });
    } finally {
      await stop(service);
      await stop(hello);
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
