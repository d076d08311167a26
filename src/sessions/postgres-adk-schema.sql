-- ADK session data on PostgreSQL (see src/postgres/migrations.ts), the same tables as adk-schema.sql.
-- Text columns hold JSON as written (json/jsonb would refuse or reorder); names go through postgres-text.
CREATE TABLE adk_sessions (
  id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  session_id text COLLATE "C" NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  app_name text COLLATE "C" NOT NULL,
  state text NOT NULL,
  last_update_time double precision NOT NULL,
  PRIMARY KEY (session_id, app_name)
);
CREATE INDEX idx_adk_sessions_app ON adk_sessions (app_name, id);

CREATE TABLE adk_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id text COLLATE "C" NOT NULL,
  app_name text COLLATE "C" NOT NULL,
  event_id text NOT NULL,
  timestamp_ms double precision NOT NULL,
  event text NOT NULL,
  UNIQUE (session_id, app_name, event_id),
  FOREIGN KEY (session_id, app_name) REFERENCES adk_sessions (session_id, app_name) ON DELETE CASCADE
);

CREATE TABLE adk_state (
  app_name text NOT NULL,
  user_id text NOT NULL,
  state text NOT NULL,
  PRIMARY KEY (app_name, user_id)
);
