/**
 * @module jarvis_agent/schemas
 * The orchestrator's HTTP contract (`POST /chat`, `GET /health`) as schemas: they validate requests, shape
 * responses and give the TypeScript types. Ids reuse the session service's own schemas.
 */
import { type Static, Type } from 'typebox';
import { MAX_QUERY_LENGTH } from '../src/routing/agent-router.js';
import { SessionId, UserId } from '../src/sessions/session-record.js';

export const ChatRequestSchema = Type.Object(
  {
    user_id: UserId,
    message: Type.String({
      minLength: 1,
      maxLength: MAX_QUERY_LENGTH,
      pattern: '\\S',
      description: "The user's message.",
      examples: ['show my open tickets'],
    }),
    // Omitted: a new session starts. Given: the session of an earlier answer continues.
    session_id: Type.Optional(SessionId),
  },
  {
    additionalProperties: false,
    examples: [{ user_id: 'alice', message: 'show my open tickets' }],
  },
);
export type ChatRequest = Static<typeof ChatRequestSchema>;

const NullableText = Type.Union([Type.String(), Type.Null()]);

export const ChatInvocationSchema = Type.Object(
  {
    agent_name: Type.String(),
    success: Type.Boolean(),
    duration_ms: Type.Integer({ minimum: 0 }),
    response: NullableText,
    error_message: NullableText,
  },
  { additionalProperties: false },
);
export type ChatInvocation = Static<typeof ChatInvocationSchema>;

export const ChatResponseSchema = Type.Object(
  {
    session_id: SessionId,
    response: Type.String({ description: 'The reply: one section per agent when several answered.' }),
    agents: Type.Array(Type.String(), {
      description: 'Agents selected for the message; empty when none fits.',
    }),
    invocations: Type.Array(ChatInvocationSchema),
  },
  { additionalProperties: false },
);
export type ChatResponse = Static<typeof ChatResponseSchema>;

export const JarvisHealthSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    registry: Type.Object(
      {
        url: Type.String(),
        reachable: Type.Boolean(),
        agents: Type.Integer({ minimum: 0, description: 'Agents known from the last listing.' }),
        error: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type JarvisHealth = Static<typeof JarvisHealthSchema>;
