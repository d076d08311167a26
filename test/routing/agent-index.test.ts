import { describe, expect, it } from 'vitest';
import { AgentIndex } from '../../src/routing/agent-index.js';
import { DEFAULT_TRAINING } from '../../src/routing/model-trainer.js';
import { DEMO_AGENTS, demoAgent, FINOPS, TICKETS } from './demo-agents.js';

/** Many small agents, so a full build spans many slices (one unit of work per slice with `sliceMs: 0`). */
function topicAgents(count: number) {
  const topics = ['invoice', 'printer', 'vacation', 'laptop', 'badge', 'parking', 'salary', 'meeting'];
  return Array.from({ length: count }, (_, i) =>
    demoAgent({
      name: `agent_${i}`,
      description: `${topics[i % topics.length]} desk ${i}`,
      capabilities: { examples: [`help with my ${topics[i % topics.length]} number ${i}`] },
    }),
  );
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('AgentIndex background training', () => {
  it('serves queries from the untrained model while a build runs, then adopts the build whole', async () => {
    const index = new AgentIndex({ settings: { sliceMs: 0 } });
    for (const agent of DEMO_AGENTS) index.upsert(agent);
    expect(index.stats()).toMatchObject({ trained: false, builds: 0, pendingAgents: 3 });
    expect(index.search('show my open tickets').hits[0]?.name).toBe('tickets_agent');
    await turn();
    expect(index.stats().builds).toBe(0);
    await index.whenTrained();
    expect(index.stats()).toMatchObject({ trained: true, builds: 1, pendingAgents: 0 });
    expect(index.stats().longestSliceMs).toBeGreaterThan(0);
    expect(index.search('show my open tickets').hits[0]?.name).toBe('tickets_agent');
  });

  it('re-applies changes made while a build ran: added, replaced and removed agents', async () => {
    const index = new AgentIndex({ settings: { sliceMs: 0 } });
    for (const agent of [...topicAgents(40), TICKETS]) index.upsert(agent);
    await turn();
    await turn();
    // The build has started (its snapshot is taken); change the registry under it.
    index.upsert(FINOPS);
    index.upsert({ ...TICKETS, capabilities: { examples: ['renew my parking permit'] } });
    expect(index.remove('agent_3')).toBe(true);
    expect(index.remove('agent_3')).toBe(false);
    await index.whenTrained();
    expect(index.stats()).toMatchObject({ trained: true, pendingAgents: 0 });
    expect(index.size).toBe(41);
    expect(index.search('how much did we spend on AWS last month').hits[0]?.name).toBe('finops_agent');
    expect(index.search('renew my parking permit').hits[0]?.name).toBe('tickets_agent');
    expect(index.search('help with my badge number 3').hits.map((hit) => hit.name)).not.toContain('agent_3');
  });

  it('drops a local retraining of an agent that changed again meanwhile, and retrains it afresh', async () => {
    const index = new AgentIndex({ settings: { sliceMs: 0 } });
    for (const agent of DEMO_AGENTS) index.upsert(agent);
    await index.whenTrained();
    const hr = (examples: string[]) => demoAgent({ name: 'hr_agent', capabilities: { examples } });
    index.upsert(hr(['request vacation days']));
    await turn();
    index.upsert(hr(['download my payslip']));
    await index.whenTrained();
    expect(index.search('download my payslip').hits[0]?.name).toBe('hr_agent');
    expect(index.get('hr_agent')?.examples).toEqual(['download my payslip']);
  });

  it('keeps enabling and disabling cheap: the documents are unchanged, nothing is retrained', async () => {
    const index = new AgentIndex();
    for (const agent of DEMO_AGENTS) index.upsert(agent);
    await index.whenTrained();
    index.upsert({ ...TICKETS, enabled: false });
    expect(index.stats()).toMatchObject({ trained: true, pendingAgents: 0 });
    expect(index.search('show my open tickets').hits[0]).toMatchObject({
      name: 'tickets_agent',
      routable: false,
    });
  });

  it('reports agent affinity: close intents share rare words, distinct domains only common ones', async () => {
    const index = new AgentIndex();
    const pending = (name: string, what: string) =>
      demoAgent({
        name,
        capabilities: { examples: [`why is my ${what} still pending`, `${what} pending for days`] },
      });
    for (const agent of [
      ...DEMO_AGENTS,
      pending('pending_payment', 'card payment'),
      pending('pending_top_up', 'top up'),
    ]) {
      index.upsert(agent);
    }
    index.trainNow();
    expect(index.affinity('tickets_agent', 'tickets_agent').cosine).toBeCloseTo(1, 5);
    const distinct = index.affinity('tickets_agent', 'finops_agent');
    const close = index.affinity('pending_payment', 'pending_top_up');
    expect(close.distinctive).toBeGreaterThan(distinct.distinctive);
    expect(close.cosine).toBeGreaterThan(distinct.cosine);
    expect(index.affinity('tickets_agent', 'nobody')).toEqual({ cosine: 0, distinctive: 0 });
  });

  it('gives no weights to features nearly every agent shares in a large registry, and handles long texts', () => {
    const pruned = new AgentIndex({
      settings: { training: { ...DEFAULT_TRAINING, commonShare: 0, minCommonCount: 8 } },
    });
    const full = new AgentIndex();
    for (const index of [pruned, full]) {
      for (const agent of [...topicAgents(12), ...DEMO_AGENTS]) index.upsert(agent);
      index.trainNow();
      expect(index.stats().builds).toBe(1);
      expect(index.search('how much did we spend on AWS last month').hits[0]?.name).toBe('finops_agent');
    }
    // "help with my ... number" is in twelve agents: past eight, it tells none of them apart.
    expect(pruned.search('help with my number').hits).toEqual([]);
    expect(full.search('help with my number').hits.length).toBeGreaterThan(0);
    expect(pruned.search('help with my parking').hits[0]?.name).toMatch(/^agent_/);
    // A long message: hundreds of distinct n-grams in one text.
    const long = Array.from({ length: 120 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${i}`).join(
      ' ',
    );
    expect(full.search(`${long} show my open tickets`).hits.length).toBeGreaterThan(0);
  });
});
