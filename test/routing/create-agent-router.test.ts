import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { createAgentRouter } from '../../src/routing/create-agent-router.js';
import { DEMO_AGENTS } from './demo-agents.js';

const base = {
  routerContextTtlSeconds: 60,
  geminiModel: 'gemini-2.5-flash',
  routerLlmTimeoutMs: 200,
  routerMinConfidence: undefined,
};

describe('createAgentRouter', () => {
  it('without a Google API key routes offline, with the configured context lifetime', async () => {
    const router = createAgentRouter({ ...base, googleApiKey: undefined }, silentLogger());
    for (const agent of DEMO_AGENTS) router.upsert(agent);
    router.trainNow();
    const fresh = new Date(Date.now() - 30_000).toISOString();
    const stale = new Date(Date.now() - 90_000).toISOString();
    expect(
      await router.route('show details', {
        context: { last_agent_called: 'oxygen_agent', updated_at: fresh },
      }),
    ).toMatchObject({
      selected: ['oxygen_agent'],
      follow_up: true,
    });
    expect(
      (
        await router.route('show details', {
          context: { last_agent_called: 'oxygen_agent', updated_at: stale },
        })
      ).follow_up,
    ).toBe(false);
    router.close();
  });

  it('with a key asks Gemini, and falls back to the offline decision when Gemini cannot be reached in time', async () => {
    const router = createAgentRouter({ ...base, googleApiKey: 'not-a-real-key' }, silentLogger());
    for (const agent of DEMO_AGENTS) router.upsert(agent);
    router.trainNow();
    const result = await router.route('show my open tickets');
    expect(result).toEqual(router.routeOffline('show my open tickets'));
    expect(result.selected).toEqual(['tickets_agent']);
    router.close();
  });

  it('takes the "none fits" threshold from ROUTER_MIN_CONFIDENCE when it is set', () => {
    const router = createAgentRouter(
      { ...base, googleApiKey: undefined, routerMinConfidence: 0.42 },
      silentLogger(),
    );
    for (const agent of DEMO_AGENTS) router.upsert(agent);
    router.trainNow();
    expect(router.stats()).toMatchObject({ minConfidence: 0.42, minConfidenceSource: 'configured' });
    router.close();
  });
});
