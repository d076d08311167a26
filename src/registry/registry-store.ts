/**
 * @module registry/registry-store
 * Where agent records live. The store, not a process's memory, is the truth: it decides whether a name is
 * taken, applies an update only to the version it was computed from (compare-and-swap), numbers every change
 * with a store-wide revision, and hands out the changes since a revision. Each process's `AgentRegistry` is
 * a cache of it. Backends: the JSON file (one process; group-committed saves) and PostgreSQL (several
 * replicas; LISTEN/NOTIFY). Both pass the same contract suite (test/registry/registry-store.contract.ts).
 */
import { AppError } from '../errors.js';
import type { AgentRecord } from './agent-record.js';

/** A record as stored, with the version a compare-and-swap update must name. */
export interface StoredAgent {
  readonly record: AgentRecord;
  /** 1 when registered, +1 with every update. */
  readonly version: number;
}

export type ChangeType = 'registered' | 'updated' | 'deleted';

/** One acknowledged change, as the change feed carries it. */
export interface RegistryChange {
  /** The store-wide revision this change made (each change +1; every replica sees the same numbers). */
  readonly revision: number;
  readonly type: ChangeType;
  readonly agent_name: string;
  /** The record after the change; `null` for a deletion. */
  readonly record: AgentRecord | null;
  /** The agent's version after the change (for a deletion: the version that was deleted). */
  readonly version: number;
  readonly at: string;
}

/** The changes after a revision, oldest first, and the store's revision when they were read. */
export interface ChangePage {
  readonly revision: number;
  readonly changes: readonly RegistryChange[];
}

/** A stored record that failed validation at load, by the key it was stored under. */
export interface RejectedRecord {
  name: string;
  reason: string;
}

/**
 * Something the store did to recover at load: a bad file moved aside (`quarantined`), a backup restored,
 * or records that failed validation set aside (`records_set_aside`) while the others loaded.
 */
export interface RecoveryEvent {
  file: string;
  action: 'quarantined' | 'restored' | 'records_set_aside';
  /** Where a quarantined file, or the copy holding the set-aside records, now is. */
  moved_to?: string;
  reason: string;
  /** The records set aside. */
  records?: RejectedRecord[];
  at: string;
}

/** Everything the store holds, at one revision. */
export interface RegistrySnapshot {
  readonly revision: number;
  /** When the registry last changed. */
  readonly last_updated: string;
  /** Sorted by name. */
  readonly agents: readonly StoredAgent[];
}

export interface RegistryLoadResult extends RegistrySnapshot {
  /**
   * `file`: the registry as last saved; `backup`: the previous version (the file was unusable); `empty`:
   * nothing stored yet, or nothing usable; `database`: read from a database.
   */
  readonly source: 'file' | 'backup' | 'empty' | 'database';
  /** What was done to recover (file backend); any entry means data needs attention. */
  readonly events: readonly RecoveryEvent[];
}

export interface RegistryStoreHealth {
  status: 'ok' | 'unavailable';
  backend: string;
  /** Why the store is unavailable. */
  error?: string;
  /** What load had to recover. */
  recovery: RecoveryEvent[];
  /** Backend-specific detail (file path and last save; database, listener and pool). */
  [detail: string]: unknown;
}

export interface RegistryStore {
  readonly backend: string;
  /**
   * Whether other processes may change the store: then changes arrive through `watch`, and a process must
   * catch up before it trusts its cache. Capability flag, so callers never switch on the backend's name.
   */
  readonly shared: boolean;
  /** Acquire what the backend needs (directory and lock, connection and listener). */
  open(): Promise<void>;
  /** Everything stored, once at start-up (recovering from bad files first, on the file backend). */
  load(): Promise<RegistryLoadResult>;
  /** Everything stored now, reading only (a cache that fell too far behind reloads from it). */
  snapshot(): Promise<RegistrySnapshot>;
  /**
   * Add a record (version 1). `agent_exists` if the name is taken, `validation_error` if the record is not
   * valid (`validateAgentRecord`): in both cases nothing is stored.
   */
  insert(record: AgentRecord): Promise<RegistryChange>;
  /**
   * Replace a record, only if it is still at `expectedVersion`: `version_conflict` otherwise (someone else
   * changed it since it was read), `agent_not_found` if it is gone.
   */
  update(record: AgentRecord, expectedVersion: number): Promise<RegistryChange>;
  /** Delete a record; `agent_not_found` if there is none by that name. */
  remove(name: string): Promise<RegistryChange>;
  /**
   * Up to `limit` changes after `since`, oldest first. `history_expired` when changes after `since` are no
   * longer retained (the caller reloads with `load`).
   */
  changesSince(since: number, limit: number): Promise<ChangePage>;
  /**
   * Add `records` in one change set if the store has never held an agent (first start of an empty
   * store), else nothing: returns the changes, or `undefined`. Safe when several replicas start at once.
   */
  seed(records: readonly AgentRecord[]): Promise<RegistryChange[] | undefined>;
  /** Be told that the store may hold changes this process has not seen (another replica wrote). */
  watch(listener: () => void): () => void;
  health(): RegistryStoreHealth;
  /** Finish pending writes and release the store. */
  close(): Promise<void>;
}

/** The errors every backend answers with, worded once. */
export function agentExists(name: string): AppError {
  return new AppError(
    'agent_exists',
    `An agent named "${name}" is already registered; delete it first or pick another name`,
  );
}

export function agentNotFound(name: string): AppError {
  return new AppError('agent_not_found', `No agent named "${name}" is registered`);
}

export function versionConflict(name: string, version: number): AppError {
  return new AppError(
    'version_conflict',
    `"${name}" was changed by someone else (it is now at version ${version}); read it again and retry`,
  );
}

export function historyExpired(since: number): AppError {
  return new AppError(
    'history_expired',
    `Changes after revision ${since} are no longer kept: reload the agent list (GET /registry/agents) and follow from its revision`,
  );
}
