import { describe, expect, it } from 'vitest';
import { type ReplayRegistry, RouteReplay } from '../../src/insight/route-replay.js';
import { AgentRouter } from '../../src/routing/agent-router.js';
import type { DecisionList } from '../../src/sessions/routing-decision.js';
import { type FakeSpawn, inThreadSpawn } from '../routing/in-thread-worker.js';
import { expectAppError } from '../sessions/session-store.contract.js';
import {
  makeDecision as decision,
  makeRegisteredAgent,
  makeExamplesRecord as record,
} from '../support/records.js';

const AGENTS = [
  record('tickets', ['show my open tickets', 'close ticket INC-1', 'who is assigned to my ticket']),
  record('cloud', ['cloud spend last month', 'our aws bill', 'azure costs this quarter']),
];

interface SetupOptions {
  gate?: Promise<void>;
  trained?: boolean;
  spawn?: FakeSpawn;
  /** The log's pages, read in order (default: one page of two decisions). */
  pages?: string[][];
  /** Called as each page is read. */
  onPage?: () => void;
  sliceMs?: number;
}

function setup(options: SetupOptions = {}) {
  const entries = AGENTS.map(makeRegisteredAgent);
  const registry: ReplayRegistry & { revision: number } = {
    revision: 1,
    list: () => entries,
    get: (name) => entries.find((e) => e.record.name === name),
    previewRegistration: async (input) => record(input.name!, []),
    previewCapabilities: (name, capabilities) => ({ ...record(name, []), capabilities }),
  };
  const decisions = {
    listDecisions: async ({ cursor }: { cursor?: string }): Promise<DecisionList> => {
      await options.gate;
      options.onPage?.();
      const pages = options.pages ?? [['show my open tickets', 'our aws bill']];
      const at = Number(cursor ?? 0);
      return {
        decisions: pages[at]!.map((q) => decision(q)),
        next_cursor: at + 1 < pages.length ? String(at + 1) : null,
      };
    },
  };
  const live = new AgentRouter();
  for (const r of AGENTS) live.upsert({ ...r, available: true });
  live.trainNow();
  let liveRoutes = 0;
  const trained = options.trained ?? true;
  const liveView = {
    routeOffline: (query: string) => {
      liveRoutes++;
      return live.routeOffline(query);
    },
    stats: () => ({ trained }),
  };
  let built = 0;
  const replay = new RouteReplay({
    registry,
    decisions,
    live: liveView,
    newRouter: () => {
      built++;
      return new AgentRouter();
    },
    ...(options.spawn === undefined ? { shadows: 'inline' as const } : { spawn: options.spawn }),
    ...(options.sliceMs !== undefined && { sliceMs: options.sliceMs }),
  });
  return { replay, registry, counts: () => ({ built, liveRoutes }) };
}

describe('RouteReplay', () => {
  it('routes "before" with the trained live router once per query and revision', async () => {
    const { replay, registry, counts } = setup();
    const change = { update: { name: 'cloud', capabilities: AGENTS[1]!.capabilities } };
    expect((await replay.replay({ change })).changed).toEqual([]);
    expect(counts()).toEqual({ built: 1, liveRoutes: 2 });
    await replay.replay({ change });
    expect(counts()).toEqual({ built: 2, liveRoutes: 2 });
    registry.revision = 2;
    const removed = await replay.replay({ change: { delete: 'tickets' } });
    expect(counts()).toEqual({ built: 3, liveRoutes: 4 });
    expect(removed.changed.map((c) => [c.query, c.before])).toEqual([['show my open tickets', ['tickets']]]);
  });

  it('builds and caches a shadow "before" router while the live one is still training', async () => {
    const { replay, counts } = setup({ trained: false });
    await replay.replay({ change: { delete: 'tickets' } });
    await replay.replay({ change: { delete: 'cloud' } });
    // One "before" router for the revision, one "after" per replay; the live router is not asked.
    expect(counts()).toEqual({ built: 3, liveRoutes: 0 });
  });

  it('runs one replay at a time and refuses a limit out of range', async () => {
    let open!: () => void;
    const { replay } = setup({ gate: new Promise<void>((resolve) => (open = resolve)) });
    const first = replay.replay({ change: { delete: 'tickets' } });
    await expectAppError(replay.replay({ change: { delete: 'tickets' } }), 'rate_limited', /already running/);
    open();
    expect((await first).replayed).toBe(2);
    await expectAppError(
      replay.replay({ change: { delete: 'tickets' }, limit: 0 }),
      'validation_error',
      /limit/,
    );
    await expectAppError(replay.replay({ change: { delete: 'nobody' } }), 'agent_not_found');
  });

  it('trains and routes shadow routers in workers: one per replay, and a cached "before" one', async () => {
    const spawn = inThreadSpawn();
    const { replay, registry, counts } = setup({ trained: false, spawn });
    const removed = await replay.replay({ change: { delete: 'tickets' } });
    expect(removed.changed.map((c) => [c.query, c.before])).toEqual([['show my open tickets', ['tickets']]]);
    expect(removed.summary.newly_none + Object.keys(removed.summary.moved).length).toBeGreaterThan(0);
    await replay.replay({ change: { delete: 'cloud' } });
    expect(counts()).toEqual({ built: 0, liveRoutes: 0 });
    // "After" once per replay (closed when done), "before" once for the revision (kept).
    expect(spawn.workers.map((w) => w.terminated)).toEqual([true, false, true]);
    registry.revision = 2;
    await replay.replay({ change: { delete: 'cloud' } });
    expect(spawn.workers.map((w) => w.terminated)).toEqual([true, true, true, true, false]);
    replay.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(spawn.workers.every((w) => w.terminated)).toBe(true);
  });

  it('lets the event loop turn between pages of the log and while comparing the answers', async () => {
    // Counts the turns of the event loop while a replay runs: what a request waiting behind it would see.
    const turns = () => {
      let count = 0;
      let running = true;
      const tick = () => {
        count++;
        if (running) setImmediate(tick);
      };
      setImmediate(tick);
      return {
        now: () => count,
        stop: () => {
          running = false;
          return count;
        },
      };
    };
    const pages = [
      ['show my open tickets', 'our aws bill'],
      ['close ticket INC-1'],
      ['azure costs this quarter'],
    ];
    const run = async (sliceMs: number) => {
      const ticker = turns();
      const seen: number[] = [];
      const { replay } = setup({
        spawn: inThreadSpawn(),
        pages,
        sliceMs,
        onPage: () => seen.push(ticker.now()),
      });
      const result = await replay.replay({ change: { delete: 'tickets' } });
      replay.close();
      return { result, seen, turns: ticker.stop() };
    };
    const sliced = await run(0);
    expect(sliced.result.replayed).toBe(4);
    // Each page is read on a later turn than the one before.
    expect(sliced.seen).toHaveLength(3);
    for (let i = 1; i < 3; i++) expect(sliced.seen[i]).toBeGreaterThan(sliced.seen[i - 1]!);
    // With no time to spare, comparing yields before each of the 4 distinct queries.
    const whole = await run(60_000);
    expect(whole.result).toEqual(sliced.result);
    expect(sliced.turns - whole.turns).toBeGreaterThanOrEqual(4);
  });

  it("passes a failed shadow on as the replay's error, and does not cache it", async () => {
    let fail = true;
    // The "before" shadow (no change applied) fails.
    const spawn = inThreadSpawn((message, reply) => {
      if (message.type !== 'train' || (message as { change?: unknown }).change !== null || !fail)
        return false;
      reply({ type: 'failed', message: 'no memory' });
      return true;
    });
    const { replay } = setup({ trained: false, spawn });
    await expect(replay.replay({ change: { delete: 'tickets' } })).rejects.toThrow(/no memory/);
    fail = false;
    expect((await replay.replay({ change: { delete: 'tickets' } })).changed).toHaveLength(1);
  });

  it("gives worker shadows the live router's configured threshold", async () => {
    const spawn = inThreadSpawn();
    const live = new AgentRouter({ minConfidence: 0.99 });
    for (const r of AGENTS) live.upsert({ ...r, available: true });
    live.trainNow();
    const registry: ReplayRegistry = {
      revision: 1,
      list: () => AGENTS.map(makeRegisteredAgent),
      get: (name) => makeRegisteredAgent(AGENTS.find((r) => r.name === name)!),
      previewRegistration: async (input) => record(input.name!, []),
      previewCapabilities: (name, capabilities) => ({ ...record(name, []), capabilities }),
    };
    const replay = new RouteReplay({
      registry,
      live,
      decisions: {
        listDecisions: async () => ({ decisions: [decision('our aws bill')], next_cursor: null }),
      },
      newRouter: () => new AgentRouter(),
      spawn,
    });
    await replay.replay({ change: { update: { name: 'cloud', capabilities: {} } } });
    expect(spawn.data).toEqual([{ role: 'shadow', shadow: { minConfidence: 0.99 } }]);
    replay.close();
    live.close();
  });
});
