/**
 * @module api/session-routes
 * `/sessions`: create, read (whole or in pages), list, record messages and agent invocations, change
 * status, delete. Every write is durable before it is answered.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  HistoryEntryInputSchema,
  InvocationInputSchema,
  SessionCreationSchema,
  SessionListQuerySchema,
  SessionListSchema,
  SessionSchema,
  StatusUpdateSchema,
} from '../sessions/session-record.js';
import type { SessionStore } from '../sessions/session-store.js';
import { matchesEtag } from './conditional-get.js';
import { ResponseCache } from './response-cache.js';
import { errorResponses, SessionCreatedSchema, SessionIdParamsSchema, statusResponse } from './schemas.js';

export interface SessionRoutesOptions {
  sessions: SessionStore;
}

const TAG = ['sessions'];
/** Encoded session bodies kept for repeated reads of unchanged sessions. */
const SESSION_CACHE_BYTES = 32 * 1024 * 1024;
const Offset = Type.Integer({ minimum: 0 });
const Limit = Type.Integer({ minimum: 1, maximum: 100_000 });

const SessionPageQuerySchema = Type.Object(
  {
    history_offset: Type.Optional(Offset),
    history_limit: Type.Optional(Limit),
    invocations_offset: Type.Optional(Offset),
    invocations_limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);

const EXAMPLE_SESSION = {
  session_id: '0b8f6a52-3c1e-4c8e-9d0e-6f1f2b7d9a41',
  user_id: 'alice',
  created_at: '2026-11-23T09:30:00.000Z',
  updated_at: '2026-11-23T09:30:02.000Z',
  status: 'active',
  metadata: { channel: 'web' },
  conversation_history: [
    { role: 'user', content: 'show my tickets', timestamp: '2026-11-23T09:30:01.000Z' },
    {
      role: 'assistant',
      content: 'You have 2 open tickets: INC-1001, INC-1004',
      timestamp: '2026-11-23T09:30:02.000Z',
    },
  ],
  agents_invoked: [
    {
      agent_name: 'tickets_agent',
      query: 'show my tickets',
      response: 'You have 2 open tickets: INC-1001, INC-1004',
      success: true,
      error_message: null,
      duration_ms: 420,
      timestamp: '2026-11-23T09:30:02.000Z',
    },
  ],
  last_agent_called: 'tickets_agent',
  context: {
    last_agent_called: 'tickets_agent',
    last_query: 'show my tickets',
    last_response: 'You have 2 open tickets: INC-1001, INC-1004',
    updated_at: '2026-11-23T09:30:02.000Z',
  },
};

const { conversation_history: _h, agents_invoked: _i, context: _c, ...EXAMPLE_FIELDS } = EXAMPLE_SESSION;
const EXAMPLE_SUMMARY = { ...EXAMPLE_FIELDS, message_count: 2, invocation_count: 1 };

export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRoutesOptions> = async (app, { sessions }) => {
  const cache = new ResponseCache(SESSION_CACHE_BYTES);

  app.post(
    '/',
    {
      schema: {
        tags: TAG,
        summary: 'Create a session',
        body: SessionCreationSchema,
        response: { 201: SessionCreatedSchema, ...errorResponses(400, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const sessionId = await sessions.createSession(request.body.user_id, request.body.metadata);
      return reply.code(201).send({ session_id: sessionId });
    },
  );

  app.get(
    '/',
    {
      schema: {
        tags: TAG,
        summary: 'List sessions',
        description:
          'Most recently updated first (ties by session id), optionally by user and status; `limit` defaults to 50. ' +
          "For the next page pass the response's `next_cursor` back as `cursor` (`null` on the last page): " +
          'pages read by cursor neither skip nor repeat a session while others are created, updated or deleted; ' +
          'a session updated meanwhile moves to the front of the listing. `offset` still pages by position ' +
          '(not together with `cursor`). An unreadable cursor is a 400.',
        querystring: SessionListQuerySchema,
        response: {
          200: {
            ...SessionListSchema,
            examples: [{ sessions: [EXAMPLE_SUMMARY], total: 1, next_cursor: null }],
          },
          ...errorResponses(400),
        },
      },
    },
    async (request) => sessions.listSessions(request.query),
  );

  app.get(
    '/:session_id',
    {
      schema: {
        tags: TAG,
        summary: 'Get a session',
        description:
          'The session with its conversation history (insertion order), agent invocations and context. ' +
          'Long sessions can be read in pages with history_offset/history_limit and invocations_offset/invocations_limit. ' +
          'The response has an ETag that changes with every change to the session: send it back in If-None-Match ' +
          'to get 304 Not Modified while nothing changed.',
        params: SessionIdParamsSchema,
        querystring: SessionPageQuerySchema,
        response: {
          200: { ...SessionSchema, examples: [EXAMPLE_SESSION] },
          304: { type: 'null', description: 'Not modified' },
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const id = request.params.session_id;
      const q = request.query;
      const version = await sessions.getSessionVersion(id);
      const etag = `W/"${version}"`;
      void reply.header('etag', etag).header('cache-control', 'no-cache');
      if (matchesEtag(request.headers['if-none-match'], etag))
        return reply.code(304).send(undefined as never);
      const key = `${id}?${q.history_offset ?? ''}&${q.history_limit ?? ''}&${q.invocations_offset ?? ''}&${q.invocations_limit ?? ''}`;
      let body = cache.get(key, version);
      if (body === undefined) {
        const session = await sessions.getSession(id, {
          ...(q.history_offset !== undefined && { historyOffset: q.history_offset }),
          ...(q.history_limit !== undefined && { historyLimit: q.history_limit }),
          ...(q.invocations_offset !== undefined && { invocationsOffset: q.invocations_offset }),
          ...(q.invocations_limit !== undefined && { invocationsLimit: q.invocations_limit }),
        });
        // Encoded once per version: a large string would be re-encoded to UTF-8 on every response.
        body = Buffer.from(reply.serialize(session) as string, 'utf8');
        // Stored under the version read first: if the session changed meanwhile, the next read misses and refreshes.
        cache.set(key, version, body);
      }
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );

  app.post(
    '/:session_id/invocations',
    {
      schema: {
        tags: TAG,
        summary: 'Record an agent invocation',
        description:
          "A successful invocation also becomes the session's context (last agent, query, response).",
        params: SessionIdParamsSchema,
        body: InvocationInputSchema,
        response: {
          201: statusResponse('tracked', 'Invocation stored'),
          ...errorResponses(400, 404, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      await sessions.trackInvocation(request.params.session_id, request.body);
      return reply.code(201).send({ status: 'tracked' as const });
    },
  );

  app.post(
    '/:session_id/history',
    {
      schema: {
        tags: TAG,
        summary: 'Add a message to the conversation',
        params: SessionIdParamsSchema,
        body: HistoryEntryInputSchema,
        response: {
          201: statusResponse('added', 'Message stored'),
          ...errorResponses(400, 404, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      await sessions.addToHistory(request.params.session_id, request.body.role, request.body.content);
      return reply.code(201).send({ status: 'added' as const });
    },
  );

  app.patch(
    '/:session_id/status',
    {
      schema: {
        tags: TAG,
        summary: 'Change the session status',
        params: SessionIdParamsSchema,
        body: { ...StatusUpdateSchema, examples: [{ status: 'completed' }] },
        response: { 200: statusResponse('updated', 'Status changed'), ...errorResponses(400, 404, 415, 503) },
      },
    },
    async (request) => {
      await sessions.updateSessionStatus(request.params.session_id, request.body.status);
      return { status: 'updated' as const };
    },
  );

  app.delete(
    '/:session_id',
    {
      schema: {
        tags: TAG,
        summary: 'Delete a session',
        description: 'Deletes the session with its history, invocations and context.',
        params: SessionIdParamsSchema,
        response: { 200: statusResponse('deleted', 'Session removed'), ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      await sessions.deleteSession(request.params.session_id);
      return { status: 'deleted' as const };
    },
  );
};
