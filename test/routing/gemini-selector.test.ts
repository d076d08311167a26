import { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { AgentRouter } from '../../src/routing/agent-router.js';
import type { SelectionRequest } from '../../src/routing/candidate-selector.js';
import {
  GeminiSelector,
  type GenerateContentClient,
  parseSelection,
} from '../../src/routing/gemini-selector.js';
import { DEMO_AGENTS } from './demo-agents.js';

type Params = Parameters<GenerateContentClient['models']['generateContent']>[0];

/** A fake Gemini: answers each call from a canned function and records what it was asked. */
function fakeClient(answer: (params: Params) => Promise<{ text?: string }>) {
  const calls: Params[] = [];
  const client: GenerateContentClient = {
    models: {
      generateContent: (params) => {
        calls.push(params);
        return answer(params);
      },
    },
  };
  return { client, calls };
}

const REQUEST: SelectionRequest = {
  query: 'show my tickets',
  lastAgent: 'finops_agent',
  candidates: [
    { name: 'tickets_agent', description: 'IT tickets', examples: ['show my open tickets'], score: 0.9 },
    { name: 'oxygen_agent', description: 'Courses', examples: [], score: 0.1 },
  ],
};

function routerWith(client: GenerateContentClient, timeoutMs = 1000) {
  const warnings: unknown[] = [];
  const logger = { warn: (...args: unknown[]) => warnings.push(args) } as never;
  const router = new AgentRouter({
    selector: new GeminiSelector({ client, model: 'gemini-test', timeoutMs }),
    logger,
  });
  for (const agent of DEMO_AGENTS) router.upsert(agent);
  router.trainNow();
  return { router, warnings };
}

describe('GeminiSelector', () => {
  it('fits the real @google/genai client type', () => {
    const client: GenerateContentClient = new GoogleGenAI({ apiKey: 'unused-offline' });
    expect(typeof client.models.generateContent).toBe('function');
  });

  it('asks for JSON with the query, candidates and last agent, and returns a validated selection', async () => {
    const { client, calls } = fakeClient(async () => ({
      text: '{"selected": ["tickets_agent"], "follow_up": false}',
    }));
    const selector = new GeminiSelector({ client, model: 'gemini-test', timeoutMs: 1000 });
    expect(await selector.select(REQUEST)).toEqual({ selected: ['tickets_agent'], follow_up: false });
    const call = calls[0]!;
    expect(call.model).toBe('gemini-test');
    expect(call.config?.responseMimeType).toBe('application/json');
    expect(JSON.parse(call.contents)).toMatchObject({
      message: 'show my tickets',
      previous_agent: 'finops_agent',
      candidates: [{ name: 'tickets_agent' }, { name: 'oxygen_agent' }],
    });
  });

  it('accepts the last agent as a follow-up and drops duplicate names', () => {
    expect(
      parseSelection('{"selected": ["finops_agent", "finops_agent"], "follow_up": true}', REQUEST),
    ).toEqual({
      selected: ['finops_agent'],
      follow_up: true,
    });
    // follow_up is only true when the last agent is actually selected.
    expect(parseSelection('{"selected": ["tickets_agent"], "follow_up": true}', REQUEST).follow_up).toBe(
      false,
    );
    expect(parseSelection('{"selected": [], "follow_up": false}', { ...REQUEST, lastAgent: null })).toEqual({
      selected: [],
      follow_up: false,
    });
  });

  it.each([
    ['invalid JSON', 'not json'],
    ['no text', undefined],
    ['not an object', '["tickets_agent"]'],
    ['null', 'null'],
    ['no selected array', '{"follow_up": false}'],
    ['non-string names', '{"selected": [1], "follow_up": false}'],
    ['an unknown name', '{"selected": ["weather_agent"], "follow_up": false}'],
  ])('rejects an answer with %s', (_, text) => {
    expect(() => parseSelection(text, REQUEST)).toThrow(expect.objectContaining({ code: 'upstream_error' }));
  });

  it('uses the LLM answer in the router', async () => {
    const { client } = fakeClient(async () => ({
      text: '{"selected": ["finops_agent"], "follow_up": false}',
    }));
    const { router, warnings } = routerWith(client);
    expect((await router.route('list my tickets')).selected).toEqual(['finops_agent']);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['invalid JSON', async () => ({ text: '{"selected": [' })],
    ['an unknown agent', async () => ({ text: '{"selected": ["weather_agent"], "follow_up": false}' })],
    ['an error', () => Promise.reject(new Error('503 overloaded'))],
  ])('falls back to the offline decision on %s', async (_, answer) => {
    const { client } = fakeClient(answer);
    const { router, warnings } = routerWith(client);
    expect((await router.route('list my tickets')).selected).toEqual(['tickets_agent']);
    expect(warnings).toHaveLength(1);
  });

  it('falls back on timeout and aborts the call', async () => {
    let signal: AbortSignal | undefined;
    const { client } = fakeClient((params) => {
      signal = params.config?.abortSignal;
      return new Promise((_, reject) =>
        signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    });
    const { router, warnings } = routerWith(client, 20);
    const result = await router.route('show details', {
      context: { last_agent_called: 'finops_agent', updated_at: new Date().toISOString() },
    });
    expect(result).toMatchObject({ selected: ['finops_agent'], follow_up: true });
    expect(signal?.aborted).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(String((warnings[0] as [{ err: Error }])[0].err.message)).toMatch(/did not answer within 20 ms/);
  });
});
