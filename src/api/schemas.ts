/**
 * @module api/schemas
 * Request and response shapes of the HTTP API that are not domain records: envelopes, statuses, routing,
 * health. With the domain schemas they validate requests, serialize responses and make the OpenAPI document.
 */
import { type Static, Type } from 'typebox';
import { ERROR_STATUS } from '../errors.js';
import { DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT } from '../insight/route-replay.js';
import { AgentName, AgentRegistrationSchema, AgentSchema, Capabilities } from '../registry/agent-record.js';
import { RoutingDecisionSchema } from '../sessions/routing-decision.js';
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

export const ProbeSchema = Type.Union(
  [
    Type.Object(
      {
        examples: Type.Integer({ minimum: 0, description: "How many of the agent's examples were routed." }),
        routed_here: Type.Integer({
          minimum: 0,
          description: 'How many of them the router sends to this agent.',
        }),
        stolen_by: Type.Record(Type.String(), Type.Integer(), {
          description: 'The agents the others go to, with how many each.',
        }),
        checked_at: Type.String({ description: 'When the check ran (ISO-8601 UTC).' }),
      },
      { additionalProperties: false },
    ),
    Type.Null(),
  ],
  {
    description:
      "Capability probe: the agent's own examples routed against the current registry (after registry " +
      'changes and on a timer). Null before the first check, and for disabled or unavailable agents.',
  },
);

/** An agent as the API shows it: the record, its status and its last capability probe. */
export const AgentViewSchema = Type.Object(
  { ...AgentSchema.properties, probe: Type.Optional(ProbeSchema) },
  { additionalProperties: false },
);

export const OverlapsSchema = Type.Array(
  Type.Object(
    {
      agent: AgentName,
      examples: Type.Integer({
        minimum: 1,
        description: "How many of the new agent's examples it answers today.",
      }),
    },
    { additionalProperties: false },
  ),
  {
    description:
      "Agents the current registry routes some of the new agent's examples to: the registration is accepted, " +
      'but those agents will compete with it (the first 200 examples are checked).',
  },
);

const ProbesHealthSchema = Type.Object(
  {
    misrouted: Type.Array(Type.String(), {
      description: 'Agents whose examples now mostly (more than half) go to other agents.',
    }),
    runs: Type.Integer({ minimum: 0 }),
    last_run_cpu_ms: Type.Number({ description: 'CPU time of the last full check, in slices.' }),
    longest_slice_ms: Type.Number({ description: 'Longest uninterrupted slice of probing so far.' }),
  },
  { additionalProperties: false },
);

const DecisionLogHealthSchema = Type.Object(
  {
    pending: Type.Integer({ minimum: 0 }),
    written: Type.Integer({ minimum: 0 }),
    failed: Type.Integer({ minimum: 0 }),
    dropped: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false, description: 'Routing decisions logged since start-up, by outcome.' },
);

export const AgentResponseSchema = Type.Unsafe<Static<typeof AgentViewSchema>>({
  ...AgentViewSchema,
  examples: [EXAMPLE_AGENT],
});

export const AgentListSchema = Type.Object(
  { agents: Type.Array(AgentViewSchema), total: Type.Integer({ minimum: 0 }) },
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
  { status: Type.Literal('registered'), agent_name: AgentName, overlaps: Type.Optional(OverlapsSchema) },
  {
    additionalProperties: false,
    examples: [
      { status: 'registered', agent_name: 'tickets_agent', overlaps: [] },
      {
        status: 'registered',
        agent_name: 'helpdesk_agent',
        overlaps: [{ agent: 'tickets_agent', examples: 4 }],
      },
    ],
  },
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
    ui: Type.String({ description: 'The admin web UI.' }),
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
        ui: '/ui',
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
          description:
            'The store revision this replica has applied (the first part of the ETag of the agent list).',
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
    probes: Type.Optional(ProbesHealthSchema),
    decision_log: Type.Optional(DecisionLogHealthSchema),
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

export const DecisionListResponseSchema = Type.Object(
  {
    decisions: Type.Array(RoutingDecisionSchema, { description: 'Newest first.' }),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` for the next (older) page; null on the last page.',
    }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        decisions: [
          {
            at: '2026-11-23T09:30:00.000Z',
            query: 'show my open tickets',
            query_hashed: false,
            candidates: [
              { name: 'tickets_agent', score: 0.93 },
              { name: 'finops_agent', score: 0.01 },
            ],
            selected: ['tickets_agent'],
            follow_up: false,
            revision: 12,
            session_id: '0b8f6a52-3c1e-4c8e-9d0e-6f1f2b7d9a41',
          },
        ],
        next_cursor: 'ZDo0Mg',
      },
    ],
  },
);

export const ReplayRequestSchema = Type.Object(
  {
    change: Type.Union(
      [
        Type.Object({ register: AgentRegistrationSchema }, { additionalProperties: false }),
        Type.Object(
          {
            update: Type.Object(
              { name: AgentName, capabilities: Capabilities },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
        Type.Object({ delete: AgentName }, { additionalProperties: false }),
      ],
      { description: 'The change to try: a registration, a capabilities update, or a deletion.' },
    ),
    since: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'Only decisions logged at or after this time.',
      }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_REPLAY_LIMIT,
        default: DEFAULT_REPLAY_LIMIT,
        description: 'Replay the newest this many logged decisions.',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        change: {
          register: {
            agent_type: 'echo',
            factory_module: 'jarvis_agent.mcp_agents.agent_factory',
            factory_function: 'create_generic_agent',
            factory_params: { name: 'hr_agent', description: 'Answers HR questions' },
            capabilities: { examples: ['how many vacation days do I have left'] },
          },
        },
        limit: 10000,
      },
      { change: { delete: 'oxygen_agent' } },
    ],
  },
);

export const ReplayResponseSchema = Type.Object(
  {
    replayed: Type.Integer({ minimum: 0, description: 'Logged decisions replayed.' }),
    skipped_hashed: Type.Integer({
      minimum: 0,
      description: 'Decisions logged as a hash (ROUTER_LOG_QUERIES=false), which cannot be replayed.',
    }),
    changed: Type.Array(
      Type.Object(
        {
          query: Type.String(),
          before: Type.Array(Type.String()),
          after: Type.Array(Type.String()),
          count: Type.Integer({ minimum: 1, description: 'Logged decisions with this query.' }),
        },
        { additionalProperties: false },
      ),
      { description: 'Distinct queries whose selection would change, most frequent first.' },
    ),
    summary: Type.Object(
      {
        moved: Type.Record(Type.String(), Type.Integer(), {
          description: '`"from->to": n` decisions (several agents joined with "+").',
        }),
        newly_none: Type.Integer({ minimum: 0 }),
        newly_routed: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        replayed: 10000,
        skipped_hashed: 0,
        changed: [
          { query: 'how many vacation days do I have left', before: [], after: ['hr_agent'], count: 3 },
        ],
        summary: { moved: { 'tickets_agent->hr_agent': 12 }, newly_none: 0, newly_routed: 3 },
      },
    ],
  },
);
