-- Session store schema, version 1 (applied by migration 1 in migrations.ts; later changes are new migrations).
-- Table and column names are part of the product contract (the seed's schema); keep them.
-- Timestamps are ISO-8601 UTC strings with milliseconds ("2026-11-23T09:30:00.000Z"): they sort as text,
-- so age comparisons in cleanup are plain string comparisons on indexed columns.
-- STRICT tables make SQLite refuse a value of the wrong type instead of storing it silently.
-- Cascades need `PRAGMA foreign_keys = ON` on every connection; sqlite-database.ts sets and verifies it.

CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'expired')),
  metadata TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- AUTOINCREMENT: ids are never reused after a delete, so id order is insertion order for good.
CREATE TABLE IF NOT EXISTS conversation_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  content TEXT NOT NULL,
  timestamp TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS agent_invocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  agent_name TEXT NOT NULL,
  query TEXT NOT NULL,
  response TEXT,
  success INTEGER NOT NULL CHECK (success IN (0, 1)),
  error_message TEXT,
  duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
  timestamp TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS session_context (
  session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  last_agent_called TEXT,
  last_query TEXT,
  last_response TEXT,
  updated_at TEXT NOT NULL
) STRICT;

-- The seed's indexes. An index on session_id also orders by rowid (= id) within a session, so a
-- session's history is read in insertion order straight from the index.
CREATE INDEX IF NOT EXISTS idx_sessions_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS idx_sessions_created ON sessions (created_at);
CREATE INDEX IF NOT EXISTS idx_history_session ON conversation_history (session_id);
CREATE INDEX IF NOT EXISTS idx_invocations_session ON agent_invocations (session_id);
CREATE INDEX IF NOT EXISTS idx_invocations_agent ON agent_invocations (agent_name);

-- Retention finds old completed/expired and idle active sessions, and listing filters by status.
CREATE INDEX IF NOT EXISTS idx_sessions_status_updated ON sessions (status, updated_at);
