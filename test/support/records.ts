/**
 * @module test/support/records
 * Valid registry records and documents, registry entries and routing decisions for tests.
 */
import type { AgentRecord, RegistryDocument } from '../../src/registry/agent-record.js';
import type { RegisteredAgent } from '../../src/registry/agent-registry.js';
import type { RoutingDecision } from '../../src/sessions/routing-decision.js';

export function makeRecord(name: string, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    name,
    description: `${name} description`,
    agent_type: 'test',
    factory_module: 'test_factories',
    factory_function: 'create_echo_agent',
    factory_params: { name },
    capabilities: { examples: [`ask ${name} something`] },
    tags: ['test'],
    enabled: true,
    registered_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function makeDocument(
  names: readonly string[],
  lastUpdated = '2026-01-02T00:00:00.000Z',
): RegistryDocument {
  return {
    version: '1.0.0',
    last_updated: lastUpdated,
    agents: Object.fromEntries(names.map((name) => [name, makeRecord(name)])),
  };
}

/**
 * A record that says nothing but its name and `examples` (no tags, the name as description), for tests of
 * what the router makes of the examples alone.
 */
export function makeExamplesRecord(
  name: string,
  examples: string[],
  overrides: Partial<AgentRecord> = {},
): AgentRecord {
  return {
    name,
    description: name,
    agent_type: 't',
    factory_module: 'm',
    factory_function: 'f',
    factory_params: {},
    capabilities: { examples },
    tags: [],
    enabled: true,
    registered_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** `record` as the registry holds it: version 1, available, no live ADK agent. */
export function makeRegisteredAgent(record: AgentRecord): RegisteredAgent {
  return { record, version: 1, agent: undefined, status: 'available' } as unknown as RegisteredAgent;
}

/** A logged routing decision for `query` that selected nothing, outside any session. */
export function makeDecision(query: string, overrides: Partial<RoutingDecision> = {}): RoutingDecision {
  return {
    at: '2026-01-01T00:00:00.000Z',
    query,
    query_hashed: false,
    candidates: [],
    selected: [],
    follow_up: false,
    revision: 1,
    session_id: null,
    ...overrides,
  };
}
