/**
 * @module a2a/remote-agent-factory
 * How a remote A2A agent is stored and recreated. Its record is an ordinary registry record (the file format
 * is unchanged): `agent_type` "a2a", the factory named after ADK's `RemoteA2AAgent`, and `factory_params`
 * holding the card URL, the validated card, when it was fetched and, while the agent is unreachable, the
 * error. The factory is registered in-process for `agent_type` "a2a" (it never imports a module); it refuses
 * a record carrying an error, which is what makes the agent `unavailable` on every replica and in Jarvis.
 */
import { type BaseAgent, RemoteA2AAgent } from '@google/adk';
import { AppError } from '../errors.js';
import type { AgentFactory } from '../registry/agent-factory.js';
import type { FactoryConfig } from '../registry/agent-record.js';
import { storedCard } from './agent-card.js';
import type { HostGuard } from './host-guard.js';

export const A2A_AGENT_TYPE = 'a2a';

/** The factory part of every remote agent's record. */
export const A2A_FACTORY: Omit<FactoryConfig, 'factory_params'> = Object.freeze({
  agent_type: A2A_AGENT_TYPE,
  factory_module: '@google/adk/a2a',
  factory_function: 'RemoteA2AAgent',
});

/** What a remote agent's `factory_params` hold. */
export interface RemoteAgentParams {
  /** The ADK agent's name (the registry name). */
  readonly agent_name: string;
  readonly card_url: string;
  readonly card: Record<string, unknown>;
  /** When the card was last fetched successfully. */
  readonly fetched_at: string;
  /** Why the last fetch failed; present only while the agent is unreachable. */
  readonly error?: string;
}

/**
 * The `a2a` factory: a `RemoteA2AAgent` over the stored card. Throws (the agent is unavailable) when the
 * record carries the last fetch's error, has no card, or the card's URL is not on an allowed host.
 */
export function remoteAgentFactory(guard: HostGuard): AgentFactory {
  return (params): BaseAgent => {
    if (typeof params.error === 'string') {
      throw new AppError('card_fetch_failed', params.error);
    }
    const card = storedCard(params);
    if (card === undefined || typeof params.agent_name !== 'string') {
      throw new AppError('invalid_agent_card', 'This A2A record has no agent card; refresh it');
    }
    guard.checkUrl(card.url, "the agent card's url");
    return new RemoteA2AAgent({ name: params.agent_name, description: card.description, agentCard: card });
  };
}
