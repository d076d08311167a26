/**
 * @module bench/seed
 * The seed's routing scenarios (Task 5.3) end to end over HTTP, against the service in its own process with
 * 100 agents: registering them, routing one query at a time, and 50 route requests at once; each next to the
 * same requests to a Fastify hello-world server in the same run. (The save and session-read scenarios are
 * reported by the registry and sessions suites, next to their own anchors.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BenchSuite, measure, measureInterleaved, ms, ratio, stats } from './harness.js';
import {
  freePort,
  HELLO_WORLD,
  json,
  SERVICE_BENCH_ENV,
  SERVICE_CLI,
  startProcess,
  stop,
  waitForProbes,
  waitUntilUp,
} from './processes.js';

const AGENTS = 100;
const SEQUENTIAL = 500;
const CONCURRENCY = 50;
const ROUNDS = 40;

/** Queries in the demo agents' domains and the generated ones', so routing does real work every time. */
function query(i: number): string {
  const domain = [
    'show my open tickets',
    'what did we spend on cloud last month',
    'which courses are due this week',
    `question ${i % 10} about business area ${i % 97}`,
  ];
  return domain[i % domain.length]!;
}

async function post(url: string, body: unknown): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  await response.arrayBuffer();
  return response.status;
}

async function get(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

/** `CONCURRENCY` requests at once, `ROUNDS` times; per-request latencies and how many were not 200. */
async function burst(
  send: (i: number) => Promise<number>,
): Promise<{ samples: number[]; failed: number; seconds: number }> {
  const samples: number[] = [];
  let failed = 0;
  const started = process.hrtime.bigint();
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, k) => {
        const start = process.hrtime.bigint();
        const status = await send(round * CONCURRENCY + k).catch(() => 0);
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (status !== 200) failed++;
      }),
    );
  }
  return { samples, failed, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export const suite: BenchSuite = {
  name: 'seed',
  async run(report) {
    report.section("The seed's routing scenarios over HTTP (100 agents) vs a Fastify hello world");
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-seed-'));
    const helloPort = await freePort();
    const servicePort = await freePort();
    const hello = startProcess([HELLO_WORLD, String(helloPort)], {});
    const service = startProcess([SERVICE_CLI, 'serve'], {
      DATA_DIR: dataDir,
      PORT: String(servicePort),
      ...SERVICE_BENCH_ENV,
    });
    const base = `http://127.0.0.1:${servicePort}`;
    const helloUrl = `http://127.0.0.1:${helloPort}/`;
    try {
      await waitUntilUp(hello, helloUrl);
      await waitUntilUp(service, `${base}/health`);
      // The 3 demo agents plus 97 generated ones, registered one call at a time as an operator would.
      let registered = 0;
      const registration = await measure(
        () =>
          json(`${base}/registry/agents`, 'POST', {
            agent_type: 'generic',
            factory_module: 'jarvis_agent.mcp_agents.agent_factory',
            factory_function: 'create_generic_agent',
            factory_params: {
              name: `agent_${registered}`,
              description: `Answers questions about business area ${registered++}`,
            },
            capabilities: {
              examples: Array.from(
                { length: 10 },
                (_, k) => `question ${k} about business area ${registered - 1}`,
              ),
            },
            tags: ['bench'],
          }),
        { iterations: AGENTS - 3, warmup: 0 },
      );
      // Routing works while the model trains; the seed's figure is for the trained router.
      for (let attempt = 0; ; attempt++) {
        const health = (await json(`${base}/health`, 'GET')) as {
          router: { trained: boolean; agents: number };
        };
        if (health.router.trained && health.router.agents === AGENTS) break;
        if (attempt > 600) throw new Error('the router did not finish training within a minute');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await waitForProbes(base);

      const sequential = await measureInterleaved(
        {
          route: (i) => post(`${base}/registry/route`, { query: query(i) }),
          hello: () => get(helloUrl),
        },
        { iterations: SEQUENTIAL },
      );
      const route = sequential.route!;
      const helloOne = sequential.hello!;

      // Concurrent: rounds of 50 at once, the service and hello world alternating round by round.
      const routed: number[] = [];
      const helloBurst: number[] = [];
      let routeFailed = 0;
      let helloFailed = 0;
      let routeSeconds = 0;
      let helloSeconds = 0;
      for (let pass = 0; pass < 2; pass++) {
        const r = await burst((i) => post(`${base}/registry/route`, { query: query(i) }));
        const h = await burst(() => get(helloUrl));
        routed.push(...r.samples);
        helloBurst.push(...h.samples);
        routeFailed += r.failed;
        helloFailed += h.failed;
        routeSeconds += r.seconds;
        helloSeconds += h.seconds;
      }
      const concurrent = stats(routed);
      const helloConcurrent = stats(helloBurst);
      const routeRate = routed.length / routeSeconds;
      const helloRate = helloBurst.length / helloSeconds;

      report.text(
        `The service (${AGENTS} agents with 10 examples each, trained router) and a Fastify hello world, each in its ` +
          'own process, called by fetch from this process over keep-alive connections on the same 2 cores. ' +
          `One at a time: ${SEQUENTIAL} route requests interleaved with ${SEQUENTIAL} hello-world requests. ` +
          `Concurrent: ${ROUNDS} rounds of ${CONCURRENCY} requests sent at once, twice, alternating with the same ` +
          'rounds against hello world; latency is per request, throughput is requests over the wall time of the rounds.',
      );
      report.table(
        [
          'what',
          'median',
          'p99',
          'hello world median',
          'hello world p99',
          'vs hello world (median)',
          'other',
        ],
        [
          [
            `register an agent (POST /registry/agents, ${AGENTS - 3} calls)`,
            ms(registration.median),
            ms(registration.p99),
            '',
            '',
            ratio(registration.median, helloOne.median),
            `${ms(registration.mean * (AGENTS - 3), 0)} in all`,
          ],
          [
            'route one query (POST /registry/route)',
            ms(route.median),
            ms(route.p99),
            ms(helloOne.median),
            ms(helloOne.p99),
            ratio(route.median, helloOne.median),
            '',
          ],
          [
            `${CONCURRENCY} route requests at once`,
            ms(concurrent.median),
            ms(concurrent.p99),
            ms(helloConcurrent.median),
            ms(helloConcurrent.p99),
            ratio(concurrent.median, helloConcurrent.median),
            `${Math.round(routeRate).toLocaleString('en-US')} queries/s (hello world ${Math.round(helloRate).toLocaleString('en-US')}/s, ` +
              `${ratio(routeRate, helloRate)}); ${routeFailed} of ${routed.length} not answered 200`,
          ],
        ],
      );
      if (routeFailed > 0 || helloFailed > 0) {
        report.text(
          `WARNING: ${routeFailed} route and ${helloFailed} hello-world requests were not answered 200.`,
        );
      }
      report.scenario('routing', {
        median: route.median,
        p99: route.p99,
        how: `POST /registry/route over HTTP, ${AGENTS} agents, one request at a time`,
        anchor: { name: 'Fastify hello world', median: helloOne.median, p99: helloOne.p99 },
        note: `registering the ${AGENTS - 3} agents took ${ms(registration.median)} median per call`,
      });
      report.scenario('concurrent_routing', {
        median: concurrent.median,
        p99: concurrent.p99,
        how: `${CONCURRENCY} POST /registry/route at once, ${ROUNDS * 2} rounds; per-request latency (the seed's 500 ms applied to each)`,
        anchor: {
          name: `Fastify hello world, ${CONCURRENCY} at once`,
          median: helloConcurrent.median,
          p99: helloConcurrent.p99,
        },
        note:
          `${Math.round(routeRate).toLocaleString('en-US')} queries/s vs ${Math.round(helloRate).toLocaleString('en-US')}/s; ` +
          `${routed.length - routeFailed} of ${routed.length} answered 200 (no deadlock)`,
      });
      report.record('seed_http', {
        registration,
        route,
        hello: helloOne,
        concurrent,
        helloConcurrent,
        routeRate,
        helloRate,
        routeFailed,
        helloFailed,
      });
    } finally {
      await stop(service);
      await stop(hello);
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
