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
  /**
   * The agent's latest version: every change to a name (register, update, delete) takes the next number,
   * so re-registering a deleted name continues its numbering.
   */
  readonly version: number;
}

/** Who makes a change: recorded with the version it makes. */
export interface ChangeOptions {
  /** The label of the admin token used, `anonymous` when none is configured (the default). */
  actor?: string;
}

/** The actor of changes made without a token, and of versions a load recorded from the file. */
export const ANONYMOUS_ACTOR = 'anonymous';
export const RECOVERED_ACTOR = 'recovered';
/** Versions kept per agent unless configured (`REGISTRY_VERSIONS_KEPT`). */
export const DEFAULT_VERSIONS_KEPT = 50;

/** One version of an agent, as `GET /registry/agents/{name}/versions` lists it. */
export interface AgentVersion {
  readonly version: number;
  /** The store revision of the change that made it. */
  readonly revision: number;
  readonly type: ChangeType;
  readonly at: string;
  readonly actor: string;
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
  /** The agent's version this change made (a deletion makes one too). */
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
  insert(record: AgentRecord, options?: ChangeOptions): Promise<RegistryChange>;
  /**
   * Replace a record, only if it is still at `expectedVersion`: `version_conflict` otherwise (someone else
   * changed it since it was read), `agent_not_found` if it is gone.
   */
  update(record: AgentRecord, expectedVersion: number, options?: ChangeOptions): Promise<RegistryChange>;
  /** Delete a record; `agent_not_found` if there is none by that name. */
  remove(name: string, options?: ChangeOptions): Promise<RegistryChange>;
  /**
   * The kept versions of `name`, newest first (at most the configured number per agent; a deleted agent
   * keeps its history). `agent_not_found` if the name never had a version.
   */
  versions(name: string): Promise<AgentVersion[]>;
  /**
   * The record as version `version` left it (for a deletion: the record that was deleted).
   * `agent_not_found` if the name never had a version, `version_not_found` if that one is not kept.
   */
  version(name: string, version: number): Promise<AgentRecord>;
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

export function versionNotFound(name: string, version: number): AppError {
  return new AppError(
    'version_not_found',
    `"${name}" has no version ${version} (or it is older than the versions kept); list them with GET /registry/agents/${name}/versions`,
  );
}

export function historyExpired(since: number): AppError {
  return new AppError(
    'history_expired',
    `Changes after revision ${since} are no longer kept: reload the agent list (GET /registry/agents) and follow from its revision`,
  );
}
