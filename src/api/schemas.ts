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
    registry: Type.Record(Type.String(), Type.Unknown()),
    router: Type.Object(
      {
        agents: Type.Integer(),
        trained: Type.Boolean({
          description: 'False while changes are still being learned in the background.',
        }),
        pending_agents: Type.Integer(),
        builds: Type.Integer(),
        last_build_ms: Type.Union([Type.Integer(), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    database: Type.Record(Type.String(), Type.Unknown()),
  },
  {
    additionalProperties: false,
    examples: [
      {
        status: 'ok',
        version: '1.0.0',
        uptime_seconds: 3600,
        registry: {
          backend: 'file',
          agents: 3,
          available: 3,
          unavailable: [],
          revision: 3,
          loaded_from: 'file',
          recovery: [],
          last_saved_at: '2026-11-23T09:30:00.000Z',
        },
        router: { agents: 3, trained: true, pending_agents: 0, builds: 1, last_build_ms: 12 },
        database: { status: 'ok', backend: 'sqlite', path: './data/sessions.db' },
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
