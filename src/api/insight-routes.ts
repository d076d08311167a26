/**
 * @module api/insight-routes
 * `/registry/decisions` (the routing decision log) and `/registry/route/replay` (what-if replay of the logged
 * queries against a proposed change). The log holds users' queries, so reading it needs the admin or API
 * token; a replay shows them too and tries a registry change, so it needs the admin token.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteReplay } from '../insight/route-replay.js';
import { DecisionListQuerySchema } from '../sessions/routing-decision.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { TokenGuard } from './admin-auth.js';
import {
  DecisionListResponseSchema,
  errorResponses,
  ReplayRequestSchema,
  ReplayResponseSchema,
} from './schemas.js';

export interface InsightRoutesOptions {
  sessions: SessionStore;
  replay: RouteReplay;
  /** Guards the decision log (admin or API token). */
  decisionsGuard: TokenGuard;
  /** Guards replays (admin token). */
  adminGuard: TokenGuard;
}

const TAG = ['registry'];

export const insightRoutes: FastifyPluginAsyncTypebox<InsightRoutesOptions> = async (app, options) => {
  const { sessions, replay } = options;

  app.get(
    '/decisions',
    {
      onRequest: options.decisionsGuard,
      schema: {
        tags: TAG,
        summary: 'Read the routing decision log',
        description:
          'Every routing decision (`POST /registry/route`, which Jarvis uses too), newest first: the query (a ' +
          'SHA-256 when ROUTER_LOG_QUERIES=false), the candidates with their scores, what was selected, whether ' +
          'it was a follow-up, the registry revision and the session. Filter by `session_id`, by `agent` ' +
          "(decisions that selected it) and by `since`; page with `limit` and the previous page's " +
          '`next_cursor`. Decisions are written in the background a moment after the routing call answers, ' +
          'kept as long as sessions (SESSION_RETENTION_DAYS, and deleted with their session) and at most ' +
          'ROUTER_DECISIONS_KEPT. Needs the admin or the API token when one is configured (queries are user data).',
        security: [{ bearerAuth: [] }, { apiToken: [] }],
        querystring: DecisionListQuerySchema,
        response: { 200: DecisionListResponseSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => sessions.listDecisions(request.query),
  );

  app.post(
    '/route/replay',
    {
      onRequest: options.adminGuard,
      schema: {
        tags: TAG,
        summary: 'Replay logged queries against a proposed change',
        description:
          'Routes the newest `limit` logged queries (default 10,000; only those since `since`) against the ' +
          'current registry and against the registry with `change` applied in memory, never saved: a ' +
          '`register` (a registration body, its factory called as registering would), an `update` of an ' +
          "agent's capabilities, or a `delete`. A change registering would refuse is refused the same way " +
          '(400, 404, 409). Both sides use the offline decision without session context. Answers the queries ' +
          'whose selection changes and a summary: `moved` ("from->to": decisions), `newly_none` (would find ' +
          'no agent), `newly_routed` (found none, would find one). One replay runs at a time (429 meanwhile).',
        security: [{ bearerAuth: [] }],
        body: ReplayRequestSchema,
        response: { 200: ReplayResponseSchema, ...errorResponses(400, 401, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => replay.replay(request.body),
  );
};
