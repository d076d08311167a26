/**
 * @module adk/store-session-service
 * Google ADK's `BaseSessionService` over our session storage, so an ADK `Runner` keeps its sessions in the
 * registry service's database (SQLite or PostgreSQL) and gets them back, events and state whole, after a
 * restart.
 *
 * Mapping: an ADK session is one of our sessions. Its `id` is our `session_id` (a new random UUID unless the
 * caller names one; naming an existing session of the same user makes it an ADK session of the app too,
 * which is how Jarvis gives each agent its events in the sessions of `/chat`); its `userId` is our `user_id`;
 * its `appName` is part of the key, as in ADK (one of our sessions can be an ADK session of several apps). Events are stored whole, as ADK's JSON, in `adk_events`; the seed's
 * `conversation_history` and `agent_invocations` are untouched. `app:` and `user:` state is kept per app and
 * per app and user (`adk_state`), as ADK's `InMemorySessionService` keeps it, and `temp:` state is dropped.
 * Deleting the session (here or through `DELETE /sessions/{id}`) deletes its events.
 *
 * Behaviour is ADK's own (checked against `InMemorySessionService` by `test/adk/store-session-service.test.ts`),
 * with one difference: creating a session with an id that is already an ADK session (or another user's
 * session) is refused with `session_exists` instead of silently replacing it.
 */
import {
  type AppendEventRequest,
  BaseSessionService,
  type CreateSessionRequest,
  createEvent,
  createSession,
  type DeleteSessionRequest,
  type Event,
  type GetSessionRequest,
  type ListSessionsRequest,
  type ListSessionsResponse,
  mergeStates,
  type Session,
  State,
  trimTempState,
} from '@google/adk';
import type {
  AdkSessionBackend,
  AdkSessionRecord,
  AdkStoredSession,
  JsonObject,
} from '../sessions/adk-session-record.js';

export interface StoreSessionServiceOptions {
  /** The clock of new sessions' `lastUpdateTime` (milliseconds); defaults to `Date.now`. */
  now?: () => number;
}

export class StoreSessionService extends BaseSessionService {
  private readonly now: () => number;

  /** `store` is a `SessionStore` (in the service's process) or anything with its ADK part. */
  constructor(
    private readonly store: AdkSessionBackend,
    options: StoreSessionServiceOptions = {},
  ) {
    super();
    this.now = options.now ?? Date.now;
  }

  override async createSession({
    appName,
    userId,
    state,
    sessionId,
  }: CreateSessionRequest): Promise<Session> {
    const record = await this.store.createAdkSession({
      ...(sessionId !== undefined && sessionId !== '' && { session_id: sessionId }),
      app_name: appName,
      user_id: userId,
      state: { ...(state === undefined ? {} : trimTempState(state)) },
      last_update_time: this.now(),
    });
    const stored = await this.store.getAdkSession(record.session_id, appName);
    return toSession(stored ?? { ...record, events: [], app_state: {}, user_state: {} });
  }

  override async getSession({
    appName,
    userId,
    sessionId,
    config,
  }: GetSessionRequest): Promise<Session | undefined> {
    const stored = await this.find(appName, userId, sessionId);
    if (stored === undefined) return undefined;
    const session = toSession(stored);
    // The same selection as ADK's InMemorySessionService: the last n, then those from afterTimestamp on.
    if (config?.numRecentEvents) session.events = session.events.slice(-config.numRecentEvents);
    if (config?.afterTimestamp) {
      const after = config.afterTimestamp;
      let i = session.events.length - 1;
      while (i >= 0 && session.events[i]!.timestamp >= after) i--;
      if (i >= 0) session.events = session.events.slice(i + 1);
    }
    return session;
  }

  override async listSessions({
    appName,
    userId,
    limit,
    offset,
    page,
    order,
  }: ListSessionsRequest): Promise<ListSessionsResponse> {
    const all = (await this.store.listAdkSessions(appName, userId)).map((record) =>
      createSession({
        id: record.session_id,
        appName: record.app_name,
        userId: record.user_id,
        state: {},
        events: [],
        lastUpdateTime: record.last_update_time,
      }),
    );
    if (order !== undefined) {
      const sign = order === 'asc' ? 1 : -1;
      all.sort((a, b) => sign * (a.lastUpdateTime - b.lastUpdateTime) || a.id.localeCompare(b.id));
    }
    const totalItems = all.length;
    if (limit === undefined) {
      return {
        sessions: offset ? all.slice(offset) : all,
        page: 1,
        limit: totalItems,
        totalItems,
        totalPages: totalItems === 0 ? 0 : 1,
      };
    }
    const start = page !== undefined ? (page - 1) * limit : (offset ?? 0);
    return {
      sessions: all.slice(start, start + limit),
      page: page ?? (limit === 0 ? 1 : Math.floor(start / limit) + 1),
      limit,
      totalItems,
      totalPages: limit === 0 ? 0 : Math.ceil(totalItems / limit),
    };
  }

  override async deleteSession({ appName, userId, sessionId }: DeleteSessionRequest): Promise<void> {
    if ((await this.find(appName, userId, sessionId)) === undefined) return;
    await this.store.deleteSession(sessionId);
  }

  /** ADK's own handling first (partial events skipped, `temp:` keys dropped, state applied), then stored. */
  override async appendEvent({ session, event }: AppendEventRequest): Promise<Event> {
    if (event.partial) return event;
    const appended = await super.appendEvent({ session, event });
    session.lastUpdateTime = appended.timestamp;
    const delta = (appended.actions?.stateDelta ?? {}) as JsonObject;
    const scoped = (prefix: string): JsonObject =>
      Object.fromEntries(
        Object.entries(delta)
          .filter(([key]) => key.startsWith(prefix))
          .map(([key, value]) => [key.slice(prefix.length), value]),
      );
    await this.store.appendAdkEvent(session.id, session.appName, {
      event: toJson(appended),
      // As ADK's in-memory service: every key lands in the session's state, app: and user: keys also in
      // the app's and the user's (which win when the state is read).
      state_delta: { ...delta },
      app_state_delta: scoped(State.APP_PREFIX),
      user_state_delta: scoped(State.USER_PREFIX),
      last_update_time: appended.timestamp,
    });
    return appended;
  }

  private async find(
    appName: string,
    userId: string,
    sessionId: string,
  ): Promise<AdkStoredSession | undefined> {
    const stored = await this.store.getAdkSession(sessionId, appName);
    if (stored === undefined || stored.user_id !== userId) return undefined;
    return stored;
  }
}

function toSession(
  stored: AdkStoredSession | (AdkSessionRecord & Omit<AdkStoredSession, keyof AdkSessionRecord>),
): Session {
  return createSession({
    id: stored.session_id,
    appName: stored.app_name,
    userId: stored.user_id,
    state: mergeStates(stored.app_state, stored.user_state, stored.state),
    events: stored.events.map((event) => createEvent(event as Partial<Event>)),
    lastUpdateTime: stored.last_update_time,
  });
}

/** The event as JSON keeps it (what a restart gets back): undefined fields and the brand symbol drop. */
function toJson(event: Event): JsonObject {
  return JSON.parse(JSON.stringify(event)) as JsonObject;
}
