/**
 * @module a2a/agent-card
 * A2A agent cards, in the protocol version ADK's A2A support speaks (`@google/adk/a2a` on `@a2a-js/sdk` 0.3:
 * `protocolVersion` "0.3.0"). Two directions: the card of one of our agents, built from its record, and a
 * remote agent's card, validated before anything of it is stored; its skills become what the router learns.
 */
import type { AgentCard, AgentSkill } from '@a2a-js/sdk';
import { type Static, Type } from 'typebox';
import { AppError, isAppError } from '../errors.js';
import type { CapabilitiesValue } from '../registry/agent-record.js';
import { AGENT_NAME_PATTERN, RECORD_LIMITS, RESERVED_AGENT_NAMES } from '../registry/agent-record.js';
import type { RegisteredAgent } from '../registry/agent-registry.js';
import { humanise } from '../routing/routable-agent.js';
import { assertJsonValue } from '../safe-json.js';
import { compileValidator } from '../schema-validator.js';
import type { HostGuard } from './host-guard.js';

/** The A2A protocol version of every card we build and of every card we accept (major.minor). */
export const A2A_PROTOCOL_VERSION = '0.3.0';
const ACCEPTED_PROTOCOL = /^0\.3(\.\d+)?$/;

const Text = (maxLength: number) => Type.String({ maxLength });
const Strings = Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 2000 });

export const AgentSkillSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 256 }),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Text(4000),
    tags: Strings,
    examples: Type.Optional(Strings),
    inputModes: Type.Optional(Strings),
    outputModes: Type.Optional(Strings),
  },
  { additionalProperties: true },
);

const AgentInterfaceSchema = Type.Object(
  { url: Type.String({ minLength: 1, maxLength: 2048 }), transport: Type.String({ maxLength: 64 }) },
  { additionalProperties: true },
);

/** An A2A 0.3 AgentCard: the required fields checked, the others kept as they are. */
export const AgentCardSchema = Type.Object(
  {
    protocolVersion: Type.String({ maxLength: 32, examples: [A2A_PROTOCOL_VERSION] }),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Text(4000),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    version: Type.String({ minLength: 1, maxLength: 128 }),
    preferredTransport: Type.Optional(Type.String({ maxLength: 64 })),
    additionalInterfaces: Type.Optional(Type.Array(AgentInterfaceSchema, { maxItems: 16 })),
    capabilities: Type.Object({}, { additionalProperties: true }),
    defaultInputModes: Strings,
    defaultOutputModes: Strings,
    skills: Type.Array(AgentSkillSchema, { maxItems: 500 }),
  },
  {
    additionalProperties: true,
    description: `An A2A AgentCard (protocol ${A2A_PROTOCOL_VERSION}, as spoken by @google/adk/a2a).`,
    examples: [
      {
        protocolVersion: A2A_PROTOCOL_VERSION,
        name: 'tickets_agent',
        description: 'Handles IT support tickets: lists, details and new tickets',
        url: 'http://127.0.0.1:9999/a2a/jsonrpc',
        preferredTransport: 'JSONRPC',
        version: '3.1764235800000',
        capabilities: { streaming: false, pushNotifications: false, stateTransitionHistory: false },
        defaultInputModes: ['text/plain'],
        defaultOutputModes: ['text/plain'],
        skills: [
          {
            id: 'tickets_agent',
            name: 'tickets agent',
            description: 'Handles IT support tickets: lists, details and new tickets',
            tags: ['demo', 'it'],
            examples: ['show my open tickets'],
          },
        ],
      },
    ],
  },
);
export type AgentCardValue = Static<typeof AgentCardSchema>;

const checkCard = compileValidator(AgentCardSchema, 'agent card');

/**
 * The remote card, checked: plain JSON within the record limits, the A2A 0.3 shape, a protocol version ADK
 * speaks, and every URL it names on an allowed host (these are where Jarvis will send messages). Throws
 * `invalid_agent_card` (or `host_not_allowed`) saying what is wrong.
 */
export function validateRemoteCard(value: unknown, source: string, guard: HostGuard): AgentCard {
  let card: AgentCardValue;
  try {
    assertJsonValue(value, `agent card from ${source}`, RECORD_LIMITS);
    card = checkCard(value, `agent card from ${source}`);
  } catch (error) {
    if (isAppError(error) && error.code === 'validation_error') {
      throw new AppError('invalid_agent_card', error.message, { details: error.details });
    }
    throw error;
  }
  if (!ACCEPTED_PROTOCOL.test(card.protocolVersion)) {
    throw new AppError(
      'invalid_agent_card',
      `Invalid agent card from ${source}: protocolVersion "${card.protocolVersion}" is not supported; ` +
        `ADK's A2A support speaks ${A2A_PROTOCOL_VERSION} (0.3.x accepted)`,
    );
  }
  const urls = [card.url, ...(card.additionalInterfaces ?? []).map((entry) => entry.url)];
  for (const url of urls) {
    try {
      guard.checkUrl(url, `the agent card's url`);
    } catch (error) {
      if (isAppError(error) && error.code === 'validation_error') {
        throw new AppError('invalid_agent_card', `Invalid agent card from ${source}: ${error.message}`);
      }
      throw error;
    }
  }
  return card as unknown as AgentCard;
}

/**
 * The registry name a card's agent gets unless the registration names it: the card's name with every
 * character a name may not hold turned into `_`. Throws when that still is not a valid name.
 */
export function agentNameFromCard(card: AgentCard): string {
  let name = card.name.trim().replace(/[^A-Za-z0-9_-]+/g, '_');
  if (/^[0-9-]/.test(name)) name = `_${name}`;
  name = name.slice(0, 128);
  if (!new RegExp(AGENT_NAME_PATTERN).test(name) || RESERVED_AGENT_NAMES.has(name)) {
    throw new AppError(
      'validation_error',
      `The agent card's name "${card.name.slice(0, 128)}" does not make a valid agent name: give "name" in the registration`,
    );
  }
  return name;
}

/** Every example query of a card's skills (what the router learns the remote agent from). */
export function cardExamples(card: AgentCard | undefined): string[] {
  const examples: string[] = [];
  for (const skill of card?.skills ?? []) {
    for (const example of skill.examples ?? []) {
      const text = example.trim();
      if (text !== '' && !examples.includes(text)) examples.push(text);
    }
  }
  return examples;
}

/**
 * The capabilities of a remote agent: those the registration (or a later PUT) gave, with the card's skills
 * under `skills` (id, name, description, tags: the router reads them as the agent's profile) and the skills'
 * examples added to `examples`. `previous` is the card the capabilities were last derived from: its examples
 * are taken out first, so a refreshed card replaces what the old one contributed.
 */
export function capabilitiesFromCard(
  card: AgentCard,
  capabilities: CapabilitiesValue,
  previous?: AgentCard,
): CapabilitiesValue {
  const old = new Set(cardExamples(previous));
  const own = (capabilities.examples ?? []).filter((example) => !old.has(example.trim()));
  const examples = [...own];
  for (const example of cardExamples(card)) if (!examples.includes(example)) examples.push(example);
  const skills = card.skills.map((skill) => ({
    id: skill.id,
    name: skill.name,
    description: skill.description,
    tags: skill.tags,
  }));
  return { ...capabilities, skills, examples: examples.slice(0, 2000) };
}

export interface OwnCardOptions {
  /** Where A2A clients send messages for this agent (Jarvis's JSON-RPC endpoint). */
  readonly url: string;
}

/**
 * The A2A card of a registered agent, built from its record: a version that changes with every update (the
 * record's store version and its `updated_at`), and skills from its capabilities: one skill for the agent
 * (its description, tags and example queries), one per declared `operations` entry, or the `skills` a remote
 * card gave. A remote agent's card is the one its server published (fetched and validated).
 */
export function buildAgentCard(entry: RegisteredAgent, options: OwnCardOptions): AgentCard {
  const { record } = entry;
  const stored = record.agent_type === 'a2a' ? storedCard(record.factory_params) : undefined;
  if (stored !== undefined) return stored;
  const capabilities = record.capabilities as CapabilitiesValue;
  const domains = stringsOf(capabilities.domains);
  const tags = unique([...record.tags, ...domains]);
  const skills: AgentSkill[] = [
    {
      id: record.name,
      name: humanise(record.name),
      description: record.description === '' ? humanise(record.name) : record.description,
      tags,
      examples: stringsOf(capabilities.examples).slice(0, 100),
    },
  ];
  for (const operation of stringsOf(capabilities.operations)) {
    skills.push({
      id: `${record.name}.${operation}`,
      name: humanise(operation),
      description: `${humanise(operation)} (${humanise(record.name)})`,
      tags,
    });
  }
  return {
    protocolVersion: A2A_PROTOCOL_VERSION,
    name: record.name,
    description: record.description,
    url: options.url,
    preferredTransport: 'JSONRPC',
    version: `${entry.version}.${Date.parse(record.updated_at)}`,
    capabilities: { streaming: false, pushNotifications: false, stateTransitionHistory: false },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills,
  };
}

/** The card stored in an A2A record's factory params, if there is one. */
export function storedCard(params: Readonly<Record<string, unknown>>): AgentCard | undefined {
  const card = params.card;
  return typeof card === 'object' && card !== null && !Array.isArray(card) ? (card as AgentCard) : undefined;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
