-- Registry versions on PostgreSQL (migration 3 in src/postgres/migrations.ts). Every change to an agent
-- (register, update, delete) makes the next version of its name, written in the same transaction as the
-- change; a deleted agent keeps its rows, so re-registering the name continues the numbering. The oldest
-- beyond REGISTRY_VERSIONS_KEPT per name are deleted by the change that makes a newer one.

CREATE TABLE registry_versions (
  name text COLLATE "C" NOT NULL,
  version bigint NOT NULL CHECK (version >= 1),
  -- The store revision of the change that made this version.
  revision bigint NOT NULL,
  type text NOT NULL CHECK (type IN ('registered', 'updated', 'deleted')),
  -- The record as the change left it; for a deletion, the record that was deleted.
  record json NOT NULL,
  at timestamptz NOT NULL,
  -- The label of the admin token used, 'anonymous' without one, 'recovered' for rows this migration made.
  actor text NOT NULL,
  PRIMARY KEY (name, version)
);

-- The agents stored before this migration start their history at their current version.
INSERT INTO registry_versions (name, version, revision, type, record, at, actor)
SELECT a.name, a.version, s.revision, CASE WHEN a.version = 1 THEN 'registered' ELSE 'updated' END,
       a.record, s.last_updated, 'recovered'
FROM registry_agents a CROSS JOIN registry_state s;
