/**
 * @module sessions/routing-decision
 * The routing decision log's records (what the router decided for one query, kept in the session store),
 * their schemas, and the validation every session-store backend applies to them, so both refuse the same
 * input with the same message. Pages are read newest first with an opaque keyset cursor.
 */
import { type Static, Type } from 'typebox';
import { AppError } from '../errors.js';
import { compileValidator } from '../schema-validator.js';
import { SessionId } from './session-record.js';

export const DecisionCandidateSchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), score: Type.Number() },
  { additionalProperties: false },
);

/** One routing decision as it is stored and read back (`GET /registry/decisions`). */
export const RoutingDecisionSchema = Type.Object(
  {
    at: Type.String({ description: 'When the query was routed (ISO-8601 UTC).' }),
    query: Type.String({
      description:
        'The query, or `sha256:<hex>` of it when the service runs with ROUTER_LOG_QUERIES=false (then ' +
        '`query_hashed` is true).',
    }),
    query_hashed: Type.Boolean(),
    candidates: Type.Array(DecisionCandidateSchema, { maxItems: 50 }),
    selected: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 50 }),
    follow_up: Type.Boolean(),
    revision: Type.Integer({ minimum: 0, description: 'The registry revision the query was routed at.' }),
    session_id: Type.Union([SessionId, Type.Null()]),
  },
  { additionalProperties: false },
);
export type RoutingDecision = Static<typeof RoutingDecisionSchema>;

/** What the decision log hands the store: a decision, `at` included. */
export type RoutingDecisionInput = RoutingDecision;

export const DEFAULT_DECISION_PAGE = 50;
export const MAX_DECISION_PAGE = 500;
/** Queries longer than the router accepts are never routed, so never logged. */
const MAX_LOGGED_QUERY = 4000;

export const DecisionListQuerySchema = Type.Object(
  {
    session_id: Type.Optional(SessionId),
    agent: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'Only decisions that selected this agent.' }),
    ),
    since: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'Only decisions made at or after this time (ISO-8601).',
      }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_DECISION_PAGE, default: DEFAULT_DECISION_PAGE }),
    ),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: '`next_cursor` of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);
export type DecisionListQuery = Static<typeof DecisionListQuerySchema>;

export interface DecisionList {
  /** Newest first. */
  decisions: RoutingDecision[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** What a store's retention of decisions removed. */
export interface DecisionPruneResult {
  /** Older than the retention period. */
  expired: number;
  /** Beyond the newest `keep`. */
  over_cap: number;
}

/** The list query after validation: the cursor decoded to the id to read below. */
export interface ParsedDecisionQuery {
  session_id?: string;
  agent?: string;
  since?: string;
  limit: number;
  /** Read decisions with a smaller id (older) than this. */
  before?: number;
}

const decisionValidator = compileValidator(RoutingDecisionSchema, 'routing decision');
const listValidator = compileValidator(DecisionListQuerySchema, 'decision list query');

/** Validate a batch of decisions to store; the first bad one refuses the whole batch. */
export function parseDecisions(decisions: readonly RoutingDecisionInput[]): RoutingDecision[] {
  if (!Array.isArray(decisions)) throw new AppError('validation_error', 'decisions must be an array');
  return decisions.map((decision, i) => {
    const valid = decisionValidator(decision, `routing decision ${i}`);
    if (Number.isNaN(Date.parse(valid.at))) {
      throw new AppError('validation_error', `routing decision ${i}: at must be an ISO-8601 timestamp`);
    }
    if (valid.query.length > MAX_LOGGED_QUERY) {
      throw new AppError(
        'validation_error',
        `routing decision ${i}: query is longer than ${MAX_LOGGED_QUERY}`,
      );
    }
    return { ...valid, at: new Date(valid.at).toISOString() };
  });
}

export function parseDecisionQuery(query: DecisionListQuery | undefined): ParsedDecisionQuery {
  const clean =
    query === undefined
      ? {}
      : Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined));
  const valid = listValidator(clean);
  const parsed: ParsedDecisionQuery = { limit: valid.limit ?? DEFAULT_DECISION_PAGE };
  if (valid.session_id !== undefined) parsed.session_id = valid.session_id;
  if (valid.agent !== undefined) parsed.agent = valid.agent;
  if (valid.since !== undefined) {
    const since = Date.parse(valid.since);
    if (Number.isNaN(since)) throw new AppError('validation_error', 'since must be an ISO-8601 timestamp');
    parsed.since = new Date(since).toISOString();
  }
  if (valid.cursor !== undefined) parsed.before = decodeDecisionCursor(valid.cursor);
  return parsed;
}

/** The cursor names the last decision of a page by its id; it is opaque to clients. */
export function encodeDecisionCursor(id: number): string {
  return Buffer.from(`d:${id}`, 'utf8').toString('base64url');
}

export function decodeDecisionCursor(cursor: string): number {
  const match = /^d:([1-9]\d{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const id = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(id) || encodeDecisionCursor(id) !== cursor) {
    throw new AppError('validation_error', 'cursor is not valid: pass the next_cursor of a previous page');
  }
  return id;
}

/** Retention's arguments: decisions older than `days` go, and all but the newest `keep` (at least 1). */
export function parsePrune(days: number, keep: number): { days: number; keep: number } {
  if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) {
    throw new AppError('validation_error', 'days must be a number >= 0');
  }
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new AppError('validation_error', 'keep must be a whole number >= 1');
  }
  return { days, keep };
}
