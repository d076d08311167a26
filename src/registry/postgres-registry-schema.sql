-- Registry schema on PostgreSQL (applied by migration 2 in src/postgres/migrations.ts; later changes are new
-- migrations). One row per agent; every change is one transaction that first takes the single row of
-- registry_state (so changes commit one at a time, in revision order, across every replica), then changes
-- the agent, appends to registry_changes (the change feed) and notifies the replicas.
-- Records are json, not jsonb: kept exactly as written (key order included, "\u0000" escapes allowed), so
-- every replica exports the same bytes.

CREATE TABLE registry_state (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  -- The store-wide revision: +1 with every change.
  revision bigint NOT NULL DEFAULT 0,
  -- When the registry last changed (the export's last_updated).
  last_updated timestamptz NOT NULL DEFAULT now(),
  -- Set once the registry has held an agent: the demo agents are seeded only before that.
  ever_held_agents boolean NOT NULL DEFAULT false
);
INSERT INTO registry_state DEFAULT VALUES;

CREATE TABLE registry_agents (
  name text COLLATE "C" PRIMARY KEY,
  record json NOT NULL,
  -- 1 when registered, +1 with every update: the compare-and-swap token.
  version bigint NOT NULL CHECK (version >= 1)
);

CREATE TABLE registry_changes (
  revision bigint PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('registered', 'updated', 'deleted')),
  agent_name text NOT NULL,
  -- The record after the change; NULL for a deletion.
  record json,
  version bigint NOT NULL,
  at timestamptz NOT NULL
);
