/**
 * @module api/registry-routes
 * `/registry`: list, read, register, update, enable/disable, delete and export agents, and route a query.
 * Mutating calls need the admin token when one is configured; every other route (reads, routing) needs the
 * read token when one is set, a guard app.ts adds to each route of this plugin.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { type FastifyPluginAsyncTypebox, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { Type } from 'typebox';
import { AgentCardSchema, buildAgentCard } from '../a2a/agent-card.js';
import { A2aRegistrationSchema, RefreshResultSchema, type RemoteAgents } from '../a2a/remote-agents.js';
import { AppError } from '../errors.js';
import type { CapabilityProbes } from '../insight/capability-probes.js';
import type { DecisionLog } from '../insight/decision-log.js';
import {
  type AgentRegistration,
  AgentRegistrationSchema,
  REMOTE_A2A_AGENT_TYPE,
  RegistryExportSchema,
} from '../registry/agent-record.js';
import type { AgentRegistry, RegisteredAgent } from '../registry/agent-registry.js';
import { toAgentView } from '../registry/agent-registry.js';
import type { SessionStore } from '../sessions/session-store.js';
import { actorOf, type TokenGuard } from './admin-auth.js';
import { acceptsGzip, matchesEtag } from './conditional-get.js';
import {
  AgentListQuerySchema,
  AgentListSchema,
  AgentNameParamsSchema,
  AgentResponseSchema,
  AgentVersionParamsSchema,
  AgentVersionsResponseSchema,
  CapabilitiesUpdateSchema,
  ChangesQuerySchema,
  ChangesResponseSchema,
  EnabledStatusSchema,
  EnabledUpdateSchema,
  errorResponses,
  RegisteredResponseSchema,
  RollbackRequestSchema,
  RollbackResponseSchema,
  RouteRequestSchema,
  RouteResponseSchema,
  statusResponse,
} from './schemas.js';
import type { QueryRouter } from './services.js';

export interface RegistryRoutesOptions {
  registry: AgentRegistry;
  sessions: SessionStore;
  router: QueryRouter;
  /** The admin guard (it also records the request's actor, `actorOf`). */
  admin: TokenGuard;
  /** Where every routing decision is logged (off the request path); without it nothing is logged. */
  decisionLog?: DecisionLog | undefined;
  /** Capability probes: each agent view carries its last probe, and registrations name what they overlap. */
  probes?: CapabilityProbes | undefined;
  /** Remote A2A agents; without it, `agent_type: "a2a"` registrations and refreshes are refused. */
  remoteAgents?: RemoteAgents | undefined;
  /** The `url` our agents' A2A cards name: where A2A clients send messages (Jarvis's JSON-RPC endpoint). */
  a2aUrl?: string | undefined;
}

/** A factory registration or a remote A2A one, told apart by `agent_type`, each validated by its own schema. */
const RegistrationBodySchema = Type.Union([AgentRegistrationSchema, A2aRegistrationSchema], {
  description:
    'A factory registration, or `{"agent_type": "a2a", "card_url", "name"?, "capabilities"?, "tags"?}` for a ' +
    'remote A2A agent.',
  examples: [
    ...((AgentRegistrationSchema as { examples?: unknown[] }).examples ?? []),
    ...((A2aRegistrationSchema as { examples?: unknown[] }).examples ?? []),
  ],
});

/** Validates a registration against the schema its `agent_type` selects, so errors name that schema's fields. */
const registrationBodyCompiler: FastifySchemaCompiler<unknown> = (route) => {
  if (route.httpPart !== 'body') return TypeBoxValidatorCompiler(route as never);
  const factory = TypeBoxValidatorCompiler({ ...route, schema: AgentRegistrationSchema } as never);
  const remote = TypeBoxValidatorCompiler({ ...route, schema: A2aRegistrationSchema } as never);
  return (value) => {
    const agentType = (value as { agent_type?: unknown } | null)?.agent_type;
    return agentType === REMOTE_A2A_AGENT_TYPE ? remote(value) : factory(value);
  };
};

const TAG = ['registry'];
const ADMIN = [{ bearerAuth: [] }];

export const registryRoutes: FastifyPluginAsyncTypebox<RegistryRoutesOptions> = async (app, options) => {
  const { registry, sessions, router, decisionLog, probes, remoteAgents } = options;
  const a2aUrl = options.a2aUrl ?? 'http://127.0.0.1:9999/a2a/jsonrpc';
  const { admin } = options;
  const view = (entry: RegisteredAgent) =>
    probes === undefined
      ? toAgentView(entry)
      : { ...toAgentView(entry), probe: probes.report(entry.record.name) };
  /** Serialized (and gzipped) list bodies by query, for the current revision only: a read costs a lookup. */
  const listCache = new Map<string, { json: Buffer; gzip: Buffer }>();
  let cachedRevision = '';
  // The agents that failed to load here, per revision: a status changes without a revision (a replica whose
  // factory roots differ, or this one restarted with a factory now allowed), so the list's ETag covers it.
  let unavailableAt = -1;
  let unavailable = '';
  const unavailableNames = (revision: number) => {
    if (revision !== unavailableAt) {
      unavailable = registry
        .list()
        .filter((entry) => entry.status === 'unavailable')
        .map((entry) => entry.record.name)
        .join('\n');
      unavailableAt = revision;
    }
    return unavailable;
  };

  app.get(
    '/agents',
    {
      schema: {
        tags: TAG,
        summary: 'List agents',
        description:
          'Agents sorted by name. The response carries a weak ETag of the registry revision, of what the ' +
          'capability probes found and of which agents are unavailable here (`W/"<revision>.<digest>"`); send ' +
          'it back in If-None-Match to get 304 Not Modified while none changed. Only `probe.checked_at` may ' +
          'differ under one ETag.',
        querystring: AgentListQuerySchema,
        response: {
          200: AgentListSchema,
          304: { type: 'null', description: 'Not modified' },
          ...errorResponses(400),
        },
      },
    },
    async (request, reply) => {
      // The store's revision, then what the probes found (not when) and which agents failed to load: the same
      // ETag on every replica once it has applied the same changes and found the same, and a new one when any
      // finding or status changes.
      // Weak: bodies under one ETag differ in `checked_at` (and in content coding), not in meaning.
      const revision = registry.revision;
      const etag = listEtag(revision, probes?.digest, unavailableNames(revision));
      void reply.header('etag', etag).header('cache-control', 'no-cache');
      if (matchesEtag(request.headers['if-none-match'], etag)) {
        // No payload at all: a serialized `null` would announce a body that a 304 must not have.
        return reply.code(304).send(undefined as never);
      }
      const tags = (request.query.tags ?? '')
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean);
      const key = `${request.query.enabled_only === true}|${tags.join(',')}`;
      // Every probe run rewrites the views (checked_at) without a new revision: the body cache follows it.
      const version = `${revision}:${probes?.version ?? 0}`;
      if (version !== cachedRevision) {
        listCache.clear();
        cachedRevision = version;
      }
      let body = listCache.get(key);
      if (body === undefined) {
        const agents = registry.list({ enabledOnly: request.query.enabled_only === true, tags }).map(view);
        // Encoded once: sending a large string re-encodes it to UTF-8 on every response.
        const json = Buffer.from(reply.serialize({ agents, total: agents.length }) as string, 'utf8');
        body = { json, gzip: gzipSync(json) };
        if (listCache.size < 64) listCache.set(key, body);
      }
      void reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
      if (acceptsGzip(request.headers['accept-encoding'])) {
        return reply.header('content-encoding', 'gzip').send(body.gzip as never);
      }
      return reply.send(body.json as never);
    },
  );

  app.get(
    '/agents/:agent_name',
    {
      schema: {
        tags: TAG,
        summary: 'Get one agent',
        description:
          'The agent, with its last capability probe. The response carries a weak ETag of what the view says ' +
          '(all of it but `probe.checked_at`); send it back in If-None-Match to get 304 Not Modified while the ' +
          'agent, its status and its probe findings are the same.',
        params: AgentNameParamsSchema,
        response: {
          200: AgentResponseSchema,
          304: { type: 'null', description: 'Not modified' },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const agent = view(registry.require(request.params.agent_name));
      // A digest of the content, not a version: the status (did the factory load here?) and the probe change
      // without one. Leaving checked_at out keeps it equal on replicas whose probes found the same; weak, as
      // bodies under one ETag may differ in checked_at.
      const probe = 'probe' in agent && agent.probe !== null ? { ...agent.probe, checked_at: '' } : null;
      const digest = createHash('sha256')
        .update(JSON.stringify({ ...agent, probe }))
        .digest('base64url')
        .slice(0, 27);
      const etag = `W/"${digest}"`;
      void reply.header('etag', etag).header('cache-control', 'no-cache');
      if (matchesEtag(request.headers['if-none-match'], etag)) {
        return reply.code(304).send(undefined as never);
      }
      return agent;
    },
  );

  app.post(
    '/agents',
    {
      onRequest: admin,
      schema: {
        tags: TAG,
        summary: 'Register an agent',
        description:
          'Imports the factory module (only from AGENT_FACTORY_ROOTS or allowlisted packages), calls the factory ' +
          'with factory_params, and stores the record durably before answering. The name is the created ' +
          'agent\'s own unless `name` is given. With `agent_type: "a2a"` and `card_url`, registers a remote A2A ' +
          'agent: the card is fetched (only from A2A_ALLOWED_HOSTS; link-local and metadata addresses refused, ' +
          'redirects re-checked, at most 256 KiB within 5 s) and validated, then stored with the record; the ' +
          "name is the card's unless `name` is given, and the router learns the card's skills and examples. " +
          '400 `invalid_agent_card` or `host_not_allowed`, 502 `card_fetch_failed`: nothing is stored. `overlaps` ' +
          "names the agents the current registry routes some of the new agent's examples to: the registration " +
          'is accepted, and the operator sees the conflict.',
        security: ADMIN,
        body: RegistrationBodySchema,
        response: { 201: RegisteredResponseSchema, ...errorResponses(400, 401, 409, 413, 415, 502, 503) },
      },
      validatorCompiler: registrationBodyCompiler as never,
    },
    async (request, reply) => {
      const body = request.body as unknown as { agent_type?: unknown; capabilities?: { examples?: unknown } };
      // Against the registry before the agent joins it: who answers its examples today.
      const examples = body.capabilities?.examples;
      const overlaps =
        probes === undefined || !Array.isArray(examples)
          ? undefined
          : probes.overlaps(examples.filter((example): example is string => typeof example === 'string'));
      const actor = actorOf(request);
      const entry =
        body.agent_type === REMOTE_A2A_AGENT_TYPE
          ? await requireRemote(remoteAgents).register(body, { actor })
          : await registry.registerFromConfig(body as AgentRegistration, { actor });
      return reply.code(201).send({
        status: 'registered' as const,
        agent_name: entry.record.name,
        ...(overlaps !== undefined && { overlaps }),
      });
    },
  );

  app.get(
    '/agents/:agent_name/card',
    {
      schema: {
        tags: TAG,
        summary: "Get an agent's A2A agent card",
        description:
          'The A2A AgentCard (protocol 0.3.0, the version @google/adk/a2a speaks) built from the record: name, ' +
          'description, a `version` that changes with every update, and skills from its capabilities (one for ' +
          'the agent with its tags and examples, one per `operations` entry). A remote A2A agent answers with ' +
          'the card its server published. With an ETag: If-None-Match answers 304 while the card is the same.',
        params: AgentNameParamsSchema,
        response: {
          200: AgentCardSchema,
          304: { type: 'null', description: 'Not modified' },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const card = buildAgentCard(registry.require(request.params.agent_name), { url: a2aUrl });
      const json = JSON.stringify(card);
      const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
      void reply.header('etag', etag).header('cache-control', 'no-cache');
      if (matchesEtag(request.headers['if-none-match'], etag)) {
        return reply.code(304).send(undefined as never);
      }
      return reply.type('application/json; charset=utf-8').send(json as never);
    },
  );

  app.post(
    '/agents/:agent_name/refresh',
    {
      onRequest: admin,
      schema: {
        tags: TAG,
        summary: "Re-fetch a remote A2A agent's card",
        description:
          'Fetches the card again (with the same safety checks as registration). A changed card is stored and ' +
          'the router relearns its skills; a card that cannot be fetched or no longer validates marks the agent ' +
          '`unavailable` with the error (it is never removed); the next good fetch makes it available again. ' +
          'Cards are also re-fetched every A2A_CARD_REFRESH_SECONDS.',
        security: ADMIN,
        params: AgentNameParamsSchema,
        response: { 200: RefreshResultSchema, ...errorResponses(400, 401, 404, 503) },
      },
    },
    async (request) =>
      requireRemote(remoteAgents).refresh(request.params.agent_name, { actor: actorOf(request) }),
  );

  app.put(
    '/agents/:agent_name/capabilities',
    {
      onRequest: admin,
      schema: {
        tags: TAG,
        summary: "Replace an agent's capabilities",
        security: ADMIN,
        params: AgentNameParamsSchema,
        body: CapabilitiesUpdateSchema,
        response: {
          200: statusResponse('updated', 'Capabilities replaced'),
          ...errorResponses(400, 401, 404, 413, 415, 503),
        },
      },
    },
    async (request) => {
      await registry.updateCapabilities(request.params.agent_name, request.body.capabilities, {
        actor: actorOf(request),
      });
      return { status: 'updated' as const };
    },
  );

  app.patch(
    '/agents/:agent_name/status',
    {
      onRequest: admin,
      schema: {
        tags: TAG,
        summary: 'Enable or disable an agent',
        description: 'Disabled agents stay registered but are never routed to.',
        security: ADMIN,
        params: AgentNameParamsSchema,
        body: EnabledUpdateSchema,
        response: { 200: EnabledStatusSchema, ...errorResponses(400, 401, 404, 415, 503) },
      },
    },
    async (request) => {
      await registry.setEnabled(request.params.agent_name, request.body.enabled, { actor: actorOf(request) });
      return { status: request.body.enabled ? ('enabled' as const) : ('disabled' as const) };
    },
  );

  app.delete(
    '/agents/:agent_name',
    {
      onRequest: admin,
      schema: {
        tags: TAG,
        summary: 'Delete an agent',
        security: ADMIN,
        params: AgentNameParamsSchema,
        response: { 200: statusResponse('deleted', 'Agent removed'), ...errorResponses(400, 401, 404, 503) },
      },
    },
    async (request) => {
      await registry.unregister(request.params.agent_name, { actor: actorOf(request) });
      return { status: 'deleted' as const };
    },
  );

  app.get(
    '/agents/:agent_name/versions',
    {
      schema: {
        tags: TAG,
        summary: "List an agent's versions",
        description:
          'Every change to an agent (register, update, enable/disable, delete, rollback) makes its next version; ' +
          'newest first, the newest REGISTRY_VERSIONS_KEPT (default 50) kept. A deleted agent keeps its history, ' +
          'and registering its name again continues the numbering. 404 only for a name that never existed.',
        params: AgentNameParamsSchema,
        response: { 200: AgentVersionsResponseSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => ({ versions: await registry.versions(request.params.agent_name) }),
  );

  app.get(
    '/agents/:agent_name/versions/:version',
    {
      schema: {
        tags: TAG,
        summary: 'Get an agent as a version left it',
        description:
          'The agent as it was after that version (for a deletion: as it was deleted). `status` is the ' +
          "current agent's when that version is the current one, else `available`.",
        params: AgentVersionParamsSchema,
        response: { 200: AgentResponseSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { agent_name, version } = request.params;
      const record = await registry.version(agent_name, version);
      const cached = registry.get(agent_name);
      const current = cached?.version === version ? cached : undefined;
      return toAgentView({
        record,
        version,
        agent: undefined,
        status: current?.status ?? 'available',
        ...(current?.error !== undefined && { error: current.error }),
      });
    },
  );

  app.post(
    '/agents/:agent_name/rollback',
    {
      onRequest: admin,
      schema: {
        tags: TAG,
        summary: 'Roll an agent back to a version',
        description:
          'Makes a new version equal to version `version` (its record, `updated_at` now): an update, or a new ' +
          'registration when the agent is deleted (its factory must load, as for any registration). ' +
          '404 `version_not_found` when that version is not kept.',
        security: ADMIN,
        params: AgentNameParamsSchema,
        body: RollbackRequestSchema,
        response: { 200: RollbackResponseSchema, ...errorResponses(400, 401, 404, 413, 415, 503) },
      },
    },
    async (request) => {
      const version = await registry.rollback(request.params.agent_name, request.body.version, {
        actor: actorOf(request),
      });
      return { status: 'rolled_back' as const, version };
    },
  );

  app.get(
    '/changes',
    {
      schema: {
        tags: TAG,
        summary: 'Follow the changes to the registry',
        description:
          'The changes after revision `since`, oldest first, with the revision they bring the registry to. ' +
          'Without `since`, just the current revision (start following from there). With `wait` (seconds, at ' +
          'most 30), a request that finds no change waits for one. `410 history_expired` when changes after ' +
          '`since` are no longer kept: reload the list (`GET /registry/agents`) and follow from its revision. ' +
          "Revisions are the store's: every replica numbers the same change the same way.",
        querystring: ChangesQuerySchema,
        response: { 200: ChangesResponseSchema, ...errorResponses(400, 410) },
      },
    },
    async (request) => {
      const { since, limit = 100, wait = 0 } = request.query;
      if (since === undefined) return { revision: registry.revision, changes: [] };
      const page = await registry.changes(since, limit, wait * 1000);
      return {
        revision: page.revision,
        changes: page.changes.map((change) => {
          const cached = registry.get(change.agent_name);
          const status = cached?.version === change.version ? cached : undefined;
          return {
            revision: change.revision,
            type: change.type,
            agent_name: change.agent_name,
            agent:
              change.record === null
                ? null
                : toAgentView({
                    record: change.record,
                    version: change.version,
                    agent: undefined,
                    status: status?.status ?? 'available',
                    ...(status?.error !== undefined && { error: status.error }),
                  }),
            version: change.version,
            at: change.at,
          };
        }),
      };
    },
  );

  app.get(
    '/export',
    {
      schema: {
        tags: TAG,
        summary: 'Export the registry',
        description:
          'The registry in its file format: {"version", "last_updated", "agents": {name: record}}.',
        response: {
          200: {
            ...RegistryExportSchema,
            examples: [{ version: '1.0.0', last_updated: '2026-11-23T09:30:00.000Z', agents: {} }],
          },
        },
      },
    },
    async () => registry.toDocument(),
  );

  app.post(
    '/route',
    {
      schema: {
        tags: TAG,
        summary: 'Pick the agent(s) for a query',
        description:
          'Scores every enabled, available agent and selects those that fit; `selected` is empty when none ' +
          'does. Every decision is logged (`GET /registry/decisions`). ' +
          "With `session_id`, a follow-up that is not confidently routed on its own goes to the session's " +
          'last agent (`follow_up: true`). When a request spans several agents, `parts` says what to ask each.',
        body: RouteRequestSchema,
        response: { 200: RouteResponseSchema, ...errorResponses(400, 404, 413, 415) },
      },
    },
    async (request) => {
      const { query, session_id, top_k } = request.body;
      const context = session_id === undefined ? undefined : await sessions.getContext(session_id);
      const revision = registry.revision;
      const result = await router.route(query, { topK: top_k ?? 5, context });
      decisionLog?.record({ query, session_id, revision, result });
      return result;
    },
  );
};

function requireRemote(remoteAgents: RemoteAgents | undefined): RemoteAgents {
  if (remoteAgents === undefined) {
    throw new AppError('validation_error', 'Remote A2A agents are not enabled in this service');
  }
  return remoteAgents;
}

/**
 * The agent list's ETag: `W/"<revision>"`, or `W/"<revision>.<digest>"` where the digest is the probes' own
 * when every agent is available, else a digest of it and of the unavailable agents' names.
 */
function listEtag(revision: number, probeDigest: string | undefined, unavailable: string): string {
  if (unavailable === '')
    return probeDigest === undefined ? `W/"${revision}"` : `W/"${revision}.${probeDigest}"`;
  const digest = createHash('sha256')
    .update(`${probeDigest ?? ''}\n${unavailable}`)
    .digest('base64url')
    .slice(0, 16);
  return `W/"${revision}.${digest}"`;
}
