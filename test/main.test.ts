/**
 * The composition root's seam: the core registers no agent of its own and hands factories Gemini (with a key)
 * or the configured model name; the default registrations and the model come in through `ServiceOptions`.
 */
import { Gemini, LlmAgent } from '@google/adk';
import { describe, expect, it } from 'vitest';
import { demoServiceOptions } from '../jarvis_agent/demo-service.js';
import { OfflineLlm } from '../jarvis_agent/offline-model/offline-llm.js';
import { startService } from './support/service.js';

function modelOf(service: Awaited<ReturnType<typeof startService>>, name: string): unknown {
  const agent = service.service.registry.get(name)?.agent;
  expect(agent).toBeInstanceOf(LlmAgent);
  return (agent as LlmAgent).model;
}

describe('the composition root', () => {
  it('registers nothing on the first start unless default registrations are passed in', async () => {
    const bare = await startService({}, undefined, { defaultRegistrations: undefined });
    expect(bare.service.registry.size).toBe(0);
    const demo = await startService();
    expect(
      demo.service.registry
        .list()
        .map((entry) => entry.record.name)
        .sort(),
    ).toEqual(['finops_agent', 'oxygen_agent', 'tickets_agent']);
    expect(modelOf(demo, 'tickets_agent')).toBeInstanceOf(OfflineLlm);
  });

  it('hands factories Gemini with GOOGLE_API_KEY, else the model name, when no model is passed in', async () => {
    const registrations = demoServiceOptions().defaultRegistrations;
    const keyed = await startService({ GOOGLE_API_KEY: 'test-key' }, undefined, {
      agentModel: undefined,
      defaultRegistrations: registrations,
    });
    expect(modelOf(keyed, 'tickets_agent')).toBeInstanceOf(Gemini);
    const named = await startService({ GEMINI_MODEL: 'gemini-test' }, undefined, {
      agentModel: undefined,
      defaultRegistrations: registrations,
    });
    expect(modelOf(named, 'tickets_agent')).toBe('gemini-test');
  });
});
