/**
 * @module index
 * What the package exports for use in other programs: the session stores and Google ADK's session service
 * over them (hand a `StoreSessionService` to your own ADK `Runner`).
 */
export { StoreSessionService, type StoreSessionServiceOptions } from './adk/store-session-service.js';
export type {
  AdkEventAppend,
  AdkSessionBackend,
  AdkSessionInput,
  AdkSessionRecord,
  AdkStoredSession,
} from './sessions/adk-session-record.js';
export { PostgresSessionStore } from './sessions/postgres-session-store.js';
export type { SessionStore } from './sessions/session-store.js';
export { SqliteSessionStore } from './sessions/sqlite-session-store.js';
