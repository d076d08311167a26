import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { AgentRouter, type RouteContext } from '../../src/routing/agent-router.js';
import { UNFITTED_THRESHOLD } from '../../src/routing/calibration.js';
import type { CandidateSelector, Selection, SelectionRequest } from '../../src/routing/candidate-selector.js';
import { seededRandom } from '../../src/routing/model-trainer.js';
import { DEMO_AGENTS, demoAgent, FINOPS, OXYGEN, TICKETS } from './demo-agents.js';

const NOW = new Date('2026-11-23T12:00:00.000Z');

/** The demo registry, trained (training runs in the background; tests wait for it like the bench does). */
async function demoRouter(options: ConstructorParameters<typeof AgentRouter>[0] = {}): Promise<AgentRouter> {
  const router = new AgentRouter({ now: () => NOW, contextTtlMs: 60_000, ...options });
  for (const agent of DEMO_AGENTS) router.upsert(agent);
  await router.whenTrained();
  return router;
}

function contextAt(agent: string | null, secondsAgo: number): RouteContext {
  return { last_agent_called: agent, updated_at: new Date(NOW.getTime() - secondsAgo * 1000).toISOString() };
}

describe('AgentRouter stage 1 and offline decision', () => {
  it('routes single-domain queries to the agent whose examples they resemble', async () => {
    const router = await demoRouter();
    expect((await router.route('list my tickets')).selected).toEqual(['tickets_agent']);
    expect((await router.route('cloud spend last month')).selected).toEqual(['finops_agent']);
    expect((await router.route('show my training progress please')).selected).toEqual(['oxygen_agent']);
  });

  it('returns calibrated candidate scores in 0..1, best first, at most top_k', async () => {
    const router = await demoRouter();
    const candidates = router.rank('my laptop screen is broken', 2);
    expect(candidates).toHaveLength(2);
    expect(candidates[0]!.name).toBe('tickets_agent');
    for (const { score } of candidates) expect(score).toBeGreaterThanOrEqual(0);
    for (const { score } of candidates) expect(score).toBeLessThanOrEqual(1);
    expect(candidates[0]!.score).toBeGreaterThan(candidates[1]!.score);
  });

  it('selects several agents when a query spans domains', async () => {
    const result = await (await demoRouter()).route("show my tickets and last month's cloud spend");
    expect([...result.selected].sort()).toEqual(['finops_agent', 'tickets_agent']);
    expect(result.follow_up).toBe(false);
  });

  it('selects no agent when none fits, but still reports candidates', async () => {
    const router = await demoRouter();
    for (const query of ["what's the weather in Paris", 'bake a chocolate cake']) {
      const result = await router.route(query);
      expect(result.selected).toEqual([]);
      for (const candidate of result.candidates) expect(candidate.score).toBeLessThan(0.4);
    }
  });

  it('returns nothing at all from an empty registry or for words no agent has seen', async () => {
    expect(await new AgentRouter().route('show my tickets')).toEqual({
      selected: [],
      candidates: [],
      follow_up: false,
    });
    expect((await (await demoRouter()).route('zzzz qqqq')).candidates).toEqual([]);
  });

  it('routes agents without examples from their description, name and capabilities', async () => {
    const router = await demoRouter();
    router.upsert(
      demoAgent({
        name: 'hr_agent',
        description: 'Human resources: vacation requests, payslips and leave balance',
        capabilities: { domains: ['human_resources'], operations: ['requestVacation'] },
      }),
    );
    expect(router.rank('how many vacation days do I have left', 1)[0]!.name).toBe('hr_agent');
    expect(router.rank('request vacation', 1)[0]!.name).toBe('hr_agent');
  });
});

describe('AgentRouter registry changes', () => {
  it('never offers disabled or unavailable agents as candidates', async () => {
    const router = await demoRouter();
    router.upsert({ ...TICKETS, enabled: false });
    router.upsert({ ...FINOPS, available: false });
    for (const query of [
      'show my open tickets',
      'how much did we spend on AWS last month',
      'show my training progress',
    ]) {
      const result = await router.route(query, { topK: 50 });
      expect(result.candidates.map((c) => c.name)).toEqual(
        ['oxygen_agent'].filter(() => result.candidates.length > 0),
      );
      expect(result.selected).not.toContain('tickets_agent');
      expect(result.selected).not.toContain('finops_agent');
    }
    // A disabled agent still owns its queries: they are not handed to a neighbour.
    expect((await router.route('show my open tickets')).selected).toEqual([]);
    router.upsert(TICKETS);
    expect((await router.route('show my open tickets')).selected).toEqual(['tickets_agent']);
  });

  it('updates incrementally: a new agent is routable at once, trained in the background, removable', async () => {
    const router = await demoRouter();
    expect((await router.route('reset my password for the HR portal')).selected).not.toContain('hr_agent');
    router.upsert(
      demoAgent({
        name: 'hr_agent',
        description: 'HR portal accounts',
        capabilities: { examples: ['reset my password for the HR portal', 'unlock my HR portal account'] },
      }),
    );
    expect(router.size).toBe(4);
    expect(router.trained).toBe(false);
    // Before its training the agent already competes, with an untrained scorer.
    expect(router.rank('reset my password for the HR portal', 1)[0]!.name).toBe('hr_agent');
    await router.whenTrained();
    expect(router.trained).toBe(true);
    expect((await router.route('reset my password for the HR portal')).selected).toEqual(['hr_agent']);
    // Changing an agent's examples moves its queries.
    router.upsert({
      ...OXYGEN,
      capabilities: { examples: ['book a meeting room', 'cancel my room booking'] },
    });
    expect(router.rank('book a meeting room for tomorrow', 1)[0]!.name).toBe('oxygen_agent');
    expect(router.remove('hr_agent')).toBe(true);
    expect(router.remove('hr_agent')).toBe(false);
    expect(router.size).toBe(3);
    expect(router.rank('reset my password for the HR portal', 50).map((c) => c.name)).not.toContain(
      'hr_agent',
    );
    await router.whenTrained();
    expect(router.rank('book a meeting room for tomorrow', 1)[0]!.name).toBe('oxygen_agent');
  });

  it('keeps learning across many small changes (local retraining and periodic rebuilds)', async () => {
    const router = await demoRouter();
    const buildsBefore = router.stats().builds;
    for (let i = 0; i < 30; i++) {
      router.upsert(
        demoAgent({
          name: `team_${i}`,
          description: `Team ${i} rota`,
          capabilities: { examples: [`who is on call for team ${i}`] },
        }),
      );
      if (i % 3 === 0) await router.whenTrained();
      router.rank('show my open tickets', 1);
    }
    await router.whenTrained();
    const stats = router.stats();
    expect(stats).toMatchObject({ agents: 33, trained: true, pendingAgents: 0 });
    // Adding ten times the documents drifts the word weights: at least one full rebuild happened.
    expect(stats.builds).toBeGreaterThan(buildsBefore);
    expect(stats.lastBuildMs).toBeGreaterThanOrEqual(0);
    expect(router.rank('show my open tickets', 1)[0]!.name).toBe('tickets_agent');
    expect(router.rank('cloud cost breakdown by service', 1)[0]!.name).toBe('finops_agent');
    expect(router.rank('who is on call for team 7', 1)[0]!.name).toMatch(/^team_/);
  });

  it('trains on demand for scripts that cannot wait (trainNow)', () => {
    const router = new AgentRouter();
    for (const agent of DEMO_AGENTS) router.upsert(agent);
    expect(router.stats()).toMatchObject({ agents: 3, trained: false, pendingAgents: 3, builds: 0 });
    router.trainNow();
    expect(router.stats()).toMatchObject({ trained: true, pendingAgents: 0, builds: 1 });
    expect(router.routeOffline('list my tickets').selected).toEqual(['tickets_agent']);
  });
});

describe('AgentRouter follow-ups', () => {
  it('sends an unroutable follow-up to the fresh last agent', async () => {
    const router = await demoRouter();
    for (const query of ['show details', 'and the second one?', 'what about last month?']) {
      const result = await router.route(query, { context: contextAt('tickets_agent', 10) });
      expect(result).toMatchObject({ selected: ['tickets_agent'], follow_up: true });
    }
  });

  it('keeps a follow-up that names no topic with whichever agent the session last used', async () => {
    const router = await demoRouter();
    for (const lastAgent of ['tickets_agent', 'finops_agent', 'oxygen_agent']) {
      for (const query of [
        'show details',
        'and the second one?',
        'what about last month?',
        'tell me more',
        'details of #2',
      ]) {
        const result = await router.route(query, { context: contextAt(lastAgent, 10) });
        expect(result, `${query} after ${lastAgent}`).toMatchObject({
          selected: [lastAgent],
          follow_up: true,
        });
      }
    }
  });

  it('routes a short follow-up that names its own topic on that topic', async () => {
    const router = await demoRouter();
    const result = await router.route('show details of our cloud spend', {
      context: contextAt('oxygen_agent', 10),
    });
    expect(result).toMatchObject({ selected: ['finops_agent'], follow_up: false });
  });

  it('ignores an expired context, a missing one and one naming a removed or disabled agent', async () => {
    const router = await demoRouter();
    const expired = await router.route('show details', { context: contextAt('tickets_agent', 61) });
    expect(expired).toMatchObject({ selected: [], follow_up: false });
    const missing = await router.route('show details', {
      context: { last_agent_called: null, updated_at: null },
    });
    expect(missing.follow_up).toBe(false);
    const invalidDate = await router.route('show details', {
      context: { last_agent_called: 'tickets_agent', updated_at: 'yesterday' },
    });
    expect(invalidDate.follow_up).toBe(false);
    router.upsert({ ...TICKETS, enabled: false });
    expect((await router.route('show details', { context: contextAt('tickets_agent', 10) })).follow_up).toBe(
      false,
    );
    router.remove('tickets_agent');
    expect((await router.route('show details', { context: contextAt('tickets_agent', 10) })).follow_up).toBe(
      false,
    );
  });

  it('routes a self-contained message on its own even with a context', async () => {
    const result = await (await demoRouter()).route('how much did we spend on AWS last month', {
      context: contextAt('tickets_agent', 10),
    });
    expect(result).toMatchObject({ selected: ['finops_agent'], follow_up: false });
  });
});

describe('AgentRouter validation', () => {
  it.each([
    ['', 5],
    ['   ', 5],
    ['x'.repeat(4001), 5],
    ['show my tickets', 0],
    ['show my tickets', 51],
    ['show my tickets', 2.5],
  ])('rejects query %j with top_k %d', async (query, topK) => {
    const router = await demoRouter();
    await expect(router.route(query, { topK })).rejects.toMatchObject({ code: 'validation_error' });
    expect(() => router.rank(query, topK)).toThrow(AppError);
  });
});

/** A stage-2 selector with canned behaviour: the LLM is the one thing outside our code. */
class CannedSelector implements CandidateSelector {
  readonly requests: SelectionRequest[] = [];
  constructor(private readonly answer: (request: SelectionRequest) => Promise<Selection>) {}
  select(request: SelectionRequest): Promise<Selection> {
    this.requests.push(request);
    return this.answer(request);
  }
}

describe('AgentRouter with a stage-2 selector', () => {
  it("uses the selector's choice and shows it the candidates and the fresh last agent", async () => {
    const selector = new CannedSelector(async () => ({ selected: ['oxygen_agent'], follow_up: false }));
    const router = await demoRouter({ selector });
    const result = await router.route('list my tickets', { topK: 1, context: contextAt('finops_agent', 5) });
    expect(result).toEqual({
      selected: ['oxygen_agent'],
      candidates: [expect.objectContaining({ name: 'tickets_agent' })],
      follow_up: false,
    });
    const request = selector.requests[0]!;
    expect(request.lastAgent).toBe('finops_agent');
    expect(request.candidates.length).toBe(3);
    expect(request.candidates[0]).toMatchObject({
      name: 'tickets_agent',
      description: TICKETS.description,
      examples: (TICKETS.capabilities.examples as string[]).slice(0, 3),
    });
  });

  it('falls back to the offline decision and logs a warning when the selector fails', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never;
    const router = await demoRouter({
      selector: new CannedSelector(() => Promise.reject(new Error('quota'))),
      logger,
    });
    expect((await router.route('list my tickets')).selected).toEqual(['tickets_agent']);
    expect(warnings).toHaveLength(1);
  });

  it("says what to ask each agent the selector chose, from the query's clauses", async () => {
    const selector = new CannedSelector(async () => ({
      selected: ['finops_agent', 'tickets_agent'],
      follow_up: false,
    }));
    const router = await demoRouter({ selector });
    const result = await router.route("show my tickets and last month's cloud spend");
    expect(result.parts).toEqual({
      finops_agent: "last month's cloud spend",
      tickets_agent: 'show my tickets',
    });
  });

  it('does not call the selector when there is nothing to choose from', async () => {
    const selector = new CannedSelector(async () => ({ selected: [], follow_up: false }));
    const router = new AgentRouter({ selector });
    expect((await router.route('list my tickets')).selected).toEqual([]);
    expect(selector.requests).toHaveLength(0);
  });
});

describe('AgentRouter answers from the registry content alone', () => {
  const extra = [
    demoAgent({
      name: 'hr_agent',
      description: 'Human resources: vacation requests, payslips and leave balance',
      capabilities: { examples: ['how many vacation days do I have left', 'download my payslip'] },
    }),
    demoAgent({ name: 'facilities_agent', description: 'Meeting rooms, parking and badges' }),
    demoAgent({
      name: 'travel_agent',
      description: 'Business travel',
      tags: ['travel'],
      capabilities: { examples: ['book a flight to Berlin', 'my hotel booking for next week'] },
    }),
  ];
  const queries = [
    'list my tickets',
    'how much did we spend on AWS last month',
    'book a parking spot for tomorrow',
    "show my tickets and last month's cloud spend",
    'bake a chocolate cake',
    'download my payslip and book a flight',
    'show details',
  ];
  const context = contextAt('tickets_agent', 10);

  function answers(agents: readonly (typeof TICKETS)[], churn: boolean) {
    const router = new AgentRouter({ now: () => NOW, contextTtlMs: 60_000 });
    for (const agent of agents) {
      router.upsert(agent);
      // A registry that got where it is by a detour: a change, a removal and a re-registration.
      if (churn) {
        router.trainNow();
        router.upsert({ ...agent, description: `${agent.description} (draft)` });
        router.remove(agent.name);
        router.upsert(agent);
      }
    }
    router.trainNow();
    const result = {
      stats: router.stats(),
      routes: queries.map((query) => router.routeOffline(query, { topK: 6, context })),
    };
    router.close();
    return result;
  }

  it('gives the same model and answers whatever order the agents were added in', () => {
    const agents = [...DEMO_AGENTS, ...extra];
    const reference = answers(agents, false);
    expect(reference.routes[0]!.selected).toEqual(['tickets_agent']);
    expect(reference.routes[3]!.selected).toHaveLength(2);
    const random = seededRandom(11);
    for (let round = 0; round < 4; round++) {
      const order = [...agents];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const other = answers(order, round % 2 === 1);
      expect(other.routes).toEqual(reference.routes);
      expect(other.stats.minConfidence).toBe(reference.stats.minConfidence);
      expect(other.stats.calibrationSamples).toEqual(reference.stats.calibrationSamples);
    }
  });

  it('trains the same model in slices as in one go', async () => {
    const sliced = new AgentRouter({ now: () => NOW });
    const whole = new AgentRouter({ now: () => NOW });
    for (const agent of [...DEMO_AGENTS, ...extra]) {
      sliced.upsert(agent);
      whole.upsert(agent);
    }
    whole.trainNow();
    await sliced.whenTrained();
    for (const query of queries) expect(sliced.routeOffline(query)).toEqual(whole.routeOffline(query));
  });
});

describe('AgentRouter "none fits" threshold', () => {
  it('is fitted from the registry by default, and ROUTER_MIN_CONFIDENCE overrides it', async () => {
    const fitted = await demoRouter();
    const stats = fitted.stats();
    expect(stats.minConfidenceSource).toBe('fitted');
    expect(stats.minConfidence).toBeGreaterThan(0);
    expect(stats.minConfidence).toBeLessThan(1);
    expect(stats.calibrationSamples.inScope).toBeGreaterThan(0);
    expect(stats.calibrationSamples.outOfScope).toBeGreaterThan(0);

    const strict = await demoRouter({ minConfidence: 1 });
    expect(strict.stats()).toMatchObject({ minConfidence: 1, minConfidenceSource: 'configured' });
    expect((await strict.route('list my tickets')).selected).toEqual([]);
    const lax = await demoRouter({ minConfidence: 0 });
    expect((await lax.route('bake a chocolate cake')).selected).toHaveLength(1);
    // The scores are the same; only the decision moved.
    expect(strict.rank('list my tickets')).toEqual(fitted.rank('list my tickets'));
  });

  it('falls back to a documented default while the registry is too small to fit one', () => {
    const router = new AgentRouter();
    router.upsert(TICKETS);
    router.trainNow();
    expect(router.stats()).toMatchObject({
      minConfidenceSource: 'default',
      minConfidence: UNFITTED_THRESHOLD,
    });
    expect(router.routeOffline('show my open tickets').selected).toEqual(['tickets_agent']);
    expect(router.routeOffline('bake a chocolate cake').selected).toEqual([]);
  });
});

describe('AgentRouter requests spanning agents', () => {
  it('says what to ask each selected agent', async () => {
    const router = await demoRouter();
    const result = router.routeOffline("show my tickets and last month's cloud spend");
    expect(result.parts).toEqual({
      tickets_agent: 'show my tickets',
      finops_agent: "last month's cloud spend",
    });
    expect(router.routeOffline('show my tickets').parts).toBeUndefined();
    // An agent no clause goes to gets the whole query.
    expect(router.partsFor('show my tickets', ['tickets_agent', 'oxygen_agent'])).toEqual({
      tickets_agent: 'show my tickets',
      oxygen_agent: 'show my tickets',
    });
  });
});
