/**
 * @module registry/registry-store
 * Where registry documents live. The registry depends on this interface only; the JSON file store is the
 * embedded backend, and every backend passes the same contract test suite.
 */
import type { RegistryDocument } from './agent-record.js';

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

export interface RegistryLoadResult {
  document: RegistryDocument;
  /** `file`: the registry as last saved; `backup`: the previous version; `empty`: nothing usable or first start. */
  source: 'file' | 'backup' | 'empty';
  events: RecoveryEvent[];
}

export interface RegistryStoreHealth {
  backend: string;
  path?: string;
  loaded_from: RegistryLoadResult['source'] | undefined;
  recovery: RecoveryEvent[];
  last_saved_at: string | undefined;
  last_error: string | undefined;
}

export interface RegistryStore {
  readonly backend: string;
  /** Acquire whatever the backend needs (directory, lock, connection). */
  open(): Promise<void>;
  load(): Promise<RegistryLoadResult>;
  /** Durably store `document`; on failure throws `storage_error` and the stored document is unchanged. */
  save(document: RegistryDocument): Promise<void>;
  health(): RegistryStoreHealth;
  close(): Promise<void>;
}
