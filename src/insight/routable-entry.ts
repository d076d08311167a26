/**
 * @module insight/routable-entry
 * A registry entry as the router sees it: the one translation from registry records to `RoutableAgent`,
 * used by the live router's wiring and by the shadow routers of replays and probes.
 */
import type { AgentRecord } from '../registry/agent-record.js';
import type { RegisteredAgent } from '../registry/agent-registry.js';
import type { RoutableAgent } from '../routing/routable-agent.js';

export function toRoutable(entry: Pick<RegisteredAgent, 'record' | 'status'>): RoutableAgent {
  return routableRecord(entry.record, entry.status === 'available');
}

export function routableRecord(record: AgentRecord, available: boolean): RoutableAgent {
  return {
    name: record.name,
    description: record.description,
    tags: record.tags,
    capabilities: record.capabilities,
    enabled: record.enabled,
    available,
  };
}
