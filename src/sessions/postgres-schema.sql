-- Session store schema on PostgreSQL (applied by migration 1 in src/postgres/migrations.ts; later changes
-- are new migrations). The same tables, columns, cascades and indexes as schema.sql, which is the seed's
-- contract; the types are PostgreSQL's own:
-- - timestamps are timestamptz, written and read with millisecond precision by the store;
-- - session_id sorts bytewise (COLLATE "C"), as SQLite's BINARY collation does, so listings break ties alike;
-- - metadata is json (kept as written, key order included; jsonb would refuse "\u0000" escapes);
-- - success is boolean, and counters and durations are bigint (SQLite's INTEGER is 64-bit);
-- - text cannot hold U+0000: the store writes it as U+FFFF '0' and U+FFFF as U+FFFF U+FFFF
--   (src/postgres/postgres-text.ts), so any text round-trips exactly.

CREATE TABLE sessions (
  session_id text COLLATE "C" PRIMARY KEY,
  user_id text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'expired')),
  metadata json NOT NULL DEFAULT '{}',
  -- A counter of changes, for cached reads and ETags (SQLite's migration 2).
  version bigint NOT NULL DEFAULT 0
);

-- Identity values come from a sequence and are never reused. The store appends under the session's row
-- lock, so id order is insertion order within a session.
CREATE TABLE conversation_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id text COLLATE "C" NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  content text NOT NULL,
  timestamp timestamptz NOT NULL
);

CREATE TABLE agent_invocations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id text COLLATE "C" NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  agent_name text NOT NULL,
  query text NOT NULL,
  response text,
  success boolean NOT NULL,
  error_message text,
  duration_ms bigint NOT NULL CHECK (duration_ms >= 0),
  timestamp timestamptz NOT NULL
);

CREATE TABLE session_context (
  session_id text COLLATE "C" PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
  last_agent_called text,
  last_query text,
  last_response text,
  updated_at timestamptz NOT NULL
);

-- The seed's indexes. SQLite's index on session_id also orders by rowid within a session; PostgreSQL's
-- does not, so the two per-session indexes carry id explicitly and a session's rows are read in order
-- straight from the index.
CREATE INDEX idx_sessions_user ON sessions (user_id);
CREATE INDEX idx_sessions_created ON sessions (created_at);
CREATE INDEX idx_history_session ON conversation_history (session_id, id);
CREATE INDEX idx_invocations_session ON agent_invocations (session_id, id);
CREATE INDEX idx_invocations_agent ON agent_invocations (agent_name);

-- Retention finds old completed/expired and idle active sessions, and listing filters by status.
CREATE INDEX idx_sessions_status_updated ON sessions (status, updated_at);
