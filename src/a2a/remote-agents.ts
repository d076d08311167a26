/**
 * @module a2a/remote-agents
 * Remote A2A agents in the registry: registered by card URL (the card fetched safely, validated, stored with
 * the record, the router taught its skills' examples), re-fetched on a schedule and on demand. A card that
 * cannot be fetched or no longer validates marks the agent `unavailable` with the error (stored, so every
 * replica and Jarvis see it); the agent is never removed, and the next good fetch makes it available again.
 */
import { type Static, Type } from 'typebox';
import { AppError, isAppError, messageOf } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { AgentFactoryResolver } from '../registry/agent-factory-resolver.js';
import {
  AgentName,
  assertAgentName,
  Capabilities,
  type CapabilitiesValue,
  RECORD_LIMITS,
  REMOTE_A2A_AGENT_TYPE,
  Tags,
} from '../registry/agent-record.js';
import type { AgentRegistry, RegisteredAgent } from '../registry/agent-registry.js';
import type { ChangeOptions } from '../registry/registry-store.js';
import { assertJsonValue } from '../safe-json.js';
import { compileValidator } from '../schema-validator.js';
import { agentNameFromCard, capabilitiesFromCard, storedCard, validateRemoteCard } from './agent-card.js';
import type { CardFetcher } from './card-fetcher.js';
import type { HostGuard } from './host-guard.js';
import { A2A_FACTORY, type RemoteAgentParams } from './remote-agent-factory.js';

/** `POST /registry/agents` for a remote agent. */
export const A2aRegistrationSchema = Type.Object(
  {
    agent_type: Type.Literal(REMOTE_A2A_AGENT_TYPE),
    card_url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'Where the agent card is served (http or https, on a host in A2A_ALLOWED_HOSTS).',
      examples: ['http://127.0.0.1:8100/.well-known/agent-card.json'],
    }),
    name: Type.Optional(AgentName),
    capabilities: Type.Optional(Capabilities),
    tags: Type.Optional(Tags),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        agent_type: 'a2a',
        card_url: 'http://127.0.0.1:8100/.well-known/agent-card.json',
        tags: ['remote'],
      },
    ],
  },
);
export type A2aRegistration = Static<typeof A2aRegistrationSchema>;

export const RefreshResultSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('refreshed'), Type.Literal('unchanged'), Type.Literal('unavailable')], {
      description:
        '`refreshed`: the card changed (or the agent came back) and was stored; `unchanged`: the same card; ' +
        '`unavailable`: the card could not be fetched or validated, the agent is marked unavailable.',
    }),
    agent_name: AgentName,
    error: Type.Optional(Type.String()),
  },
  { additionalProperties: false, examples: [{ status: 'refreshed', agent_name: 'weather_agent' }] },
);
export type RefreshResult = Static<typeof RefreshResultSchema>;

/** Runs `task` every `ms`; returns how to stop it. Tests inject a manual one. */
export type Every = (ms: number, task: () => void) => () => void;

const realEvery: Every = (ms, task) => {
  const timer = setInterval(task, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export interface RemoteAgentsOptions {
  registry: AgentRegistry;
  resolver: AgentFactoryResolver;
  fetcher: CardFetcher;
  guard: HostGuard;
  logger?: Logger;
  now?: () => Date;
  /** How often every remote card is re-fetched (0 disables the schedule). */
  refreshIntervalMs: number;
  every?: Every;
}

const validateRegistration = compileValidator(A2aRegistrationSchema, 'A2A agent registration');

export class RemoteAgents {
  private readonly registry: AgentRegistry;
  private readonly resolver: AgentFactoryResolver;
  private readonly fetcher: CardFetcher;
  private readonly guard: HostGuard;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly intervalMs: number;
  private readonly every: Every;
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(options: RemoteAgentsOptions) {
    this.registry = options.registry;
    this.resolver = options.resolver;
    this.fetcher = options.fetcher;
    this.guard = options.guard;
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? (() => new Date());
    this.intervalMs = options.refreshIntervalMs;
    this.every = options.every ?? realEvery;
  }

  /**
   * Fetch and validate the card, then register the agent under the card's name (or `name`). Nothing is
   * stored unless every check passed.
   */
  async register(input: unknown, change: ChangeOptions = {}): Promise<RegisteredAgent> {
    assertJsonValue(input, 'A2A agent registration', RECORD_LIMITS);
    const registration = validateRegistration(input);
    if (registration.name !== undefined) {
      assertAgentName(registration.name);
      this.assertFree(registration.name);
    }
    const card = await this.fetchCard(registration.card_url);
    const name = registration.name ?? agentNameFromCard(card);
    assertAgentName(name);
    this.assertFree(name);
    const factory = {
      ...A2A_FACTORY,
      factory_params: {
        agent_name: name,
        card_url: registration.card_url,
        card: card as unknown as Record<string, unknown>,
        fetched_at: this.now().toISOString(),
      } satisfies RemoteAgentParams,
    };
    const agent = await this.resolver.createAgent(factory);
    const registered = await this.registry.register(
      agent,
      {
        name,
        capabilities: capabilitiesFromCard(card, registration.capabilities ?? {}),
        ...(registration.tags !== undefined && { tags: registration.tags }),
        ...(registration.enabled !== undefined && { enabled: registration.enabled }),
        factory,
      },
      change,
    );
    this.logger.info({ agent: name, card_url: registration.card_url }, 'remote A2A agent registered');
    return registered;
  }

  /** Re-fetch one remote agent's card now. */
  async refresh(name: string, change: ChangeOptions = {}): Promise<RefreshResult> {
    const entry = this.registry.require(name);
    if (entry.record.agent_type !== REMOTE_A2A_AGENT_TYPE) {
      throw new AppError(
        'validation_error',
        `"${name}" is not a remote A2A agent (agent_type "${entry.record.agent_type}"): only A2A agents have a card to refresh`,
      );
    }
    const params = entry.record.factory_params as unknown as RemoteAgentParams;
    let card: Record<string, unknown>;
    try {
      card = (await this.fetchCard(params.card_url)) as unknown as Record<string, unknown>;
    } catch (error) {
      if (!isAppError(error)) throw error;
      const message = messageOf(error);
      if (params.error !== message) {
        await this.registry.updateDefinition(
          name,
          (record) => ({
            factory_params: { ...record.factory_params, error: message },
          }),
          change,
        );
      }
      this.logger.warn({ agent: name, err: message }, 'remote A2A agent unavailable');
      return { status: 'unavailable', agent_name: name, error: message };
    }
    if (params.error === undefined && JSON.stringify(card) === JSON.stringify(params.card)) {
      return { status: 'unchanged', agent_name: name };
    }
    await this.registry.updateDefinition(
      name,
      (record) => {
        const current = record.factory_params as unknown as RemoteAgentParams;
        const next: RemoteAgentParams = {
          agent_name: current.agent_name,
          card_url: current.card_url,
          card,
          fetched_at: this.now().toISOString(),
        };
        const cardValue = card as unknown as Parameters<typeof capabilitiesFromCard>[0];
        return {
          description: cardValue.description,
          factory_params: { ...next },
          capabilities: capabilitiesFromCard(
            cardValue,
            record.capabilities as CapabilitiesValue,
            storedCard(record.factory_params),
          ),
        };
      },
      change,
    );
    this.logger.info({ agent: name }, 'remote A2A agent card refreshed');
    return { status: 'refreshed', agent_name: name };
  }

  /** Re-fetch every remote agent's card, one after another; a run already going is joined. */
  refreshAll(): Promise<void> {
    this.running ??= (async () => {
      for (const entry of this.registry.list()) {
        if (entry.record.agent_type !== REMOTE_A2A_AGENT_TYPE) continue;
        try {
          await this.refresh(entry.record.name);
        } catch (error) {
          // Deleted meanwhile, or the store failed: the next run tries again.
          this.logger.warn({ agent: entry.record.name, err: error }, 'could not refresh a remote A2A agent');
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Start the schedule (nothing when the interval is 0). */
  start(): void {
    if (this.intervalMs <= 0 || this.cancel !== undefined) return;
    this.cancel = this.every(this.intervalMs, () => {
      void this.refreshAll();
    });
  }

  /** Stop the schedule and wait for a run in progress. */
  async stop(): Promise<void> {
    this.cancel?.();
    this.cancel = undefined;
    await this.running;
  }

  private async fetchCard(url: string) {
    const fetched = await this.fetcher.fetchJson(url);
    return validateRemoteCard(fetched.body, url, this.guard);
  }

  private assertFree(name: string): void {
    if (this.registry.get(name) !== undefined) {
      throw new AppError('agent_exists', `An agent named "${name}" is already registered`);
    }
  }
}
