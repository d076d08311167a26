/**
 * @module api/adk-session-routes
 * The ADK part of the session store over HTTP (`StoreSessionService` in another process, such as Jarvis's
 * agents, reads and writes through these): an ADK session of an app in one of our sessions, its events,
 * and the app's sessions. Writes are durable before they are answered.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.js';
import { SessionId, UserId } from '../sessions/session-record.js';
import type { SessionStore } from '../sessions/session-store.js';
import { errorResponses, statusResponse } from './schemas.js';

export interface AdkSessionRoutesOptions {
  sessions: SessionStore;
}

const TAG = ['adk'];
const JsonObject = Type.Record(Type.String(), Type.Unknown());
const AppName = Type.String({ minLength: 1, maxLength: 256, examples: ['jarvis.tickets_agent'] });
const Millis = Type.Number({
  minimum: 0,
  description: 'Milliseconds since the epoch (ADK `lastUpdateTime`).',
});
const Params = Type.Object({ session_id: SessionId, app_name: AppName }, { additionalProperties: false });

const EXAMPLE_EVENT = {
  id: 'e-1',
  invocationId: 'inv-1',
  author: 'tickets_agent',
  timestamp: 1764633600000,
  content: { role: 'model', parts: [{ functionCall: { name: 'list_tickets', args: { status: 'open' } } }] },
  actions: { stateDelta: {}, artifactDelta: {}, requestedAuthConfigs: {}, requestedToolConfirmations: {} },
};

const EXAMPLE_RECORD = {
  session_id: '0b8f6a52-3c1e-4c8e-9d0e-6f1f2b7d9a41',
  app_name: 'jarvis.tickets_agent',
  user_id: 'alice',
  state: {},
  last_update_time: 1764633600000,
};

const AdkSessionRecordSchema = Type.Object(
  { session_id: SessionId, app_name: AppName, user_id: UserId, state: JsonObject, last_update_time: Millis },
  { additionalProperties: false, examples: [EXAMPLE_RECORD] },
);

const AdkStoredSessionSchema = Type.Object(
  {
    ...AdkSessionRecordSchema.properties,
    events: Type.Array(JsonObject, {
      description: "Every event, as ADK's JSON, in the order first appended.",
    }),
    app_state: JsonObject,
    user_state: JsonObject,
  },
  {
    additionalProperties: false,
    examples: [
      {
        session_id: '0b8f6a52-3c1e-4c8e-9d0e-6f1f2b7d9a41',
        app_name: 'jarvis.tickets_agent',
        user_id: 'alice',
        state: {},
        last_update_time: 1764633600000,
        events: [EXAMPLE_EVENT],
        app_state: {},
        user_state: {},
      },
    ],
  },
);

const CreateBody = Type.Object(
  { user_id: UserId, state: Type.Optional(JsonObject), last_update_time: Millis },
  {
    additionalProperties: false,
    examples: [{ user_id: 'alice', state: {}, last_update_time: 1764633600000 }],
  },
);

const AppendBody = Type.Object(
  {
    event: JsonObject,
    state_delta: JsonObject,
    app_state_delta: JsonObject,
    user_state_delta: JsonObject,
    last_update_time: Millis,
  },
  {
    additionalProperties: false,
    examples: [
      {
        event: EXAMPLE_EVENT,
        state_delta: {},
        app_state_delta: {},
        user_state_delta: {},
        last_update_time: 1764633600000,
      },
    ],
  },
);

/** Registered under `/sessions` (the session token guards it). */
export const adkSessionRoutes: FastifyPluginAsyncTypebox<AdkSessionRoutesOptions> = async (app, options) => {
  const { sessions } = options;

  app.put(
    '/:session_id/adk/:app_name',
    {
      schema: {
        tags: TAG,
        summary: 'Make the session an ADK session of an app',
        description:
          'Creates the session when there is none with this id; an existing session of the same user becomes ' +
          'an ADK session of the app too. `409 session_exists` when it already is one, or is another user’s.',
        params: Params,
        body: CreateBody,
        response: { 201: AdkSessionRecordSchema, ...errorResponses(400, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const record = await sessions.createAdkSession({
        session_id: request.params.session_id,
        app_name: request.params.app_name,
        user_id: request.body.user_id,
        state: request.body.state ?? {},
        last_update_time: request.body.last_update_time,
      });
      return reply.code(201).send(record);
    },
  );

  app.get(
    '/:session_id/adk/:app_name',
    {
      schema: {
        tags: TAG,
        summary: 'Read an ADK session with all its events',
        params: Params,
        response: { 200: AdkStoredSessionSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      const stored = await sessions.getAdkSession(request.params.session_id, request.params.app_name);
      if (stored === undefined) {
        throw new AppError(
          'session_not_found',
          `Session ${request.params.session_id} is not an ADK session of ${request.params.app_name}.`,
        );
      }
      return stored;
    },
  );

  app.post(
    '/:session_id/adk/:app_name/events',
    {
      schema: {
        tags: TAG,
        summary: 'Append an ADK event',
        description: 'Stores the event (replacing one with the same id) and applies the state deltas.',
        params: Params,
        body: AppendBody,
        response: {
          201: statusResponse('appended', 'Event stored'),
          ...errorResponses(400, 404, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      await sessions.appendAdkEvent(request.params.session_id, request.params.app_name, request.body);
      return reply.code(201).send({ status: 'appended' as const });
    },
  );
};

const ListQuery = Type.Object({ user_id: Type.Optional(UserId) }, { additionalProperties: false });

/** Registered under `/adk` (the session token guards it). */
export const adkAppRoutes: FastifyPluginAsyncTypebox<AdkSessionRoutesOptions> = async (app, options) => {
  app.get(
    '/apps/:app_name/sessions',
    {
      schema: {
        tags: TAG,
        summary: "An app's ADK sessions, without events",
        description: 'In creation order; of one user with `user_id`.',
        params: Type.Object({ app_name: AppName }, { additionalProperties: false }),
        querystring: ListQuery,
        response: {
          200: Type.Object(
            { sessions: Type.Array(AdkSessionRecordSchema) },
            { additionalProperties: false, examples: [{ sessions: [EXAMPLE_RECORD] }] },
          ),
          ...errorResponses(400, 503),
        },
      },
    },
    async (request) => ({
      sessions: await options.sessions.listAdkSessions(request.params.app_name, request.query.user_id),
    }),
  );
};
