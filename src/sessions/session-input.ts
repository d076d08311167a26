/**
 * @module sessions/session-input
 * Validation of what callers pass to a `SessionStore`, shared by every backend so they refuse the same
 * input with the same message. Validators are compiled once from the schemas in `session-record.ts`.
 */
import { AppError } from '../errors.js';
import { assertJsonValue, BODY_LIMITS } from '../safe-json.js';
import { compileValidator } from '../schema-validator.js';
import { decodeSessionCursor, encodeSessionCursor, type SessionCursorPosition } from './session-cursor.js';
import {
  CleanupOptionsSchema,
  type ContextInput,
  ContextInputSchema,
  GetSessionOptionsSchema,
  type HistoryEntryInput,
  HistoryEntryInputSchema,
  type InvocationInput,
  InvocationInputSchema,
  PageSchema,
  SessionCreationSchema,
  SessionId,
  SessionListQuerySchema,
  type SessionStatus,
  StatusUpdateSchema,
} from './session-record.js';
import { DEFAULT_IDLE_TIMEOUT_MINUTES, DEFAULT_RETENTION_DAYS } from './session-store.js';

const sessionIdValidator = compileValidator(SessionId, 'session_id');
const creationValidator = compileValidator(SessionCreationSchema, 'session');
const historyValidator = compileValidator(HistoryEntryInputSchema, 'history entry');
const invocationValidator = compileValidator(InvocationInputSchema, 'invocation');
const statusValidator = compileValidator(StatusUpdateSchema, 'status update');
const contextValidator = compileValidator(ContextInputSchema, 'context');
const pageValidator = compileValidator(PageSchema, 'page');
const getOptionsValidator = compileValidator(GetSessionOptionsSchema, 'session read options');
const listQueryValidator = compileValidator(SessionListQuerySchema, 'session list query');
const cleanupValidator = compileValidator(CleanupOptionsSchema, 'cleanup options');

/** What every backend answers for a session id it does not hold. */
export function sessionNotFound(sessionId: string): AppError {
  return new AppError(
    'session_not_found',
    `Session ${sessionId} not found: it never existed, was deleted, or was removed by retention.`,
  );
}

/**
 * An optional options object as validators see it: `undefined` is `{}`, and keys set to `undefined`
 * are dropped, as JSON would, so `{limit: undefined}` means "no limit".
 */
function optionsObject(value: unknown): unknown {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/**
 * The schema validators say "must be equal to one of the allowed values" without naming them; callers
 * need the list, so enum fields are checked here first.
 */
export function parseSessionId(sessionId: unknown): string {
  return sessionIdValidator(sessionId);
}

/**
 * Validates a new session and serialises its metadata: a JSON object held to the same rules as an HTTP body
 * (no `__proto__`/`constructor` keys, bounded nesting, finite numbers, well-formed Unicode).
 */
export function parseSessionCreation(
  userId: unknown,
  metadata: unknown,
): { userId: string; metadataJson: string } {
  const input = creationValidator(optionsObject({ user_id: userId, metadata }));
  checked(input, 'session');
  return { userId: input.user_id, metadataJson: JSON.stringify(input.metadata ?? {}) };
}

export function parseHistoryEntry(role: unknown, content: unknown): HistoryEntryInput {
  return checked(historyValidator({ role, content }), 'history entry');
}

/** An invocation with its optional fields as `null`. */
export type ParsedInvocation = Required<InvocationInput> & {
  response: string | null;
  error_message: string | null;
};

export function parseInvocation(invocation: unknown): ParsedInvocation {
  const input = checked(
    invocationValidator(invocation === undefined ? invocation : optionsObject(invocation)),
    'invocation',
  );
  return { ...input, response: input.response ?? null, error_message: input.error_message ?? null };
}

export function parseStatus(status: unknown): SessionStatus {
  return statusValidator({ status }).status;
}

export function parseContext(context: unknown): ContextInput {
  return checked(contextValidator(context), 'context');
}

/**
 * Text is stored as UTF-8: a string with an unpaired surrogate would come back altered, so it is refused
 * (with every other rule of a JSON body) instead.
 */
function checked<T>(input: T, subject: string): T {
  assertJsonValue(input, subject, BODY_LIMITS);
  return input;
}

/** SQL-ready paging: `limit` -1 means "no limit". */
export interface ParsedPage {
  offset: number;
  limit: number;
}

export function parsePage(page: unknown): ParsedPage {
  const input = pageValidator(optionsObject(page));
  return { offset: input.offset ?? 0, limit: input.limit ?? -1 };
}

export function parseGetSessionOptions(options: unknown): { history: ParsedPage; invocations: ParsedPage } {
  const input = getOptionsValidator(optionsObject(options));
  return {
    history: { offset: input.historyOffset ?? 0, limit: input.historyLimit ?? -1 },
    invocations: { offset: input.invocationsOffset ?? 0, limit: input.invocationsLimit ?? -1 },
  };
}

export const DEFAULT_LIST_LIMIT = 50;

/** A listing query ready for SQL: `after` is the decoded cursor, if any. */
export interface ParsedListQuery {
  user_id?: string;
  status?: SessionStatus;
  offset: number;
  limit: number;
  after?: SessionCursorPosition;
}

export function parseListQuery(query: unknown): ParsedListQuery {
  const { cursor, ...input } = listQueryValidator(optionsObject(query));
  if (cursor !== undefined && input.offset !== undefined) {
    throw new AppError(
      'validation_error',
      'Invalid session list query: give cursor or offset, not both (a cursor already says where the page starts).',
    );
  }
  return {
    ...input,
    offset: input.offset ?? 0,
    limit: input.limit ?? DEFAULT_LIST_LIMIT,
    ...(cursor !== undefined && { after: decodeSessionCursor(cursor) }),
  };
}

/**
 * The page's `next_cursor` from the rows read for it: stores read one row more than `limit`, and its
 * presence means another page follows, starting after the page's last session.
 */
export function pageWithCursor<T extends { session_id: string; updated_at: string }>(
  rows: readonly T[],
  limit: number,
): { page: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { page: [...rows], nextCursor: null };
  const page = rows.slice(0, limit);
  const last = page.at(-1)!;
  return {
    page,
    nextCursor: encodeSessionCursor({ updatedAt: last.updated_at, sessionId: last.session_id }),
  };
}

export function parseCleanup(days: unknown, options: unknown): { days: number; idleTimeoutMinutes: number } {
  const input = cleanupValidator(
    optionsObject({ ...(optionsObject(options) as object), days: days ?? DEFAULT_RETENTION_DAYS }),
  );
  return { days: input.days, idleTimeoutMinutes: input.idleTimeoutMinutes ?? DEFAULT_IDLE_TIMEOUT_MINUTES };
}
