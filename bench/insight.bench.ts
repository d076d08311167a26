/**
 * @module bench/insight
 * Operator insight at 1,000 agents: what-if replay of 10,000 logged decisions (the budget is 5 s),
 * cold (the "current" shadow router built too) and warm (cached for the revision), with its parts and the
 * longest the event loop was blocked; and the cost of a full capability probe run (every agent's examples
 * routed), its longest slice, and how late a timer fired meanwhile (what a request would wait).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { CapabilityProbes } from '../src/insight/capability-probes.js';
import { type ReplayRegistry, RouteReplay } from '../src/insight/route-replay.js';
import type { AgentRecord } from '../src/registry/agent-record.js';
import type { RegisteredAgent } from '../src/registry/agent-registry.js';
import { AgentRouter } from '../src/routing/agent-router.js';
import { seededRandom } from '../src/routing/model-trainer.js';
import type { RoutingDecisionInput } from '../src/sessions/routing-decision.js';
import { SqliteSessionStore } from '../src/sessions/sqlite-session-store.js';
import { groupByIntent, loadBanking77, loadHwu64 } from '../test/routing/intent-datasets.js';
import { type BenchSuite, ms, type Report, stats } from './harness.js';

const SEED = 20_261_201;
const AGENTS = 1000;
const EXAMPLES_PER_AGENT = 10;
const DECISIONS = 10_000;
const RUNS = 2;

function record(name: string, examples: string[]): AgentRecord {
  const at = '2026-12-01T00:00:00.000Z';
  return {
    name,
    description: name.replace(/_/g, ' '),
    agent_type: 'bench',
    factory_module: 'bench',
    factory_function: 'bench',
    factory_params: {},
    capabilities: { examples },
    tags: [],
    enabled: true,
    registered_at: at,
    updated_at: at,
  };
}

/** 1,000 agents, each ten utterances of one intent (intents are shared by about seven agents each). */
function agents(): RegisteredAgent[] {
  const random = seededRandom(SEED);
  const intents = [...groupByIntent([...loadBanking77('train'), ...loadHwu64('train')]).entries()].sort(
    ([a], [b]) => (a < b ? -1 : 1),
  );
  return Array.from({ length: AGENTS }, (_, i) => {
    const [intent, texts] = intents[i % intents.length]!;
    const examples = Array.from(
      { length: EXAMPLES_PER_AGENT },
      () => texts[Math.floor(random() * texts.length)]!,
    );
    return { record: record(`${intent}_${i}`, examples), version: 1, agent: undefined, status: 'available' };
  }) as unknown as RegisteredAgent[];
}

function registryOf(entries: RegisteredAgent[]): ReplayRegistry & { onChange(): () => void } {
  const byName = new Map(entries.map((entry) => [entry.record.name, entry]));
  return {
    revision: 1,
    list: () => entries,
    get: (name) => byName.get(name),
    previewRegistration: async (input) =>
      record(input.name!, [...((input.capabilities?.examples ?? []) as string[])]),
    previewCapabilities: (name, capabilities) => ({ ...byName.get(name)!.record, capabilities }),
    onChange: () => () => {},
  };
}

/** CPU milliseconds of the main thread alone (Linux per-thread counters, 10 ms resolution; 0 elsewhere). */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU milliseconds of this process (user + system) since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function replayBench(
  report: Report,
  entries: RegisteredAgent[],
  live: AgentRouter,
  dir: string,
  idle: IdleDelay,
): Promise<void> {
  report.section('What-if replay, 1,000 agents, 10,000 logged decisions');
  const store = await SqliteSessionStore.open(path.join(dir, 'sessions.db'), { synchronous: 'NORMAL' });
  const random = seededRandom(SEED + 1);
  const pool = [...loadBanking77('test'), ...loadHwu64('test'), ...loadBanking77('train')].map((u) => u.text);
  const distinct = [...new Set(pool)];
  for (let i = distinct.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [distinct[i], distinct[j]] = [distinct[j]!, distinct[i]!];
  }
  const queries = distinct.slice(0, DECISIONS);
  const decisions: RoutingDecisionInput[] = queries.map((query, i) => ({
    at: new Date(Date.UTC(2026, 11, 1) + i).toISOString(),
    query,
    query_hashed: false,
    candidates: [{ name: entries[i % AGENTS]!.record.name, score: 0.5 }],
    selected: [entries[i % AGENTS]!.record.name],
    follow_up: false,
    revision: 1,
    session_id: null,
  }));
  for (let i = 0; i < decisions.length; i += 500) await store.recordDecisions(decisions.slice(i, i + 500));

  const registry = registryOf(entries);
  const replay = new RouteReplay({ registry, live, decisions: store, newRouter: () => new AgentRouter() });
  const takeover = groupByIntent(loadBanking77('train')).get('card_arrival')!.slice(0, 20);
  const change = {
    register: {
      name: 'card_arrival_specialist',
      agent_type: 'bench',
      factory_module: 'bench',
      factory_function: 'bench',
      capabilities: { examples: takeover },
    },
  };

  const loop = monitorEventLoopDelay({ resolution: 1 });
  const read: number[] = [];
  const build: number[] = [];
  const buildCpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = await store.listDecisions({ limit: 500, ...(cursor !== undefined && { cursor }) });
      n += page.decisions.length;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined && n < DECISIONS);
    read.push(performance.now() - t);
    t = performance.now();
    const cpu = process.cpuUsage();
    const router = new AgentRouter();
    for (const entry of entries) router.upsert({ ...entry.record, available: true });
    router.trainNow();
    build.push(performance.now() - t);
    buildCpu.push(cpuSince(cpu));
    router.close();
  }
  const cold: number[] = [];
  const warm: number[] = [];
  const coldCpu: number[] = [];
  const warmCpu: number[] = [];
  const coldMain: number[] = [];
  const warmMain: number[] = [];
  let result: Awaited<ReturnType<RouteReplay['replay']>> | undefined;
  loop.enable();
  for (let i = 0; i < RUNS; i++) {
    replay.close();
    let t = performance.now();
    let cpu = process.cpuUsage();
    let main = mainThreadCpuMs();
    result = await replay.replay({ change });
    cold.push(performance.now() - t);
    coldCpu.push(cpuSince(cpu));
    coldMain.push(mainThreadCpuMs() - main);
    t = performance.now();
    cpu = process.cpuUsage();
    main = mainThreadCpuMs();
    await replay.replay({ change });
    warm.push(performance.now() - t);
    warmCpu.push(cpuSince(cpu));
    warmMain.push(mainThreadCpuMs() - main);
  }
  loop.disable();
  const [c, w, r, b] = [stats(cold), stats(warm), stats(read), stats(build)];
  const [cc, wc, bc] = [stats(coldCpu), stats(warmCpu), stats(buildCpu)];
  const [cm, wm] = [stats(coldMain), stats(warmMain)];
  const load = os.loadavg()[0]!.toFixed(1);
  const movedTo = Object.entries(result!.summary.moved)
    .filter(([key]) => key.endsWith('->card_arrival_specialist'))
    .reduce((sum, [, n]) => sum + n, 0);
  report.text(
    `Agents: ${AGENTS}, ${EXAMPLES_PER_AGENT} examples each (BANKING77 + HWU64 training utterances of one intent per ` +
      `agent). Log: ${DECISIONS.toLocaleString('en')} decisions with distinct queries (test and training ` +
      'utterances) in SQLite. Change: register an agent with 20 "card_arrival" examples. "Before" is routed by ' +
      'the trained live router. Cold = the first replay at a revision (10,000 "before" routes, the "after" router ' +
      'built, 10,000 "after" routes); warm = a second replay at the same revision ("before" answers cached). ' +
      `Medians of ${RUNS} runs; wall time and this process's CPU time (the 1-minute load average was ${load} on ` +
      `${os.cpus().length} cores, so wall time includes waiting for a core). Budget: 5 s.`,
  );
  report.table(
    [
      'replay',
      'wall median',
      'wall max',
      'CPU median (all threads)',
      'main thread CPU',
      'queries/s (wall)',
      'budget 5 s (wall)',
    ],
    [
      [
        'cold',
        ms(c.median, 0),
        ms(c.max, 0),
        ms(cc.median, 0),
        ms(cm.median, 0),
        Math.round((DECISIONS / c.median) * 1000),
        c.median < 5000 ? 'met' : 'NOT met',
      ],
      [
        'warm',
        ms(w.median, 0),
        ms(w.max, 0),
        ms(wc.median, 0),
        ms(wm.median, 0),
        Math.round((DECISIONS / w.median) * 1000),
        w.median < 5000 ? 'met' : 'NOT met',
      ],
    ],
  );
  report.table(
    ['part', 'wall median', 'CPU median'],
    [
      ['read 10,000 decisions (20 keyset pages)', ms(r.median, 1), '—'],
      [
        'build one shadow router (1,000 upserts + trainNow: one synchronous step)',
        ms(b.median, 0),
        ms(bc.median, 0),
      ],
      [
        'route 10,000 "after" queries (warm minus build and read)',
        ms(Math.max(0, w.median - b.median - r.median), 0),
        ms(Math.max(0, wc.median - bc.median), 0),
      ],
    ],
  );
  report.text(
    `The replay moved ${movedTo} decisions to the new agent (${result!.changed.length} distinct queries ` +
      `changed). How late a 1 ms timer fired during the replays (what a request waited): p99 ` +
      `${ms(loop.percentile(99) / 1e6, 1)}, worst ${ms(loop.max / 1e6, 1)} (with nothing running, in the same ` +
      `run: p99 ${ms(idle.p99Ms, 1)}, worst ${ms(idle.maxMs, 1)}). "Main thread CPU" is ` +
      "the main thread's own CPU time (Linux per-thread counters): the rest is spent in worker threads.",
  );
  report.record('insight.replay', {
    agents: AGENTS,
    decisions: DECISIONS,
    coldMs: c,
    warmMs: w,
    coldCpuMs: cc.median,
    warmCpuMs: wc.median,
    coldMainMs: cm.median,
    warmMainMs: wm.median,
    buildCpuMs: bc.median,
    readMs: r.median,
    buildMs: b.median,
    loopMaxMs: loop.max / 1e6,
    loopP99Ms: loop.percentile(99) / 1e6,
    idleP99Ms: idle.p99Ms,
    idleMaxMs: idle.maxMs,
  });
  await store.close();
}

async function probeBench(
  report: Report,
  entries: RegisteredAgent[],
  router: AgentRouter,
  idle: IdleDelay,
): Promise<void> {
  report.section('Capability probes, 1,000 agents');
  const registry = registryOf(entries);
  const wall: number[] = [];
  const cpu: number[] = [];
  const processCpu: number[] = [];
  let longest = 0;
  const lag = monitorEventLoopDelay({ resolution: 1 });
  let misrouted = 0;
  for (let i = 0; i < RUNS; i++) {
    const probes = new CapabilityProbes({ registry, router, intervalMs: 0, debounceMs: 0 });
    lag.enable();
    const t = performance.now();
    const used = process.cpuUsage();
    await probes.runNow();
    wall.push(performance.now() - t);
    processCpu.push(cpuSince(used));
    lag.disable();
    const s = probes.stats();
    cpu.push(s.lastRunCpuMs);
    longest = Math.max(longest, s.longestSliceMs);
    misrouted = probes.misrouted().length;
    await probes.stop();
  }
  const [wl, cp, pc] = [stats(wall), stats(cpu), stats(processCpu)];
  const routes = AGENTS * EXAMPLES_PER_AGENT;
  report.text(
    `Every agent's ${EXAMPLES_PER_AGENT} examples routed with the trained live router (${routes.toLocaleString('en')} ` +
      `routes per run), as the service runs them: in slices of at most 4 ms, each followed by a rest three times ` +
      `as long (PROBE_CPU_PERCENT 25, the default), so wall time is about four times the time in slices; ` +
      `medians of ${RUNS} runs. ` +
      'Agents here share intents (about seven per intent), so most are "misrouted" by design: ' +
      `${misrouted} of ${AGENTS}.`,
  );
  report.table(
    [
      'run',
      'process CPU',
      'time in slices',
      'wall',
      'per example (CPU)',
      'longest slice',
      'timer delay meanwhile: p99',
      'worst',
    ],
    [
      [
        'full probe',
        ms(pc.median, 0),
        ms(cp.median, 0),
        ms(wl.median, 0),
        ms(pc.median / routes, 3),
        ms(longest, 1),
        ms(lag.percentile(99) / 1e6, 1),
        ms(lag.max / 1e6, 1),
      ],
      ['nothing running (same run)', '', '', '', '', '', ms(idle.p99Ms, 1), ms(idle.maxMs, 1)],
    ],
  );
  report.record('insight.probes', {
    agents: AGENTS,
    routes,
    cpuMs: pc.median,
    inSlicesMs: cp.median,
    wallMs: wl.median,
    longestSliceMs: longest,
    worstDelayMs: lag.max / 1e6,
    p99DelayMs: lag.percentile(99) / 1e6,
  });
}

/** How late a 1 ms timer fires with nothing running, in the same run: the machine's own share of the delays. */
interface IdleDelay {
  p99Ms: number;
  maxMs: number;
}

async function idleDelay(durationMs: number): Promise<IdleDelay> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  h.disable();
  return { p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
}

export const suite: BenchSuite = {
  name: 'insight',
  async run(report) {
    const entries = agents();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-insight-'));
    // The live router, trained: replays route "before" with it, probes route every example with it.
    const live = new AgentRouter();
    for (const entry of entries) live.upsert({ ...entry.record, available: true });
    live.trainNow();
    try {
      const idle = await idleDelay(3000);
      await replayBench(report, entries, live, dir, idle);
      await probeBench(report, entries, live, idle);
    } finally {
      live.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
