import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { AgentIndex } from '../../src/routing/agent-index.js';
import {
  calibrationFromTransfer,
  calibrationToTransfer,
  fitCalibration,
  UNFITTED,
} from '../../src/routing/calibration.js';
import { textFeatures } from '../../src/routing/feature-extractor.js';
import { DEFAULT_SETTINGS, WORKER_NICE } from '../../src/routing/index-settings.js';
import { buildModel, builtFromTransfer, builtToTransfer } from '../../src/routing/model-build.js';
import { FeatureRows } from '../../src/routing/routing-model.js';
import { ShadowWorker, spawnWorker, trainingWorkerEntry } from '../../src/routing/training-worker-client.js';
import {
  type FromTrainingWorker,
  packAgents,
  TrainingHost,
  unpackAgents,
} from '../../src/routing/training-worker-host.js';
import { DEMO_AGENTS, demoAgent, FINOPS, TICKETS } from './demo-agents.js';
import { inThreadSpawn } from './in-thread-worker.js';

const topics = ['invoice', 'printer', 'vacation', 'laptop', 'badge', 'parking', 'salary', 'meeting'];
function topicAgents(count: number, prefix = 'agent') {
  return Array.from({ length: count }, (_, i) =>
    demoAgent({
      name: `${prefix}_${i}`,
      description: `${topics[i % topics.length]} desk ${i}`,
      capabilities: {
        examples: [
          `help with my ${topics[i % topics.length]} number ${i}`,
          `${topics[(i + 3) % 8]} question ${i}`,
        ],
      },
    }),
  );
}

const QUERIES = [
  'show my open tickets',
  'how much did we spend on AWS last month',
  'help with my badge',
  'printer',
];

/** Everything a search says, to compare two indexes' models. */
function answers(index: AgentIndex) {
  return QUERIES.map((query) => index.search(query));
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('training in a worker thread', () => {
  it('rests between back-to-back builds in proportion to the last one, and trains a change after a quiet spell at once', async () => {
    // The clock is faked: each build "takes" 100 ms (the time moves when the worker receives it).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      let builds = 0;
      const spawn = inThreadSpawn((message) => {
        if (message.type === 'build') {
          builds++;
          vi.advanceTimersByTime(100);
        }
        return false;
      });
      const index = new AgentIndex({ spawn, settings: { restRatio: 2, maxRestMs: 150 } });
      index.upsert(TICKETS);
      await index.whenTrained();
      expect(builds).toBe(1);

      // A change right after the adoption waits out the rest: 2 x 100 ms, capped at 150 ms.
      index.upsert(FINOPS);
      const trained = index.whenTrained();
      for (let i = 0; i < 20; i++) await turn();
      expect(builds).toBe(1);
      expect(index.stats().trained).toBe(false);
      vi.advanceTimersByTime(149);
      for (let i = 0; i < 5; i++) await turn();
      expect(builds).toBe(1);
      vi.advanceTimersByTime(1);
      await trained;
      expect(builds).toBe(2);
      expect(index.stats()).toMatchObject({ trained: true, pendingAgents: 0 });

      // Once the rest is over, the next change is built without waiting for any timer.
      vi.advanceTimersByTime(10_000);
      index.upsert(demoAgent({ name: 'badges', description: 'badge desk' }));
      await index.whenTrained();
      expect(builds).toBe(3);
      index.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('builds in a real worker exactly the model trainNow builds, whatever the order of changes', async () => {
    const agents = [...DEMO_AGENTS, ...topicAgents(30)];
    const inline = new AgentIndex({ trainer: 'inline' });
    for (const agent of agents) inline.upsert(agent);
    inline.trainNow();
    const workers: Worker[] = [];
    const index = new AgentIndex({
      spawn: (data) => {
        const worker = spawnWorker(data) as Worker;
        workers.push(worker);
        return worker;
      },
    });
    // Reversed, with a detour: the worker must end up with the same registry.
    for (const agent of [...agents].reverse()) index.upsert(agent);
    index.upsert({ ...TICKETS, capabilities: { examples: ['something else'] } });
    index.remove(FINOPS.name);
    index.upsert(FINOPS);
    index.upsert(TICKETS);
    expect(index.stats().trained).toBe(false);
    await index.whenTrained();
    expect(index.stats()).toMatchObject({ trained: true, builds: 1, pendingAgents: 0 });
    expect(answers(index)).toEqual(answers(inline));
    expect(index.calibration.threshold).toBe(inline.calibration.threshold);
    expect(index.stats().longestSliceMs).toBeLessThan(1000);
    // close() terminates the thread.
    expect(workers).toHaveLength(1);
    const exited = once(workers[0]!, 'exit');
    index.close();
    await exited;
    index.upsert(demoAgent({ name: 'late' }));
    await index.whenTrained();
    expect(workers).toHaveLength(1);
  });

  it('keeps agents changed during a build pending, and runs at most one build with one due after it', async () => {
    const spawn = inThreadSpawn();
    const index = new AgentIndex({ spawn, settings: {} });
    for (const agent of topicAgents(20)) index.upsert(agent);
    // Wait until the build is requested, then change the registry under it, many times.
    while (!spawn.workers[0]?.posted.includes('build')) await turn();
    for (const agent of topicAgents(20, 'burst')) index.upsert(agent);
    index.upsert(TICKETS);
    index.remove('agent_3');
    await turn();
    await turn();
    // Still the first build in flight: the burst waits for it.
    expect(spawn.workers[0]!.posted.filter((type) => type === 'build')).toHaveLength(1);
    while (index.stats().builds < 1) await turn();
    // Adopted, and resting before the next build: what changed under it is pending (untrained scorer), the
    // agent removed meanwhile is gone, the rest is the model's.
    expect(index.stats()).toMatchObject({ trained: false, builds: 1, pendingAgents: 21 });
    expect(index.search('show my open tickets').hits[0]?.name).toBe('tickets_agent');
    await index.whenTrained();
    expect(spawn.workers[0]!.posted.filter((type) => type === 'build')).toHaveLength(2);
    expect(index.stats()).toMatchObject({ trained: true, builds: 2, pendingAgents: 0 });
    expect(index.search('show my open tickets').hits[0]?.name).toBe('tickets_agent');
    expect(index.search('help with my badge number 3').hits.map((hit) => hit.name)).not.toContain('agent_3');
    const inline = new AgentIndex({ trainer: 'inline' });
    for (const agent of [...topicAgents(20), ...topicAgents(20, 'burst'), TICKETS]) inline.upsert(agent);
    inline.remove('agent_3');
    inline.trainNow();
    expect(answers(index)).toEqual(answers(inline));
    index.close();
    expect(spawn.workers[0]!.terminated).toBe(true);
  });

  it('adopts nothing stale: a trainNow while the worker builds wins, and the late build is dropped', async () => {
    const spawn = inThreadSpawn();
    const index = new AgentIndex({ spawn });
    for (const agent of DEMO_AGENTS) index.upsert(agent);
    while (!spawn.workers[0]?.posted.includes('build')) await turn();
    index.upsert(demoAgent({ name: 'hr_agent', capabilities: { examples: ['request vacation days'] } }));
    index.trainNow();
    expect(index.stats()).toMatchObject({ trained: true, builds: 1 });
    await index.whenTrained();
    for (let i = 0; i < 20; i++) await turn();
    expect(index.stats()).toMatchObject({ trained: true, builds: 1, pendingAgents: 0 });
    expect(index.search('request vacation days').hits[0]?.name).toBe('hr_agent');
    index.close();
  });

  it('keeps the last model when a build fails, reports it, and retries on the next change', async () => {
    let failing = false;
    const spawn = inThreadSpawn((message, reply) => {
      if (message.type !== 'build' || !failing) return false;
      reply({ type: 'failed', version: message.version, message: 'out of luck' });
      return true;
    });
    const errors: unknown[] = [];
    const index = new AgentIndex({ spawn, onError: (error) => errors.push(error) });
    for (const agent of DEMO_AGENTS) index.upsert(agent);
    await index.whenTrained();
    expect(index.stats().builds).toBe(1);
    failing = true;
    index.upsert(demoAgent({ name: 'hr_agent', capabilities: { examples: ['request vacation days'] } }));
    await index.whenTrained();
    expect(errors).toEqual([new Error('router training failed in the worker: out of luck')]);
    // The last model stands; the new agent is scored untrained.
    expect(index.stats()).toMatchObject({ trained: false, builds: 1, pendingAgents: 1 });
    expect(index.search('show my open tickets').hits[0]?.name).toBe('tickets_agent');
    expect(index.search('request vacation days').hits[0]?.name).toBe('hr_agent');
    failing = false;
    index.upsert(demoAgent({ name: 'payroll', capabilities: { examples: ['download my payslip'] } }));
    await index.whenTrained();
    expect(index.stats()).toMatchObject({ trained: true, builds: 2, pendingAgents: 0 });
    index.close();
  });

  it('survives a crashed worker: the last model stays, and the next change starts a new one from scratch', async () => {
    const spawn = inThreadSpawn();
    const errors: unknown[] = [];
    const index = new AgentIndex({ spawn, onError: (error) => errors.push(error) });
    for (const agent of DEMO_AGENTS) index.upsert(agent);
    await index.whenTrained();
    index.upsert(demoAgent({ name: 'hr_agent', capabilities: { examples: ['request vacation days'] } }));
    while (!spawn.workers[0]!.posted.filter((type) => type === 'build')[1]) await turn();
    spawn.workers[0]!.crash(new Error('out of memory'));
    await index.whenTrained();
    expect(errors).toEqual([new Error('out of memory')]);
    expect(index.stats()).toMatchObject({ trained: false, builds: 1, pendingAgents: 1 });
    expect(index.search('show my open tickets').hits[0]?.name).toBe('tickets_agent');
    index.upsert(demoAgent({ name: 'payroll', capabilities: { examples: ['download my payslip'] } }));
    await index.whenTrained();
    expect(spawn.workers).toHaveLength(2);
    expect(index.stats()).toMatchObject({ trained: true, builds: 2, pendingAgents: 0 });
    expect(index.search('request vacation days').hits[0]?.name).toBe('hr_agent');
    index.close();
  });

  it('streams a large registry in bounded batches', async () => {
    const spawn = inThreadSpawn();
    const index = new AgentIndex({ spawn });
    for (const agent of topicAgents(300)) index.upsert(agent);
    // Spawning, then one batch per turn: with the default batch size 300 small agents fit in one.
    await index.whenTrained();
    expect(spawn.workers[0]!.posted).toEqual(['changes', 'build']);
    index.close();
  });

  it('never starts a worker for a router trained only by trainNow', async () => {
    const spawn = inThreadSpawn();
    const index = new AgentIndex({ spawn });
    for (const agent of DEMO_AGENTS) index.upsert(agent);
    index.trainNow();
    index.trainNow();
    await index.whenTrained();
    for (let i = 0; i < 5; i++) await turn();
    expect(spawn.workers).toHaveLength(0);
    index.close();
  });
});

describe('what crosses between threads', () => {
  it('packs and unpacks agents, and moves a built model and its calibration whole', () => {
    const items = [...DEMO_AGENTS, ...topicAgents(12)]
      .map((agent, i) => ({
        name: agent.name,
        version: i + 1,
        terms: [agent.description, ...(agent.capabilities.examples as string[])].map((text) =>
          textFeatures(text),
        ),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const { agents, transfer } = packAgents(items);
    const unpacked = unpackAgents(structuredClone(agents, { transfer }));
    expect(unpacked).toEqual(items);
    const built = buildModel(items, DEFAULT_SETTINGS);
    const expected = QUERIES.map((q) => built.model.search(textFeatures(q), 5));
    const sent = builtToTransfer(built);
    const received = builtFromTransfer(structuredClone(sent.data, { transfer: sent.transfer }));
    expect(QUERIES.map((q) => received.model.search(textFeatures(q), 5))).toEqual(expected);
    expect(received.versions).toEqual(Float64Array.from(items, (item) => item.version));
    expect(received.calibration.fitted).toBe(true);
    const evidence = {
      probability: 0.4,
      logit: 3,
      gap: 1,
      nearest: 0.5,
      similarity: 0.4,
      knownWordRatio: 1,
      words: 3,
      energy: 4,
    };
    expect(received.calibration.inScope(evidence)).toBe(built.calibration.inScope(evidence));
    expect(calibrationFromTransfer(calibrationToTransfer(UNFITTED))).toBe(UNFITTED);
    expect(calibrationToTransfer(fitCalibration([]))).toBeNull();
  });

  it('answers a build that throws with a failure, and keeps serving', () => {
    const answers: FromTrainingWorker[] = [];
    const host = new TrainingHost(DEFAULT_SETTINGS, (message) => answers.push(message));
    const { agents } = packAgents([{ name: 'a', version: 1, terms: [textFeatures('hello there')] }]);
    host.handle({ type: 'changes', agents, removed: [] });
    const mirror = (host as unknown as { agents: Map<string, unknown> }).agents;
    for (const thrown of [new Error('broken documents'), 'not an Error']) {
      mirror.set('b', {
        name: 'b',
        version: 2,
        get terms(): never {
          throw thrown;
        },
      });
      host.handle({ type: 'build', version: 2 });
    }
    expect(answers).toMatchObject([
      { type: 'failed', version: 2, message: expect.stringContaining('broken documents') },
      { type: 'failed', version: 2, message: 'not an Error' },
    ]);
    host.handle({ type: 'changes', agents: packAgents([]).agents, removed: ['b'] });
    host.handle({ type: 'build', version: 3 });
    expect(answers.at(-1)).toMatchObject({ type: 'built', version: 3 });
  });

  it('keeps feature rows in a growing hash table', () => {
    const rows = new FeatureRows(4);
    for (let id = -50; id < 5000; id += 7) expect(rows.add(id)).toBe(rows.size - 1);
    expect(rows.add(-50)).toBe(0);
    expect(rows.get(-43)).toBe(1);
    expect(rows.has(3)).toBe(false);
    const copy = FeatureRows.fromTransfer(structuredClone(rows.toTransfer()));
    expect(copy.size).toBe(rows.size);
    expect(copy.get(-43)).toBe(1);
    expect(copy.get(-42)).toBeUndefined();
  });

  it('starts the compiled worker from dist, and the TypeScript one from sources through tsx', () => {
    expect(trainingWorkerEntry('file:///app/dist/src/routing/training-worker-client.js')).toEqual({
      entry: new URL('file:///app/dist/src/routing/training-worker.js'),
      eval: false,
    });
    const fromSources = trainingWorkerEntry();
    expect(fromSources.eval).toBe(true);
    expect(fromSources.entry).toMatch(/register\(\).*training-worker\.ts/);
  });
});

describe('ShadowWorker', () => {
  it('trains a shadow router with a change applied, and routes batches there', async () => {
    const spawn = inThreadSpawn();
    const shadow = await ShadowWorker.open(
      DEMO_AGENTS,
      { remove: 'tickets_agent' },
      { minConfidence: 0.01 },
      spawn,
    );
    const selected = await shadow.route(['how much did we spend on AWS last month', 'show my open tickets']);
    expect(selected[0]).toEqual(['finops_agent']);
    expect(selected[1]).not.toContain('tickets_agent');
    shadow.close();
    expect(spawn.workers[0]!.terminated).toBe(true);
    await expect(shadow.route(['anything'])).rejects.toThrow(/closed/);
  });

  it('rejects when the shadow fails or its thread dies', async () => {
    const spawn = inThreadSpawn();
    const shadow = await ShadowWorker.open(DEMO_AGENTS, { upsert: TICKETS }, {}, spawn);
    // An empty query fails validation in the shadow router.
    await expect(shadow.route([''])).rejects.toThrow(
      /the shadow router failed: query must be a non-empty string/,
    );
    const dying = inThreadSpawn((message) => message.type === 'train');
    const opening = ShadowWorker.open(DEMO_AGENTS, null, {}, dying);
    while (dying.workers[0]?.posted.at(-1) !== 'train') await turn();
    dying.workers[0]!.crash();
    await expect(opening).rejects.toThrow(/worker crashed/);
  });
});

describe('worker thread priority', () => {
  /** The nice value of each of this process's threads, by thread id (Linux). */
  function threadNices(): Map<string, number> {
    const nices = new Map<string, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      nices.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    }
    return nices;
  }

  it.runIf(process.platform === 'linux')(
    'lowers its own thread by WORKER_NICE and leaves the event loop where it was (Linux)',
    async () => {
      const before = threadNices();
      const own = os.getPriority(0);
      const shadow = await ShadowWorker.open(DEMO_AGENTS, null, {}, spawnWorker);
      try {
        // The shadow is trained, so its thread ran the entry that lowers its priority.
        const added = [...threadNices()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
        expect(added).toContain(Math.min(19, own + WORKER_NICE));
        expect(os.getPriority(0)).toBe(own);
        expect(threadNices().get(String(process.pid))).toBe(own);
      } finally {
        shadow.close();
      }
    },
  );
});
