/**
 * @module sessions/session-input
 * Validation of what callers pass to a `SessionStore`, shared by every backend so they refuse the same
 * input with the same message. Validators are compiled once from the schemas in `session-record.ts`.
 */
import { AppError, messageOf } from '../errors.js';
import { findForbiddenKey } from '../safe-json.js';
import { compileValidator } from '../schema-validator.js';
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
  type SessionListQuery,
  SessionListQuerySchema,
  type SessionMetadata,
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

/** Validates a new session and serialises its metadata (a JSON object without `__proto__`/`constructor`). */
export function parseSessionCreation(
  userId: unknown,
  metadata: unknown,
): { userId: string; metadataJson: string } {
  const input = creationValidator(optionsObject({ user_id: userId, metadata }));
  // Serialise first: it refuses cycles and BigInts, which the key walk below could not survive.
  const metadataJson = serializeMetadata(input.metadata);
  const forbidden = findForbiddenKey(input.metadata);
  if (forbidden !== undefined) {
    throw new AppError(
      'validation_error',
      `Invalid session: /metadata${forbidden} is a forbidden key ("__proto__" and "constructor" are not allowed)`,
      { details: [{ path: `/metadata${forbidden}`, message: 'is a forbidden key' }] },
    );
  }
  return { userId: input.user_id, metadataJson };
}

function serializeMetadata(metadata: SessionMetadata | undefined): string {
  if (metadata === undefined) return '{}';
  let json: string | undefined;
  try {
    json = JSON.stringify(metadata);
  } catch (error) {
    throw new AppError('validation_error', `Invalid session: /metadata must be JSON (${messageOf(error)})`, {
      details: [{ path: '/metadata', message: 'must be JSON' }],
    });
  }
  // A class instance such as a Date passes as an object but does not serialise to one.
  if (json === undefined || !json.startsWith('{')) {
    throw new AppError('validation_error', 'Invalid session: /metadata must be a JSON object', {
      details: [{ path: '/metadata', message: 'must be a JSON object' }],
    });
  }
  return json;
}

export function parseHistoryEntry(role: unknown, content: unknown): HistoryEntryInput {
  return historyValidator({ role, content });
}

/** An invocation with its optional fields as `null`. */
export type ParsedInvocation = Required<InvocationInput> & {
  response: string | null;
  error_message: string | null;
};

export function parseInvocation(invocation: unknown): ParsedInvocation {
  const input = invocationValidator(invocation === undefined ? invocation : optionsObject(invocation));
  return { ...input, response: input.response ?? null, error_message: input.error_message ?? null };
}

export function parseStatus(status: unknown): SessionStatus {
  return statusValidator({ status }).status;
}

export function parseContext(context: unknown): ContextInput {
  return contextValidator(context);
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

export function parseListQuery(query: unknown): SessionListQuery & { offset: number; limit: number } {
  const input = listQueryValidator(optionsObject(query));
  return { ...input, offset: input.offset ?? 0, limit: input.limit ?? DEFAULT_LIST_LIMIT };
}

export function parseCleanup(days: unknown, options: unknown): { days: number; idleTimeoutMinutes: number } {
  const input = cleanupValidator(
    optionsObject({ ...(optionsObject(options) as object), days: days ?? DEFAULT_RETENTION_DAYS }),
  );
  return { days: input.days, idleTimeoutMinutes: input.idleTimeoutMinutes ?? DEFAULT_IDLE_TIMEOUT_MINUTES };
}
