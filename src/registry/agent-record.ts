/**
 * @module registry/agent-record
 * The registry's data contract as schemas: one stored agent record, the registry file, a registration.
 * These schemas validate the file on load and every API body, and generate the OpenAPI document and the types.
 * `validateAgentRecord` is the one definition of a valid record: every write and every load uses it, so a
 * record the registry acknowledged always loads back.
 */
import { type Static, Type } from 'typebox';
import { AppError } from '../errors.js';
import { assertJsonValue, type JsonLimits } from '../safe-json.js';
import { compileValidator } from '../schema-validator.js';

/** Agent names appear in URLs and ADK events: ASCII identifiers, as ADK requires (minus Unicode letters). */
export const AGENT_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]{0,127}$';
/** Factory functions are named exports: JavaScript identifiers only. */
export const FACTORY_FUNCTION_PATTERN = '^[A-Za-z_$][A-Za-z0-9_$]{0,127}$';
/**
 * The `agent_type` of remote A2A agents: registered by card URL (`{"agent_type": "a2a", "card_url"}`), never
 * through a factory registration, since their factory builds whatever the stored card names.
 */
export const REMOTE_A2A_AGENT_TYPE = 'a2a';
/** The registry file format this version writes; files with the same major version load. */
export const REGISTRY_FORMAT_VERSION = '1.0.0';

/**
 * Names refused although they match the pattern: `user` is reserved by ADK, and the names of JavaScript
 * object internals (`__proto__`, `constructor`, `prototype`, `toString`, ...) would collide with an object's
 * own machinery wherever a name becomes a key.
 */
export const RESERVED_AGENT_NAMES: ReadonlySet<string> = new Set([
  'user',
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

/** What every stored record is held to, on the way in and on load: nesting, strings, keys. */
export const RECORD_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxDepth: 32,
  maxStringLength: 32_768,
  maxKeyLength: 256,
});
/** The largest record, as compact JSON. */
export const MAX_RECORD_BYTES = 512 * 1024;

export const AgentName = Type.String({
  pattern: AGENT_NAME_PATTERN,
  description: 'Unique agent name: a letter or underscore, then letters, digits, underscores or hyphens.',
  examples: ['tickets_agent'],
});

const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-23T09:30:00.000Z'] });

export const Tags = Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$' }), {
  maxItems: 64,
  uniqueItems: true,
  description:
    'Labels used to filter agents (`GET /registry/agents?tags=a,b` keeps agents having all of them).',
  examples: [['production', 'it-support']],
});

/** Capabilities are free-form JSON; only `examples` has a fixed shape. */
export interface CapabilitiesValue {
  examples?: string[];
  [key: string]: unknown;
}

export const Capabilities = Type.Unsafe<CapabilitiesValue>(
  Type.Object(
    {
      examples: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), {
          maxItems: 2000,
          description: 'Sample user queries this agent should answer; the router learns from them.',
        }),
      ),
    },
    {
      additionalProperties: true,
      description:
        'Free-form description of what the agent can do. `examples` is what the router learns from.',
      examples: [
        {
          domains: ['it_support'],
          operations: ['list_tickets', 'create_ticket'],
          examples: ['show my open tickets', 'open a ticket for a broken laptop'],
        },
      ],
    },
  ),
);

export const FactoryParams = Type.Record(Type.String(), Type.Unknown(), {
  description: 'JSON parameters passed to the factory function as its first argument.',
  examples: [{}],
});

const recordFields = {
  name: AgentName,
  description: Type.String({ maxLength: 4000, examples: ['Handles IT support tickets'] }),
  agent_type: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', examples: ['tickets'] }),
  factory_module: Type.String({
    minLength: 1,
    maxLength: 512,
    description:
      'Module holding the factory: a dotted path under AGENT_FACTORY_ROOTS or an allowlisted package.',
    examples: ['jarvis_agent.mcp_agents.agent_factory'],
  }),
  factory_function: Type.String({ pattern: FACTORY_FUNCTION_PATTERN, examples: ['create_tickets_agent'] }),
  factory_params: FactoryParams,
  capabilities: Capabilities,
  tags: Tags,
  enabled: Type.Boolean(),
  registered_at: Timestamp,
  updated_at: Timestamp,
};

/** One agent as stored in the registry file: everything needed to recreate it, nothing runtime. */
export const AgentRecordSchema = Type.Object(recordFields, { additionalProperties: false });
export type AgentRecord = Static<typeof AgentRecordSchema>;

export const AgentStatus = Type.Union([Type.Literal('available'), Type.Literal('unavailable')], {
  description: '`unavailable` when the factory failed at start-up; the record is kept unchanged.',
});

/** An agent as the API shows it: the record plus whether it could be recreated. */
export const AgentSchema = Type.Object(
  {
    ...recordFields,
    status: AgentStatus,
    error: Type.Optional(Type.String({ description: 'Why the factory failed (only when unavailable).' })),
  },
  { additionalProperties: false },
);
export type AgentView = Static<typeof AgentSchema>;

/**
 * The registry file's envelope, records unchecked: a file with a valid envelope is read record by record,
 * so one bad record is set aside instead of taking the whole registry down.
 */
export const RegistryEnvelopeSchema = Type.Object(
  {
    version: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+$' }),
    last_updated: Timestamp,
    agents: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

/** The document as written (every record complete). */
export const RegistryExportSchema = Type.Object(
  {
    version: Type.String({ examples: [REGISTRY_FORMAT_VERSION] }),
    last_updated: Timestamp,
    agents: Type.Record(Type.String(), AgentRecordSchema),
  },
  { additionalProperties: false },
);
export type RegistryDocument = Static<typeof RegistryExportSchema>;

/** `POST /registry/agents`: where the factory lives and how to describe the agent. */
export const AgentRegistrationSchema = Type.Object(
  {
    agent_type: recordFields.agent_type,
    factory_module: recordFields.factory_module,
    factory_function: recordFields.factory_function,
    factory_params: Type.Optional(FactoryParams),
    capabilities: Type.Optional(Capabilities),
    tags: Type.Optional(Tags),
    name: Type.Optional(AgentName),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        agent_type: 'tickets',
        factory_module: 'jarvis_agent.mcp_agents.agent_factory',
        factory_function: 'create_tickets_agent',
      },
    ],
  },
);
export type AgentRegistration = Static<typeof AgentRegistrationSchema>;

/** The parts of a record the factory resolver needs. */
export type FactoryConfig = Pick<AgentRecord, 'agent_type' | 'factory_module' | 'factory_function'> & {
  factory_params?: AgentRecord['factory_params'];
};

const validateRecordSchema = compileValidator(AgentRecordSchema, 'agent record');
const AGENT_NAME = new RegExp(AGENT_NAME_PATTERN);

/** Throws `validation_error` unless `name` is a valid, unreserved agent name. */
export function assertAgentName(name: string): void {
  if (!AGENT_NAME.test(name)) {
    throw new AppError(
      'validation_error',
      `Invalid agent name "${name}": use 1-128 characters, a letter or underscore first, then letters, digits, ` +
        'underscores or hyphens',
    );
  }
  if (RESERVED_AGENT_NAMES.has(name)) {
    throw new AppError(
      'validation_error',
      `Invalid agent name "${name}": it is reserved ('user' by ADK; ${JSON.stringify(name)} would collide with ` +
        'JavaScript object internals); pick another name',
    );
  }
}

/**
 * The one definition of a valid agent record. Checks, in this order (the cheap, non-recursive ones first):
 * plain JSON within `RECORD_LIMITS` (no forbidden key after unescaping, bounded depth and strings, finite
 * numbers, well-formed Unicode), the record schema, the name, and the size. Throws `validation_error`.
 */
export function validateAgentRecord(value: unknown): AgentRecord {
  const name = (value as { name?: unknown } | null)?.name;
  const subject = typeof name === 'string' ? `agent record "${name.slice(0, 128)}"` : 'agent record';
  assertJsonValue(value, subject, RECORD_LIMITS);
  const record = validateRecordSchema(value, subject);
  assertAgentName(record.name);
  const bytes = Buffer.byteLength(JSON.stringify(record), 'utf8');
  if (bytes > MAX_RECORD_BYTES) {
    throw new AppError(
      'validation_error',
      `Invalid ${subject}: it is ${bytes} bytes as JSON; the limit is ${MAX_RECORD_BYTES} bytes`,
    );
  }
  return record;
}
