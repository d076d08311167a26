import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LlmAgent } from '@google/adk';
import { describe, expect, it } from 'vitest';
import * as factoryModule from '../../../jarvis_agent/mcp_agents/agent_factory.js';
import {
  create_finops_agent,
  create_generic_agent,
  create_oxygen_agent,
  create_tickets_agent,
} from '../../../jarvis_agent/mcp_agents/agent_factory.js';
import { DEMO_AGENTS, DEMO_FACTORY_MODULE } from '../../../jarvis_agent/mcp_agents/demo-agents.js';
import { OFFLINE_MODEL_MARKER, OfflineLlm } from '../../../jarvis_agent/offline-model/offline-llm.js';
import type { AgentFactory, AgentFactoryContext } from '../../../src/registry/agent-factory.js';
import { tokenize } from '../../../src/text/text-analysis.js';
import { startChat } from '../offline-model/adk-chat.js';

/** The factories by name, as the registry looks them up from `factory_function`. */
const FACTORIES: Readonly<Record<string, AgentFactory>> = {
  create_tickets_agent,
  create_finops_agent,
  create_oxygen_agent,
  create_generic_agent,
};
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const context = (): AgentFactoryContext => ({ model: new OfflineLlm() });

describe('jarvis_agent.mcp_agents.agent_factory', () => {
  it('resolves from the seed module path and exports exactly the four factories', () => {
    expect(DEMO_FACTORY_MODULE).toBe('jarvis_agent.mcp_agents.agent_factory');
    expect(existsSync(path.join(ROOT, `${DEMO_FACTORY_MODULE.replaceAll('.', '/')}.ts`))).toBe(true);
    expect(Object.keys(factoryModule).sort()).toEqual([
      'create_finops_agent',
      'create_generic_agent',
      'create_oxygen_agent',
      'create_tickets_agent',
    ]);
    for (const factory of Object.values(factoryModule)) expect(typeof factory).toBe('function');
  });

  it('builds named LlmAgents with tools on the model from the context', () => {
    const model = new OfflineLlm();
    const agents = [
      create_tickets_agent({}, { model }),
      create_finops_agent({}, { model }),
      create_oxygen_agent({}, { model }),
    ];
    expect(agents.map((a) => a.name)).toEqual(['tickets_agent', 'finops_agent', 'oxygen_agent']);
    for (const agent of agents) {
      expect(agent).toBeInstanceOf(LlmAgent);
      expect(agent.model).toBe(model);
      expect(agent.description.length).toBeGreaterThan(40);
    }
    // A Gemini model name is passed through for ADK to resolve.
    expect(create_tickets_agent({}, { model: 'gemini-2.5-flash' }).model).toBe('gemini-2.5-flash');
  });

  it('refuses params the demo factories would ignore, and a missing model', () => {
    expect(() => create_tickets_agent({ name: 'x' }, context())).toThrow(
      'create_tickets_agent takes no factory_params (use {}), got: name',
    );
    expect(() => create_finops_agent([] as never, context())).toThrow('got: (not an object)');
    expect(() => create_oxygen_agent(undefined as never, context())).not.toThrow();
    expect(() => create_oxygen_agent({}, undefined as never)).toThrow(
      "create_oxygen_agent needs the host's model in its context",
    );
    expect(() => create_generic_agent({ name: 'a', description: 'b' }, { model: '' })).toThrow(
      'none was given',
    );
  });
});

describe('demo agents end to end on the offline model (ADK Runner)', () => {
  it('tickets: lists open tickets, then shows the second one', async () => {
    const chat = await startChat(create_tickets_agent({}, context()));
    const listing = await chat('show my open tickets');
    expect(listing.calls).toEqual([{ name: 'list_tickets', args: { status: 'open' } }]);
    for (const id of ['INC-1001', 'INC-1002', 'INC-1004', 'INC-1009']) expect(listing.text).toContain(id);
    expect(listing.text).not.toContain('INC-1003');
    expect(listing.text.endsWith(OFFLINE_MODEL_MARKER)).toBe(true);

    const tickets = listing.responses[0]?.response.tickets as { id: string; title: string }[];
    const details = await chat('show details of the second one');
    expect(details.calls).toEqual([{ name: 'get_ticket_details', args: { ticket_id: tickets[1]?.id } }]);
    expect(details.text).toContain(`title: ${tickets[1]?.title}`);
    expect(details.text).toContain('description: ');
    expect(details.text).toContain(OFFLINE_MODEL_MARKER);
  });

  it("finops: reports last month's cloud spend", async () => {
    const chat = await startChat(create_finops_agent({}, context()));
    const turn = await chat('what did we spend on cloud last month');
    expect(turn.calls).toEqual([{ name: 'get_cloud_spend', args: { period: 'last_month' } }]);
    expect(turn.text).toMatch(/^Result of get_cloud_spend \(period: last_month\):\nperiod: \d{4}-\d{2}\n/);
    expect(turn.text).toContain('total usd: 93,150');
    expect(turn.text).toContain('- bigquery (amount usd: 17,400)');
    expect(turn.text).toContain('- platform (amount usd: 36,700)');
    expect(turn.text).toContain(OFFLINE_MODEL_MARKER);
  });

  it('oxygen: lists courses due this week, then shows the second one', async () => {
    const chat = await startChat(create_oxygen_agent({}, context()));
    const due = await chat('which courses are due this week');
    expect(due.calls).toEqual([{ name: 'upcoming_deadlines', args: { days: 7 } }]);
    const ids = [...due.text.matchAll(/^- (CRS-\d+)/gm)].map((m) => m[1]);
    expect(ids).toEqual(['CRS-109', 'CRS-101', 'CRS-102', 'CRS-110']);
    expect(due.text).toContain('status: overdue');

    const details = await chat('show details of the second one');
    expect(details.calls).toEqual([{ name: 'get_course_details', args: { course_id: 'CRS-101' } }]);
    expect(details.text).toContain('title: Annual Security Awareness');
    expect(details.text).toContain('progress pct: 60');
  });
});

describe('create_generic_agent', () => {
  it('builds a tool-less agent that says what it is for on the offline model', async () => {
    const agent = create_generic_agent(
      { name: 'hr_policy_agent', description: 'Answers questions about HR policies.' },
      context(),
    );
    expect(agent.name).toBe('hr_policy_agent');
    expect(agent.description).toBe('Answers questions about HR policies.');
    expect(agent.tools).toEqual([]);
    const turn = await (await startChat(agent))('how many holidays do I get?');
    expect(turn.calls).toEqual([]);
    expect(turn.text).toBe(
      "I'm hr_policy_agent: Answers questions about HR policies. On the offline model I cannot answer " +
        `free-form questions, so I can only tell you what I am for.\n\n${OFFLINE_MODEL_MARKER}`,
    );
  });

  it('keeps a custom instruction literal, braces included', async () => {
    const agent = create_generic_agent(
      {
        name: 'Übersetzer-2',
        description: '  Translates text.  ',
        instruction: 'Reply as JSON: {"text": ...}',
      },
      context(),
    );
    expect(agent.description).toBe('Translates text.');
    const turn = await (await startChat(agent))('translate hello');
    expect(turn.text).toContain("I'm Übersetzer-2: Translates text.");
    // A blank instruction falls back to the default one.
    expect(() =>
      create_generic_agent({ name: 'a', description: 'b', instruction: ' ' }, context()),
    ).not.toThrow();
  });

  it.each([
    [null, 'must be an object {name, description, instruction?}, got null'],
    [['x'], 'got an array'],
    [
      { name: 'a', description: 'b', model: 'gpt' },
      'unknown field(s) model; accepted: name, description, instruction',
    ],
    [
      { description: 'b' },
      '.name is required: a non-empty string such as "hr_policy_agent", got a undefined',
    ],
    [
      { name: 42, description: 'b' },
      '.name is required: a non-empty string such as "hr_policy_agent", got a number',
    ],
    [{ name: 'hr agent', description: 'b' }, '.name "hr agent" is not a valid agent name'],
    [{ name: '1agent', description: 'b' }, 'must start with a letter or an underscore'],
    [{ name: 'a.b', description: 'b' }, 'not a valid agent name'],
    [{ name: 'user', description: 'b' }, '.name cannot be "user"'],
    [
      { name: 'a', description: '  ' },
      '.description is required: a non-empty string saying what the agent is for, got "  "',
    ],
    [{ name: 'a' }, '.description is required'],
    [
      { name: 'a', description: 'b', instruction: 7 },
      '.instruction must be a string when given, got a number',
    ],
  ])('refuses %j with a message naming the problem', (params, message) => {
    expect(() => create_generic_agent(params as never, context())).toThrow(message);
  });
});

describe('DEMO_AGENTS', () => {
  it('are the three registration bodies, frozen, pointing at exported factories', () => {
    expect(DEMO_AGENTS.map((a) => a.agent_type)).toEqual(['tickets', 'finops', 'oxygen']);
    expect(Object.isFrozen(DEMO_AGENTS)).toBe(true);
    for (const registration of DEMO_AGENTS) {
      expect(Object.keys(registration).sort()).toEqual([
        'agent_type',
        'capabilities',
        'factory_function',
        'factory_module',
        'factory_params',
        'tags',
      ]);
      expect(registration.factory_module).toBe(DEMO_FACTORY_MODULE);
      expect(registration.factory_params).toEqual({});
      expect(Object.isFrozen(registration.capabilities.examples)).toBe(true);
      expect(registration.tags).toContain('demo');
      expect(registration.capabilities.domains.length).toBeGreaterThan(0);
      // The module exports exactly these factories (checked above), so this is the registry's lookup.
      expect(typeof FACTORIES[registration.factory_function]).toBe('function');
    }
  });

  it("list each agent's tools as operations and 15-25 distinct examples", async () => {
    for (const registration of DEMO_AGENTS) {
      const agent = (await FACTORIES[registration.factory_function]?.({}, context())) as LlmAgent;
      const toolNames = agent.tools.map((t) => (t as { name: string }).name);
      expect(registration.capabilities.operations).toEqual(toolNames);
      const examples = registration.capabilities.examples;
      expect(examples.length).toBeGreaterThanOrEqual(15);
      expect(examples.length).toBeLessThanOrEqual(25);
      expect(new Set(examples.map((e) => e.toLowerCase())).size).toBe(examples.length);
    }
  });

  it('have examples that a bag-of-words router tells apart (leave one out)', () => {
    // Each example is scored against every agent's other examples: sum of log(1 + how often the agent's
    // examples use each of its words). A crude stand-in for the router, but ambiguity shows up here first.
    const counts = DEMO_AGENTS.map((a) => a.capabilities.examples.map((e) => new Set(tokenize(e))));
    const misrouted: string[] = [];
    DEMO_AGENTS.forEach((registration, owner) => {
      registration.capabilities.examples.forEach((example, index) => {
        const scores = counts.map((examples, agent) => {
          const others = examples.filter((_, i) => agent !== owner || i !== index);
          return [...new Set(tokenize(example))].reduce(
            (sum, word) => sum + Math.log(1 + others.filter((e) => e.has(word)).length),
            0,
          );
        });
        const best = Math.max(...scores);
        if (scores[owner] !== best || scores.filter((score) => score === best).length > 1)
          misrouted.push(example);
      });
    });
    expect(misrouted).toEqual([]);
  });
});
