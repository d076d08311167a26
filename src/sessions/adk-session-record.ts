/**
 * @module sessions/adk-session-record
 * What a `SessionStore` keeps for Google ADK (`src/adk/store-session-service.ts`), beside the seed's tables:
 * an ADK session is one of our sessions (the same `session_id` and `user_id`) in one ADK app (a session may
 * be an ADK session of several apps), with the session-scoped state; its events are stored whole, as the JSON ADK gives (`adk_events`); app-wide
 * (`app:`) and per-user (`user:`) state live per app and user (`adk_state`). Validation is shared by the
 * backends, so they refuse the same input with the same message.
 */
import { AppError } from '../errors.js';
import { assertJsonValue, BODY_LIMITS } from '../safe-json.js';
import { parseSessionCreation, parseSessionId } from './session-input.js';

/** A JSON object (state, an event). */
export type JsonObject = Record<string, unknown>;

export interface AdkSessionInput {
  /** Our session id; a new random one when omitted. An existing session of the same user gains ADK data. */
  session_id?: string;
  app_name: string;
  user_id: string;
  /** The session-scoped state (no `app:`, `user:` or `temp:` keys: the service splits them off). */
  state: JsonObject;
  /** ADK's `lastUpdateTime` (milliseconds since the epoch). */
  last_update_time: number;
}

export interface AdkSessionRecord {
  session_id: string;
  app_name: string;
  user_id: string;
  state: JsonObject;
  last_update_time: number;
}

export interface AdkStoredSession extends AdkSessionRecord {
  /** Every event, in the order first appended (a re-appended id keeps its place), exactly as given. */
  events: JsonObject[];
  /** The app's `app:` state and the user's `user:` state, without their prefixes. */
  app_state: JsonObject;
  user_state: JsonObject;
}

export interface AdkEventAppend {
  /** The event as ADK's JSON (`id` and `timestamp` required). */
  event: JsonObject;
  /** Merged into the session-scoped, app and user state, in the same write. */
  state_delta: JsonObject;
  app_state_delta: JsonObject;
  user_state_delta: JsonObject;
  last_update_time: number;
}

/** The ADK part of session storage (the full `SessionStore` has it; so does Jarvis's HTTP client of it). */
export interface AdkSessionBackend {
  createAdkSession(input: AdkSessionInput): Promise<AdkSessionRecord>;
  /** Undefined when there is no such session or it is no ADK session of the app. */
  getAdkSession(sessionId: string, appName: string): Promise<AdkStoredSession | undefined>;
  /** Sessions of the app (of one user when given), in creation order, without events. */
  listAdkSessions(appName: string, userId?: string): Promise<AdkSessionRecord[]>;
  /** Store an event (replacing one with the same id) and apply the state deltas; `session_not_found` if none. */
  appendAdkEvent(sessionId: string, appName: string, append: AdkEventAppend): Promise<void>;
  deleteSession(sessionId: string): Promise<void>;
}

const MAX_APP_NAME = 256;

/** What a backend writes for a new ADK session. */
export interface ParsedAdkSession {
  sessionId: string | undefined;
  appName: string;
  userId: string;
  stateJson: string;
  lastUpdateTime: number;
}

export interface ParsedAdkAppend {
  eventId: string;
  timestamp: number;
  eventJson: string;
  stateDelta: JsonObject;
  appStateDelta: JsonObject;
  userStateDelta: JsonObject;
  lastUpdateTime: number;
}

function invalid(message: string): AppError {
  return new AppError('validation_error', message);
}

export function parseAppName(appName: unknown): string {
  if (typeof appName !== 'string' || appName.length === 0 || appName.length > MAX_APP_NAME) {
    throw invalid(`app_name must be a string of 1 to ${MAX_APP_NAME} characters`);
  }
  return appName;
}

function parseObject(value: unknown, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${field} must be a JSON object`);
  }
  assertJsonValue(value, field, BODY_LIMITS);
  return value as JsonObject;
}

function parseTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`${field} must be a finite number of milliseconds since the epoch`);
  }
  return value;
}

export function parseAdkSession(input: AdkSessionInput): ParsedAdkSession {
  if (typeof input !== 'object' || input === null) throw invalid('the ADK session must be an object');
  const sessionId = input.session_id === undefined ? undefined : parseSessionId(input.session_id);
  const { userId } = parseSessionCreation(input.user_id, undefined);
  return {
    sessionId,
    appName: parseAppName(input.app_name),
    userId,
    stateJson: JSON.stringify(parseObject(input.state, 'state')),
    lastUpdateTime: parseTime(input.last_update_time, 'last_update_time'),
  };
}

export function parseAdkAppend(append: AdkEventAppend): ParsedAdkAppend {
  if (typeof append !== 'object' || append === null) throw invalid('the ADK event append must be an object');
  const event = parseObject(append.event, 'event');
  if (typeof event.id !== 'string' || event.id.length === 0 || event.id.length > 256) {
    throw invalid('event.id must be a string of 1 to 256 characters');
  }
  return {
    eventId: event.id,
    timestamp: parseTime(event.timestamp, 'event.timestamp'),
    eventJson: JSON.stringify(event),
    stateDelta: parseObject(append.state_delta, 'state_delta'),
    appStateDelta: parseObject(append.app_state_delta, 'app_state_delta'),
    userStateDelta: parseObject(append.user_state_delta, 'user_state_delta'),
    lastUpdateTime: parseTime(append.last_update_time, 'last_update_time'),
  };
}

/** The stored state with a delta applied (later keys win; a key keeps its first position). */
export function mergeStateJson(stored: string | undefined, delta: JsonObject): string {
  const state = (stored === undefined ? {} : JSON.parse(stored)) as JsonObject;
  for (const [key, value] of Object.entries(delta)) {
    Object.defineProperty(state, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return JSON.stringify(state);
}

export function hasKeys(value: JsonObject): boolean {
  return Object.keys(value).length > 0;
}

/** An ADK session id that is already an ADK session, or a session of another user. */
export function adkSessionExists(sessionId: string): AppError {
  return new AppError(
    'session_exists',
    `Session ${sessionId} already exists (as an ADK session of this app, or for another user): choose another id.`,
  );
}
