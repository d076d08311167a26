/**
 * @module sessions/session-record
 * The session data contract as schemas: a session as returned, its messages, invocations and context, and
 * what callers send. They validate store input for every backend and give the API its OpenAPI shapes and types.
 */
import { type Static, Type } from 'typebox';

export const SESSION_STATUSES = ['active', 'completed', 'expired'] as const;
export const MESSAGE_ROLES = ['user', 'assistant', 'system'] as const;

export const SessionStatus = Type.Enum(SESSION_STATUSES, {
  description:
    '`active`, `completed` or `expired` (set by retention when an active session stays idle too long).',
});
export type SessionStatus = Static<typeof SessionStatus>;

export const MessageRole = Type.Enum(MESSAGE_ROLES, { description: '`user`, `assistant` or `system`.' });
export type MessageRole = Static<typeof MessageRole>;

const Timestamp = Type.String({ format: 'date-time', examples: ['2026-11-23T09:30:00.000Z'] });
const NullableText = Type.Union([Type.String(), Type.Null()]);

export const SessionId = Type.String({
  minLength: 1,
  maxLength: 128,
  description: 'Random, unguessable session id (a UUID v4) returned by `POST /sessions`.',
  examples: ['0b8f6a52-3c1e-4c8e-9d0e-6f1f2b7d9a41'],
});

export const UserId = Type.String({ minLength: 1, maxLength: 256, examples: ['alice'] });

export const SessionMetadata = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Free-form JSON object stored with the session.',
  examples: [{ channel: 'web' }],
});
export type SessionMetadata = Static<typeof SessionMetadata>;

/** Agent names are recorded as given: an invocation outlives the agent's registration. */
const InvokedAgentName = Type.String({ minLength: 1, maxLength: 256, examples: ['tickets_agent'] });
const DurationMs = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, examples: [420] });

export const HistoryEntrySchema = Type.Object(
  { role: MessageRole, content: Type.String(), timestamp: Timestamp },
  { additionalProperties: false },
);
export type HistoryEntry = Static<typeof HistoryEntrySchema>;

export const InvocationSchema = Type.Object(
  {
    agent_name: InvokedAgentName,
    query: Type.String(),
    response: NullableText,
    success: Type.Boolean(),
    error_message: NullableText,
    duration_ms: DurationMs,
    timestamp: Timestamp,
  },
  { additionalProperties: false },
);
export type Invocation = Static<typeof InvocationSchema>;

export const SessionContextSchema = Type.Object(
  {
    last_agent_called: NullableText,
    last_query: NullableText,
    last_response: NullableText,
    updated_at: Type.Union([Timestamp, Type.Null()], {
      description: '`null` until the context is first set.',
    }),
  },
  { additionalProperties: false },
);
export type SessionContext = Static<typeof SessionContextSchema>;

const summaryFields = {
  session_id: SessionId,
  user_id: UserId,
  created_at: Timestamp,
  updated_at: Timestamp,
  status: SessionStatus,
  metadata: SessionMetadata,
  last_agent_called: NullableText,
};

const Count = Type.Integer({ minimum: 0, examples: [2] });

/** A session without its history but with its sizes: what listings return. */
export const SessionSummarySchema = Type.Object(
  {
    ...summaryFields,
    message_count: { ...Count, description: 'Messages in the conversation history.' },
    invocation_count: { ...Count, description: 'Agent invocations recorded, successful or not.' },
  },
  { additionalProperties: false },
);
export type SessionSummary = Static<typeof SessionSummarySchema>;
/** The fields a session and its summary share. */
export type SessionFields = Omit<SessionSummary, 'message_count' | 'invocation_count'>;

/** `GET /sessions/{session_id}`: the session with its messages (insertion order), invocations and context. */
export const SessionSchema = Type.Object(
  {
    ...summaryFields,
    conversation_history: Type.Array(HistoryEntrySchema),
    agents_invoked: Type.Array(InvocationSchema),
    context: SessionContextSchema,
  },
  { additionalProperties: false },
);
export type Session = Static<typeof SessionSchema>;

/** An opaque position in a listing: pass a page's `next_cursor` back as `cursor` for the next page. */
export const SessionCursor = Type.String({
  minLength: 1,
  maxLength: 1024,
  description:
    "Opaque: a page's `next_cursor`, to read the sessions after that page's last one. Pages read this way " +
    'neither skip nor repeat a session while others are created or updated; a session updated meanwhile ' +
    'moves to the front of the listing.',
  examples: ['WyIyMDI2LTExLTIzVDA5OjMwOjAyLjAwMFoiLCIwYjhmNmE1MiJd'],
});

export const SessionListSchema = Type.Object(
  {
    sessions: Type.Array(SessionSummarySchema),
    total: Type.Integer({ minimum: 0, description: 'Sessions matching the filters, on every page.' }),
    next_cursor: Type.Union([SessionCursor, Type.Null()], {
      description: '`cursor` for the next page; `null` on the last page.',
    }),
  },
  { additionalProperties: false },
);
export type SessionList = Static<typeof SessionListSchema>;

/** `POST /sessions`. */
export const SessionCreationSchema = Type.Object(
  { user_id: UserId, metadata: Type.Optional(SessionMetadata) },
  { additionalProperties: false, examples: [{ user_id: 'alice', metadata: { channel: 'web' } }] },
);
export type SessionCreation = Static<typeof SessionCreationSchema>;

/** `POST /sessions/{session_id}/invocations`. */
export const InvocationInputSchema = Type.Object(
  {
    agent_name: InvokedAgentName,
    query: Type.String(),
    response: Type.Optional(NullableText),
    success: Type.Boolean(),
    error_message: Type.Optional(NullableText),
    duration_ms: DurationMs,
  },
  {
    additionalProperties: false,
    examples: [
      {
        agent_name: 'tickets_agent',
        query: 'show my tickets',
        response: '2 open',
        success: true,
        duration_ms: 420,
      },
    ],
  },
);
export type InvocationInput = Static<typeof InvocationInputSchema>;

/** `POST /sessions/{session_id}/history`. */
export const HistoryEntryInputSchema = Type.Object(
  { role: MessageRole, content: Type.String() },
  { additionalProperties: false, examples: [{ role: 'user', content: 'show my tickets' }] },
);
export type HistoryEntryInput = Static<typeof HistoryEntryInputSchema>;

/** `PATCH /sessions/{session_id}/status`. */
export const StatusUpdateSchema = Type.Object({ status: SessionStatus }, { additionalProperties: false });
export type StatusUpdate = Static<typeof StatusUpdateSchema>;

export const ContextInputSchema = Type.Object(
  { last_agent_called: NullableText, last_query: NullableText, last_response: NullableText },
  { additionalProperties: false },
);
export type ContextInput = Static<typeof ContextInputSchema>;

const Offset = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** Pages of history and invocations; without `limit` everything from `offset` on. */
const Limit = Type.Integer({ minimum: 1, maximum: 100_000 });

export const PageSchema = Type.Object(
  { offset: Type.Optional(Offset), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type Page = Static<typeof PageSchema>;

export const GetSessionOptionsSchema = Type.Object(
  {
    historyOffset: Type.Optional(Offset),
    historyLimit: Type.Optional(Limit),
    invocationsOffset: Type.Optional(Offset),
    invocationsLimit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type GetSessionOptions = Static<typeof GetSessionOptionsSchema>;

/**
 * Listings are most recently updated first (ties by session id); `limit` defaults to 50. Page with `cursor`
 * (stable while sessions change) or `offset` (not both).
 */
export const SessionListQuerySchema = Type.Object(
  {
    user_id: Type.Optional(UserId),
    status: Type.Optional(SessionStatus),
    offset: Type.Optional(Offset),
    cursor: Type.Optional(SessionCursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type SessionListQuery = Static<typeof SessionListQuerySchema>;

export const CleanupOptionsSchema = Type.Object(
  {
    days: Type.Number({ minimum: 0, maximum: 36_500 }),
    idleTimeoutMinutes: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 52_560_000 })),
  },
  { additionalProperties: false },
);

/** What one retention run did. */
export const CleanupResultSchema = Type.Object(
  {
    deleted_sessions: Type.Integer({ minimum: 0 }),
    deleted_messages: Type.Integer({ minimum: 0 }),
    deleted_invocations: Type.Integer({ minimum: 0 }),
    expired_sessions: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type CleanupResult = Static<typeof CleanupResultSchema>;
