/**
 * @module api/schemas
 * Request and response shapes of the HTTP API that are not domain records: envelopes, statuses, routing,
 * health. With the domain schemas they validate requests, serialize responses and make the OpenAPI document.
 */
import { type Static, Type } from 'typebox';
import { ERROR_STATUS } from '../errors.js';
import { AgentName, AgentSchema, Capabilities } from '../registry/agent-record.js';
import { SessionId } from '../sessions/session-record.js';

const EXAMPLE_AGENT = {
  name: 'tickets_agent',
  description: 'Handles IT support tickets: lists, details and new tickets',
  agent_type: 'tickets',
  factory_module: 'jarvis_agent.mcp_agents.agent_factory',
  factory_function: 'create_tickets_agent',
  factory_params: {},
  capabilities: {
    domains: ['it_support'],
    examples: ['show my open tickets', 'open a ticket for my broken laptop'],
  },
  tags: ['demo', 'it'],
  enabled: true,
  registered_at: '2026-11-23T09:30:00.000Z',
  updated_at: '2026-11-23T09:30:00.000Z',
  status: 'available',
};

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Enum(Object.keys(ERROR_STATUS), { description: 'Stable machine-readable code.' }),
        message: Type.String({ description: 'What went wrong and what to do about it.' }),
      },
      { additionalProperties: false },
    ),
  },
  {
    additionalProperties: false,
    examples: [
      { error: { code: 'agent_not_found', message: 'No agent named "billing_agent" is registered' } },
    ],
  },
);

/** `{"status": <literal>}` bodies, each with its example. */
export function statusResponse<T extends string>(status: T, description: string) {
  return Type.Object(
    { status: Type.Literal(status) },
    { additionalProperties: false, description, examples: [{ status }] },
  );
}

export const AgentResponseSchema = Type.Unsafe<Static<typeof AgentSchema>>({
  ...AgentSchema,
  examples: [EXAMPLE_AGENT],
});

export const AgentListSchema = Type.Object(
  { agents: Type.Array(AgentSchema), total: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false, examples: [{ agents: [EXAMPLE_AGENT], total: 1 }] },
);

export const AgentListQuerySchema = Type.Object(
  {
    enabled_only: Type.Optional(Type.Boolean({ default: false, description: 'Only enabled agents.' })),
    tags: Type.Optional(
      Type.String({
        description: 'Comma-separated tags; agents having all of them.',
        examples: ['production,it'],
      }),
    ),
  },
  { additionalProperties: false },
);

export const AgentNameParamsSchema = Type.Object({ agent_name: AgentName }, { additionalProperties: false });

export const RegisteredResponseSchema = Type.Object(
  { status: Type.Literal('registered'), agent_name: AgentName },
  { additionalProperties: false, examples: [{ status: 'registered', agent_name: 'tickets_agent' }] },
);

export const CapabilitiesUpdateSchema = Type.Object(
  {
    capabilities: Capabilities,
  },
  {
    additionalProperties: false,
    examples: [
      { capabilities: { domains: ['it_support'], examples: ['show my tickets', 'close INC-1001'] } },
    ],
  },
);

export const AgentVersionParamsSchema = Type.Object(
  { agent_name: AgentName, version: Type.Integer({ minimum: 1, description: 'A version number.' }) },
  { additionalProperties: false },
);

const ChangeTypeSchema = Type.Union([
  Type.Literal('registered'),
  Type.Literal('updated'),
  Type.Literal('deleted'),
]);

export const AgentVersionsResponseSchema = Type.Object(
  {
    versions: Type.Array(
      Type.Object(
        {
          version: Type.Integer({ minimum: 1 }),
          revision: Type.Integer({ minimum: 1, description: 'The store revision of the change.' }),
          type: ChangeTypeSchema,
          at: Type.String({ format: 'date-time' }),
          actor: Type.String({
            description:
              "The admin token's label (REGISTRY_ADMIN_TOKEN is `admin`), `anonymous` without a token, " +
              '`recovered` for a difference found at start-up.',
          }),
        },
        { additionalProperties: false },
      ),
      { description: 'Newest first.' },
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        versions: [
          { version: 2, revision: 7, type: 'updated', at: '2026-11-23T10:00:00.000Z', actor: 'ops' },
          { version: 1, revision: 3, type: 'registered', at: '2026-11-23T09:30:00.000Z', actor: 'anonymous' },
        ],
      },
    ],
  },
);

export const RollbackRequestSchema = Type.Object(
  { version: Type.Integer({ minimum: 1, description: 'The version to make current again.' }) },
  { additionalProperties: false, examples: [{ version: 1 }] },
);

export const RollbackResponseSchema = Type.Object(
  {
    status: Type.Literal('rolled_back'),
    version: Type.Integer({ minimum: 1, description: 'The new version the rollback made.' }),
  },
  { additionalProperties: false, examples: [{ status: 'rolled_back', version: 3 }] },
);

export const EnabledUpdateSchema = Type.Object(
  { enabled: Type.Boolean() },
  { additionalProperties: false, examples: [{ enabled: false }] },
);

export const EnabledStatusSchema = Type.Object(
  { status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]) },
  { additionalProperties: false, examples: [{ status: 'disabled' }] },
);

export const RouteRequestSchema = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: 4000, examples: ['show my open tickets'] }),
    session_id: Type.Optional(SessionId),
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 })),
  },
  {
    additionalProperties: false,
    examples: [{ query: 'show details', session_id: '0b8f6a52-3c1e-4c8e-9d0e-6f1f2b7d9a41', top_k: 3 }],
  },
);
export type RouteRequest = Static<typeof RouteRequestSchema>;

export const RouteResponseSchema = Type.Object(
  {
    selected: Type.Array(Type.String(), { description: 'Agents to call; empty when no agent fits.' }),
    candidates: Type.Array(
      Type.Object(
        { name: Type.String(), score: Type.Number({ description: 'Calibrated confidence, 0 to 1.' }) },
        { additionalProperties: false },
      ),
    ),
    follow_up: Type.Boolean({
      description: "True when the session's last agent was chosen for a follow-up.",
    }),
    parts: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          'Present when two or more agents are selected: what to ask each of them, the clauses of the query ' +
          'meant for it (an agent no clause goes to gets the whole query).',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        selected: ['tickets_agent'],
        candidates: [
          { name: 'tickets_agent', score: 0.93 },
          { name: 'oxygen_agent', score: 0.04 },
        ],
        follow_up: false,
      },
      {
        selected: ['tickets_agent', 'finops_agent'],
        candidates: [
          { name: 'finops_agent', score: 0.62 },
          { name: 'tickets_agent', score: 0.31 },
        ],
        follow_up: false,
        parts: { tickets_agent: 'show my tickets', finops_agent: "last month's cloud spend" },
      },
    ],
  },
);

export const ChangesQuerySchema = Type.Object(
  {
    since: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Revision already seen; changes after it are returned.' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    wait: Type.Optional(
      Type.Number({ minimum: 0, maximum: 30, default: 0, description: 'Seconds to wait for a change.' }),
    ),
  },
  { additionalProperties: false },
);

const RegistryChangeSchema = Type.Object(
  {
    revision: Type.Integer({ minimum: 1 }),
    type: Type.Union([Type.Literal('registered'), Type.Literal('updated'), Type.Literal('deleted')]),
    agent_name: AgentName,
    agent: Type.Union([AgentSchema, Type.Null()], {
      description: "The agent after the change; null for a deletion. `status` is this replica's view.",
    }),
    version: Type.Integer({
      minimum: 1,
      description:
        "The agent's version this change made (GET /registry/agents/{agent_name}/versions/{version}); a deletion makes one too.",
    }),
    at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

export const ChangesResponseSchema = Type.Object(
  {
    revision: Type.Integer({ minimum: 0, description: 'The registry revision after these changes.' }),
    changes: Type.Array(RegistryChangeSchema),
  },
  {
    additionalProperties: false,
    examples: [
      {
        revision: 1764620000000004,
        changes: [
          {
            revision: 1764620000000004,
            type: 'updated',
            agent_name: 'tickets_agent',
            agent: { ...EXAMPLE_AGENT, enabled: false, updated_at: '2026-11-23T09:31:00.000Z' },
            version: 2,
            at: '2026-11-23T09:31:00.000Z',
          },
        ],
      },
    ],
  },
);

export const SessionIdParamsSchema = Type.Object({ session_id: SessionId }, { additionalProperties: false });

export const SessionCreatedSchema = Type.Object(
  { session_id: SessionId },
  { additionalProperties: false, examples: [{ session_id: '0b8f6a52-3c1e-4c8e-9d0e-6f1f2b7d9a41' }] },
);

export const RootResponseSchema = Type.Object(
  {
    service: Type.String(),
    version: Type.String(),
    docs: Type.String(),
    openapi: Type.String(),
    health: Type.String(),
  },
  {
    additionalProperties: false,
    examples: [
      {
        service: 'Agent Registry Service',
        version: '1.0.0',
        docs: '/docs',
        openapi: '/openapi.json',
        health: '/health',
      },
    ],
  },
);

export const HealthResponseSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')], {
      description:
        '`degraded`: serving, but start-up set data aside or restored a backup (see `warnings`); ' +
        '`unavailable` (503): the database cannot be used.',
    }),
    warnings: Type.Optional(
      Type.Array(Type.String(), { description: 'What needs attention and how to inspect it.' }),
    ),
    version: Type.String(),
    uptime_seconds: Type.Number(),
    registry: Type.Object(
      {
        agents: Type.Integer(),
        available: Type.Integer(),
        unavailable: Type.Array(
          Type.Object(
            { name: Type.String(), error: Type.Optional(Type.String()) },
            { additionalProperties: false },
          ),
        ),
        revision: Type.Integer({
          description: 'The store revision this replica has applied (the list ETag).',
        }),
        loaded_from: Type.Union(
          [Type.Literal('file'), Type.Literal('backup'), Type.Literal('empty'), Type.Literal('database')],
          { description: 'Where start-up read the registry from.' },
        ),
      },
      { additionalProperties: false },
    ),
    router: Type.Object(
      {
        agents: Type.Integer(),
        trained: Type.Boolean({
          description: 'False while changes are still being learned in the background.',
        }),
        pending_agents: Type.Integer(),
        builds: Type.Integer(),
        last_build_ms: Type.Union([Type.Integer(), Type.Null()]),
        min_confidence: Type.Number({
          description: 'The "none fits" threshold in use, on the in-scope probability (0 to 1).',
        }),
        min_confidence_source: Type.Union(
          [Type.Literal('fitted'), Type.Literal('configured'), Type.Literal('default')],
          {
            description:
              "`fitted` from the registry's own examples (to reject at most 3% of in-scope queries), " +
              '`configured` by ROUTER_MIN_CONFIDENCE, `default` while the registry is too small to fit one.',
          },
        ),
      },
      { additionalProperties: false },
    ),
    stores: Type.Object(
      {
        registry: Type.Record(Type.String(), Type.Unknown(), {
          description:
            '`status`, `backend` (`file` or `postgresql`), `recovery`, and what the backend reports.',
        }),
        sessions: Type.Record(Type.String(), Type.Unknown(), {
          description: '`status`, `backend` (`sqlite` or `postgresql`), and what the backend reports.',
        }),
      },
      { additionalProperties: false },
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        status: 'ok',
        version: '1.0.0',
        uptime_seconds: 3600,
        registry: {
          agents: 3,
          available: 3,
          unavailable: [],
          revision: 1764620000000003,
          loaded_from: 'file',
        },
        router: {
          agents: 3,
          trained: true,
          pending_agents: 0,
          builds: 1,
          last_build_ms: 12,
          min_confidence: 0.31,
          min_confidence_source: 'fitted',
        },
        stores: {
          registry: {
            status: 'ok',
            backend: 'file',
            path: './data/registry_config.json',
            loaded_from: 'file',
            recovery: [],
            last_saved_at: '2026-11-23T09:30:00.000Z',
          },
          sessions: { status: 'ok', backend: 'sqlite', path: './data/sessions.db' },
        },
      },
    ],
  },
);

/** Error responses documented on every route. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, ErrorResponseSchema]));
}

export const ReadinessResponseSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
    reasons: Type.Optional(
      Type.Array(Type.String(), { description: 'Why the service cannot take traffic now.' }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ status: 'ready' }, { status: 'not_ready', reasons: ['the service is shutting down'] }],
  },
);
