/**
 * @module test/support/records
 * Valid registry records and documents for tests.
 */
import type { AgentRecord, RegistryDocument } from '../../src/registry/agent-record.js';

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
