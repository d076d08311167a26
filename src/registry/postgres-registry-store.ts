/**
 * @module registry/postgres-registry-store
 * The registry on PostgreSQL, for several replicas sharing one database: one row per agent, a store-wide
 * revision, and the change feed as a table. Each change is one transaction that first locks the single
 * `registry_state` row, so changes commit one at a time in revision order across every replica (a reader
 * following the feed can never skip a change that commits late); it then notifies the replicas
 * (LISTEN/NOTIFY), which catch up by revision, also after a reconnect.
 */
import { AppError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { toPostgresError } from '../postgres/postgres-error.js';
import { PostgresListener } from '../postgres/postgres-listener.js';
import type { PostgresPool, PostgresQueryable } from '../postgres/postgres-pool.js';
import { type AgentRecord, validateAgentRecord } from './agent-record.js';
import {
  type AgentVersion,
  ANONYMOUS_ACTOR,
  agentExists,
  agentNotFound,
  type ChangeOptions,
  type ChangePage,
  type ChangeType,
  DEFAULT_VERSIONS_KEPT,
  historyExpired,
  type RegistryChange,
  type RegistryLoadResult,
  type RegistrySnapshot,
  type RegistryStore,
  type RegistryStoreHealth,
  versionConflict,
  versionNotFound,
} from './registry-store.js';

export interface PostgresRegistryStoreOptions {
  /** The database URL, for the LISTEN connection (the pool's own URL). */
  url: string;
  logger?: Logger;
  now?: () => Date;
  /** Changes kept for the feed (default 10,000); older `since` values get `history_expired`. */
  changesKept?: number;
  /** Versions kept per agent (default 50); the oldest beyond it are deleted. */
  versionsKept?: number;
}

interface ChangeRow {
  revision: string;
  type: ChangeType;
  agent_name: string;
  record: AgentRecord | null;
  version: string;
  at: Date;
}

const CHANGE_COLUMNS = 'revision, type, agent_name, record, version, at';
/** The notification channel: one per schema, since NOTIFY reaches the whole database. */
const CHANNEL_SQL = "'agent_registry_' || current_schema()";
export const DEFAULT_PG_CHANGES_KEPT = 10_000;

export class PostgresRegistryStore implements RegistryStore {
  readonly backend = 'postgresql';
  readonly shared = true;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly changesKept: number;
  private readonly versionsKept: number;
  private readonly watchers = new Set<() => void>();
  private listener: PostgresListener | undefined;
  private channel = '';
  private lastError: string | undefined;
  private closed = false;

  constructor(
    private readonly pool: PostgresPool,
    private readonly options: PostgresRegistryStoreOptions,
  ) {
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? (() => new Date());
    this.changesKept = options.changesKept ?? DEFAULT_PG_CHANGES_KEPT;
    this.versionsKept = options.versionsKept ?? DEFAULT_VERSIONS_KEPT;
  }

  /**
   * Start listening for other replicas' changes. The channel is per schema (NOTIFY is database-wide), so
   * registries in different schemas of one database never hear each other.
   */
  async open(): Promise<void> {
    const { rows } = await this.run('open the registry', (db) =>
      db.query<{ channel: string }>(`SELECT ${CHANNEL_SQL} AS channel`),
    );
    this.channel = rows[0]!.channel;
    this.listener = new PostgresListener(this.options.url, this.channel, {
      onNotify: () => this.tell(),
      // After a reconnect, notifications sent meanwhile are lost: catch up as if told.
      onConnect: () => this.tell(),
      logger: this.logger,
    });
    await this.listener.start();
  }

  async load(): Promise<RegistryLoadResult> {
    return { ...(await this.snapshot()), source: 'database', events: [] };
  }

  async snapshot(): Promise<RegistrySnapshot> {
    return this.run(
      'read the registry',
      async (db) => {
        const state = await db.query<{ revision: string; last_updated: Date }>(
          'SELECT revision, last_updated FROM registry_state',
        );
        const agents = await db.query<{ record: AgentRecord; version: string }>(
          'SELECT record, version FROM registry_agents ORDER BY name',
        );
        return {
          revision: Number(state.rows[0]!.revision),
          last_updated: state.rows[0]!.last_updated.toISOString(),
          agents: agents.rows.map((row) => ({ record: row.record, version: Number(row.version) })),
        };
      },
      { readOnly: true },
    );
  }

  async insert(record: AgentRecord, options: ChangeOptions = {}): Promise<RegistryChange> {
    const valid = validateAgentRecord(record);
    return this.change('register the agent', options, async (db, next) => {
      // A deleted name keeps its versions: registering it again continues their numbering.
      const inserted = await db.query<{ version: string }>(
        `INSERT INTO registry_agents (name, record, version)
         SELECT $1, $2::json, COALESCE(max(version), 0) + 1 FROM registry_versions WHERE name = $1
         ON CONFLICT (name) DO NOTHING RETURNING version`,
        [valid.name, JSON.stringify(valid)],
      );
      const row = inserted.rows[0];
      if (row === undefined) throw agentExists(valid.name);
      return next('registered', valid.name, valid, Number(row.version));
    });
  }

  async update(
    record: AgentRecord,
    expectedVersion: number,
    options: ChangeOptions = {},
  ): Promise<RegistryChange> {
    const valid = validateAgentRecord(record);
    return this.change('update the agent', options, async (db, next) => {
      const updated = await db.query<{ version: string }>(
        `UPDATE registry_agents SET record = $2::json, version = version + 1
         WHERE name = $1 AND version = $3 RETURNING version`,
        [valid.name, JSON.stringify(valid), expectedVersion],
      );
      const row = updated.rows[0];
      if (row === undefined) {
        const current = await db.query<{ version: string }>(
          'SELECT version FROM registry_agents WHERE name = $1',
          [valid.name],
        );
        const found = current.rows[0];
        throw found === undefined
          ? agentNotFound(valid.name)
          : versionConflict(valid.name, Number(found.version));
      }
      return next('updated', valid.name, valid, Number(row.version));
    });
  }

  remove(name: string, options: ChangeOptions = {}): Promise<RegistryChange> {
    return this.change('delete the agent', options, async (db, next) => {
      const deleted = await db.query<{ version: string; record: AgentRecord }>(
        'DELETE FROM registry_agents WHERE name = $1 RETURNING version, record',
        [name],
      );
      const row = deleted.rows[0];
      if (row === undefined) throw agentNotFound(name);
      return next('deleted', name, null, Number(row.version) + 1, row.record);
    });
  }

  async versions(name: string): Promise<AgentVersion[]> {
    return this.run(
      'read the agent versions',
      async (db) => {
        const rows = await db.query<{
          version: string;
          revision: string;
          type: ChangeType;
          at: Date;
          actor: string;
        }>(
          'SELECT version, revision, type, at, actor FROM registry_versions WHERE name = $1 ORDER BY version DESC',
          [name],
        );
        if (rows.rows.length === 0) throw agentNotFound(name);
        return rows.rows.map((row) => ({
          version: Number(row.version),
          revision: Number(row.revision),
          type: row.type,
          at: row.at.toISOString(),
          actor: row.actor,
        }));
      },
      { readOnly: true },
    );
  }

  async version(name: string, version: number): Promise<AgentRecord> {
    return this.run(
      'read the agent version',
      async (db) => {
        const rows = await db.query<{ record: AgentRecord | null; known: boolean }>(
          `SELECT (SELECT record FROM registry_versions WHERE name = $1 AND version = $2) AS record,
                  EXISTS (SELECT 1 FROM registry_versions WHERE name = $1) AS known`,
          [name, version],
        );
        const row = rows.rows[0]!;
        if (row.record !== null) return row.record;
        throw row.known ? versionNotFound(name, version) : agentNotFound(name);
      },
      { readOnly: true },
    );
  }

  async changesSince(since: number, limit: number): Promise<ChangePage> {
    return this.run(
      'read the registry changes',
      async (db) => {
        const state = await db.query<{ revision: string; oldest: string | null }>(
          'SELECT revision, (SELECT min(revision) FROM registry_changes) AS oldest FROM registry_state',
        );
        const revision = Number(state.rows[0]!.revision);
        if (since === revision) return { revision, changes: [] };
        const oldest = state.rows[0]!.oldest === null ? revision + 1 : Number(state.rows[0]!.oldest);
        if (since > revision || since < oldest - 1) throw historyExpired(since);
        const rows = await db.query<ChangeRow>(
          `SELECT ${CHANGE_COLUMNS} FROM registry_changes WHERE revision > $1 ORDER BY revision LIMIT $2`,
          [since, limit],
        );
        return { revision, changes: rows.rows.map(toChange) };
      },
      { readOnly: true },
    );
  }

  /**
   * The defaults, only into a registry that never held an agent. Replicas starting together serialize on
   * the state row: the first seeds, the others find `ever_held_agents` set and seed nothing.
   */
  async seed(records: readonly AgentRecord[]): Promise<RegistryChange[] | undefined> {
    const valid = records.map((record) => validateAgentRecord(record));
    const changes = await this.run('seed the default agents', async (db) => {
      const state = await db.query<{ revision: string; ever_held_agents: boolean }>(
        'SELECT revision, ever_held_agents FROM registry_state FOR UPDATE',
      );
      if (state.rows[0]!.ever_held_agents) return undefined;
      const at = this.now();
      let revision = Number(state.rows[0]!.revision);
      const made: RegistryChange[] = [];
      for (const record of valid) {
        await db.query('INSERT INTO registry_agents (name, record, version) VALUES ($1, $2::json, 1)', [
          record.name,
          JSON.stringify(record),
        ]);
        made.push(await this.appendChange(db, ++revision, 'registered', record.name, record, 1, at));
        await this.appendVersion(db, made.at(-1)!, record, ANONYMOUS_ACTOR);
      }
      await db.query('UPDATE registry_state SET revision = $1, last_updated = $2, ever_held_agents = true', [
        revision,
        at,
      ]);
      if (made.length > 0) await this.notify(db, revision);
      return made;
    });
    return changes;
  }

  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  health(): RegistryStoreHealth {
    const listening = this.listener?.connected === true;
    const error = this.closed
      ? 'The registry store is closed.'
      : listening
        ? undefined
        : `Not connected to PostgreSQL for change notifications (${this.listener?.error ?? 'connecting'}); reconnecting.`;
    return {
      status: error === undefined ? 'ok' : 'unavailable',
      backend: this.backend,
      ...(error !== undefined && { error }),
      database: this.pool.target,
      channel: this.channel,
      listening,
      last_error: this.lastError,
      pool: this.pool.stats(),
      recovery: [],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    await this.listener?.stop();
  }

  /**
   * One change in one transaction: lock the state row (writers across replicas queue here, so revisions
   * are given in commit order), make the change, append it to the feed, trim the feed, notify.
   */
  private change(
    action: string,
    options: ChangeOptions,
    work: (
      db: PostgresQueryable,
      next: (
        type: ChangeType,
        name: string,
        record: AgentRecord | null,
        version: number,
        deleted?: AgentRecord,
      ) => Promise<RegistryChange>,
    ) => Promise<RegistryChange>,
  ): Promise<RegistryChange> {
    return this.run(action, async (db) => {
      const at = this.now();
      const locked = await db.query<{ revision: string }>(
        'UPDATE registry_state SET revision = revision + 1, last_updated = $1, ever_held_agents = true RETURNING revision',
        [at],
      );
      const revision = Number(locked.rows[0]!.revision);
      const change = await work(db, async (type, name, record, version, deleted) => {
        const made = await this.appendChange(db, revision, type, name, record, version, at);
        await this.appendVersion(db, made, (record ?? deleted)!, options.actor ?? ANONYMOUS_ACTOR);
        return made;
      });
      await db.query('DELETE FROM registry_changes WHERE revision <= $1', [revision - this.changesKept]);
      await this.notify(db, revision);
      return change;
    });
  }

  private async appendChange(
    db: PostgresQueryable,
    revision: number,
    type: ChangeType,
    name: string,
    record: AgentRecord | null,
    version: number,
    at: Date,
  ): Promise<RegistryChange> {
    await db.query(`INSERT INTO registry_changes (${CHANGE_COLUMNS}) VALUES ($1, $2, $3, $4::json, $5, $6)`, [
      revision,
      type,
      name,
      record === null ? null : JSON.stringify(record),
      version,
      at,
    ]);
    return { revision, type, agent_name: name, record, version, at: at.toISOString() };
  }

  /** The version a change made, in its transaction; versions beyond the kept number are deleted. */
  private async appendVersion(
    db: PostgresQueryable,
    change: RegistryChange,
    record: AgentRecord,
    actor: string,
  ): Promise<void> {
    await db.query(
      `INSERT INTO registry_versions (name, version, revision, type, record, at, actor)
       VALUES ($1, $2, $3, $4, $5::json, $6, $7)`,
      [
        change.agent_name,
        change.version,
        change.revision,
        change.type,
        JSON.stringify(record),
        change.at,
        actor,
      ],
    );
    if (change.version > this.versionsKept) {
      await db.query('DELETE FROM registry_versions WHERE name = $1 AND version <= $2', [
        change.agent_name,
        change.version - this.versionsKept,
      ]);
    }
  }

  /**
   * Sent at commit (NOTIFY is transactional): replicas hear only committed changes. The channel is named in
   * SQL from the schema, so a store that never listens (a CLI command) notifies the same replicas.
   */
  private async notify(db: PostgresQueryable, revision: number): Promise<void> {
    await db.query(`SELECT pg_notify(${CHANNEL_SQL}, $1)`, [String(revision)]);
  }

  private async run<T>(
    action: string,
    work: (db: PostgresQueryable) => Promise<T>,
    options: { readOnly?: boolean } = {},
  ): Promise<T> {
    if (this.closed) throw new AppError('database_unavailable', 'The registry store is closed.');
    try {
      const result = await this.pool.transaction(work, {
        ...(options.readOnly && { isolation: 'repeatable read' as const, readOnly: true }),
      });
      this.lastError = undefined;
      return result;
    } catch (error) {
      const mapped = toPostgresError(error, action, this.pool.target);
      if (mapped.status >= 500) this.lastError = mapped.message;
      throw mapped;
    }
  }

  private tell(): void {
    for (const watcher of this.watchers) {
      try {
        watcher();
      } catch (error) {
        this.logger.error({ err: error }, 'a registry watcher failed');
      }
    }
  }
}

function toChange(row: ChangeRow): RegistryChange {
  return {
    revision: Number(row.revision),
    type: row.type,
    agent_name: row.agent_name,
    record: row.record,
    version: Number(row.version),
    at: row.at.toISOString(),
  };
}
