-- ADK session data on SQLite (migration 4 in migrations.ts), beside the seed's tables, which keep their contract.
-- An ADK session is one of our sessions (same session_id, same user_id) in one ADK app, with its own state:
-- a session can be an ADK session of several apps (Jarvis gives each agent its own). Deleting the session
-- deletes these rows too. Events are ADK's JSON, stored whole.
CREATE TABLE adk_sessions (
  session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  app_name TEXT NOT NULL,
  state TEXT NOT NULL,
  last_update_time REAL NOT NULL,
  PRIMARY KEY (session_id, app_name)
) STRICT;
CREATE INDEX idx_adk_sessions_app ON adk_sessions (app_name);

-- AUTOINCREMENT: id order is the order events were first appended; a re-appended event id keeps its row.
CREATE TABLE adk_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL,
  app_name TEXT NOT NULL,
  event_id TEXT NOT NULL,
  timestamp_ms REAL NOT NULL,
  event TEXT NOT NULL,
  UNIQUE (session_id, app_name, event_id),
  FOREIGN KEY (session_id, app_name) REFERENCES adk_sessions (session_id, app_name) ON DELETE CASCADE
) STRICT;

-- ADK's app-wide ("app:", user_id '') and per-user ("user:") state, kept when sessions go.
CREATE TABLE adk_state (
  app_name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (app_name, user_id)
) STRICT;
