/**
 * @module sessions/session-cursor
 * Keyset cursors for session listings. A cursor is the (updated_at, session_id) of the last session on a
 * page, so the next page starts strictly after it in the listing order whatever was created or deleted
 * meanwhile. Every backend uses this one encoding, so a cursor is portable between replicas and backends.
 */
import { AppError } from '../errors.js';

/** The position after which the next page starts. */
export interface SessionCursorPosition {
  /** ISO-8601 UTC with milliseconds, as the stores write it. */
  updatedAt: string;
  sessionId: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The cursor that continues a listing after `position`: base64url of a JSON pair, opaque to clients. */
export function encodeSessionCursor(position: SessionCursorPosition): string {
  return Buffer.from(JSON.stringify([position.updatedAt, position.sessionId]), 'utf8').toString('base64url');
}

/** Reads a cursor back; anything this module did not write is a `validation_error`. */
export function decodeSessionCursor(cursor: string): SessionCursorPosition {
  const invalid = () =>
    new AppError(
      'validation_error',
      'Invalid cursor: pass back the next_cursor of a previous page unchanged, or leave cursor out to start from the first page.',
    );
  if (!BASE64URL.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [updatedAt, sessionId] = value as unknown[];
  // The round trip refuses dates that only look valid (February 30th), which a database would reject.
  if (typeof updatedAt !== 'string' || !TIMESTAMP.test(updatedAt) || !roundTrips(updatedAt)) throw invalid();
  if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 128) throw invalid();
  return { updatedAt, sessionId };
}

function roundTrips(timestamp: string): boolean {
  const time = Date.parse(timestamp);
  return !Number.isNaN(time) && new Date(time).toISOString() === timestamp;
}
