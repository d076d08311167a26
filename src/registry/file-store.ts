/**
 * @module registry/file-store
 * The registry's embedded backend: one JSON file in DATA_DIR (the seed's format), replaced atomically and
 * durably, with the previous version kept as `.backup`. Changes requested while a save is running are
 * coalesced into the next one (group commit): each caller is answered once the save holding its change is
 * on disk, and a failed save fails every change in it and leaves memory and the file unchanged.
 *
 * At load, a corrupt file is moved aside (never deleted) and the store falls back to the backup, then to an
 * empty registry; a record that fails validation is set aside while every other one loads.
 */
import path from 'node:path';
import { AppError, messageOf, systemErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { SerialQueue } from '../serial-queue.js';
import { lowerBound } from '../sorted.js';
import {
  type AgentRecord,
  REGISTRY_FORMAT_VERSION,
  type RegistryDocument,
  validateAgentRecord,
} from './agent-record.js';
import { DataDirLock } from './data-dir-lock.js';
import {
  type DurableFs,
  isTempFileOf,
  promoteToBackup,
  realFs,
  removeQuietly,
  replaceWithCopy,
  syncDirectory,
} from './durable-file.js';
import { type FileWrite, type FileWriter, InlineFileWriter, WorkerFileWriter } from './file-writer.js';
import { emptyDocument, type RegistryFileContents, readRegistryFile, storageError } from './registry-file.js';
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
  RECOVERED_ACTOR,
  type RecoveryEvent,
  type RegistryChange,
  type RegistryLoadResult,
  type RegistrySnapshot,
  type RegistryStore,
  type RegistryStoreHealth,
  type RejectedRecord,
  type StoredAgent,
  versionConflict,
} from './registry-store.js';
import {
  type LatestVersion,
  type PendingVersions,
  VersionHistory,
  type VersionRow,
} from './version-history.js';

export const REGISTRY_FILE = 'registry_config.json';
export const BACKUP_SUFFIX = '.backup';
/** Changes kept for the change feed; older `since` values get `history_expired`. */
export const DEFAULT_CHANGES_KEPT = 10_000;
/** The most changes one save carries. */
const MAX_BATCH = 1024;

export interface FileStoreOptions {
  dataDir: string;
  /** File name inside `dataDir` (default `registry_config.json`). */
  fileName?: string;
  logger?: Logger;
  /** Filesystem calls; tests inject failures here. */
  fs?: DurableFs;
  now?: () => Date;
  /** Changes kept for `changesSince` (default 10,000). */
  changesKept?: number;
  /** Versions kept per agent (default 50) in DATA_DIR/registry_history.db. */
  versionsKept?: number;
  /**
   * Where saves run (see `file-writer`): `worker` (the default) in a worker thread, `inline` on the calling
   * thread. An injected `fs` needs `inline`, which is then the default.
   */
  writer?: 'worker' | 'inline';
}

/** A change waiting for the next save. */
interface PendingChange {
  kind: 'insert' | 'update' | 'remove';
  name: string;
  record?: AgentRecord;
  expectedVersion?: number;
  actor: string;
  resolve(change: RegistryChange): void;
  reject(error: unknown): void;
}

/** A change accepted into a batch, before its save. */
interface Accepted {
  pending: PendingChange;
  type: ChangeType;
  next: StoredAgent | null;
  version: number;
  record: AgentRecord | null;
  /** The record the version keeps: the new one, or for a deletion the one deleted. */
  kept: AgentRecord;
}

export class FileStore implements RegistryStore {
  readonly backend = 'file';
  /** One process per data directory (the lock): nothing else changes the file. */
  readonly shared = false;
  readonly path: string;
  readonly backupPath: string;
  private readonly dataDir: string;
  private readonly logger: Logger;
  private readonly fs: DurableFs;
  private readonly now: () => Date;
  private readonly changesKept: number;
  private readonly versionsKept: number;
  private versionHistory: VersionHistory | undefined;
  private readonly writer: FileWriter;
  /** The newest version of every name that ever had one, deleted names included. */
  private lastVersion = new Map<string, number>();
  private lock: DataDirLock | undefined;
  /** Backups and restores run one at a time. */
  private readonly queue = new SerialQueue();
  /**
   * Serialized entries (`,"name": {record}`: the comma that separates it from the entry before it first) of
   * records already saved, by record identity: a save re-serializes only changed records, allocates nothing
   * per unchanged one, and hands the kernel one part per agent.
   */
  private readonly entryBytes = new WeakMap<AgentRecord, { name: string; bytes: Buffer }>();

  /** What is on disk: the records by name, their names sorted, and the revision of the last change. */
  private agents = new Map<string, StoredAgent>();
  private names: string[] = [];
  private revision = 0;
  private lastUpdated = '';
  /** The last `changesKept` changes, oldest first. */
  private history: RegistryChange[] = [];
  /** Nothing was ever stored here: the first start of a data directory. */
  private pristine = false;
  private loaded = false;

  private pending: PendingChange[] = [];
  private flushing = false;
  private drained: (() => void)[] = [];

  private lastLoad: RegistryLoadResult | undefined;
  private lastSavedAt: string | undefined;
  private lastError: string | undefined;
  private saves = 0;

  constructor(options: FileStoreOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.path = path.join(this.dataDir, options.fileName ?? REGISTRY_FILE);
    this.backupPath = `${this.path}${BACKUP_SUFFIX}`;
    this.logger = options.logger ?? silentLogger();
    this.fs = options.fs ?? realFs;
    this.now = options.now ?? (() => new Date());
    this.changesKept = options.changesKept ?? DEFAULT_CHANGES_KEPT;
    this.versionsKept = options.versionsKept ?? DEFAULT_VERSIONS_KEPT;
    const writer = options.writer ?? (options.fs === undefined ? 'worker' : 'inline');
    if (writer === 'worker' && options.fs !== undefined) {
      throw new Error('FileStore: an injected fs is used only by the inline writer (writer: "inline")');
    }
    this.writer = writer === 'worker' ? new WorkerFileWriter() : new InlineFileWriter(this.fs);
  }

  /**
   * Create the data directory, take its exclusive lock (refusing if another process holds it), and remove
   * temp files a crash left behind. Must be called before `load`.
   */
  async open(): Promise<void> {
    if (this.lock !== undefined) return;
    try {
      await this.fs.mkdir(this.dataDir, { recursive: true });
    } catch (error) {
      throw storageError(`create the data directory ${this.dataDir}`, error);
    }
    this.lock = DataDirLock.acquire(this.dataDir);
    try {
      this.versionHistory = VersionHistory.open(this.dataDir, {
        versionsKept: this.versionsKept,
        logger: this.logger,
      });
    } catch (error) {
      this.lock.release();
      this.lock = undefined;
      throw error;
    }
    const names = await this.fs.readdir(this.dataDir);
    const base = path.basename(this.path);
    for (const name of names) {
      if (isTempFileOf(name, base) || isTempFileOf(name, path.basename(this.backupPath))) {
        await removeQuietly(this.fs, path.join(this.dataDir, name));
        this.logger.warn({ file: name }, 'removed a temp file left by an interrupted save');
      }
    }
  }

  async close(): Promise<void> {
    await this.drain();
    await this.queue.drain();
    await this.writer.close();
    this.versionHistory?.close();
    this.versionHistory = undefined;
    this.lock?.release();
    this.lock = undefined;
    this.loaded = false;
  }

  /**
   * Read the registry: the file if it is usable, else the backup (which then replaces the file), else an
   * empty registry. A usable file is read record by record: a record that fails validation is set aside
   * (see `setAsideRejected`) while every other one loads. Unusable files are moved aside, never deleted.
   * Unreadable (I/O error, permissions) or written by an incompatible version: throws, because starting
   * empty would hide the operator's data.
   *
   * Revisions restart at each load from a time-based epoch (milliseconds × 1000), so they only grow across
   * restarts and a change-feed client from before a restart gets `history_expired` and reloads.
   */
  async load(): Promise<RegistryLoadResult> {
    this.assertOpen();
    this.writer.invalidate();
    const events: RecoveryEvent[] = [];
    const read = (file: string) => readRegistryFile(this.fs, file, { now: this.now });
    const main = await read(this.path);
    let source: RegistryLoadResult['source'] = 'file';
    let contents: Extract<RegistryFileContents, { kind: 'ok' }> | undefined;
    if (main.kind === 'ok') {
      contents = main;
      await this.setAsideRejected(this.path, main, events);
    } else {
      if (main.kind === 'bad') events.push(await this.quarantine(this.path, main.reason));
      const backup = await read(this.backupPath);
      if (backup.kind === 'ok') {
        await this.restoreFromBackup();
        const reason =
          main.kind === 'missing' ? 'the registry file was missing' : 'the registry file was unusable';
        this.logger.error({ backup: this.backupPath }, `${reason}: restored the registry from its backup`);
        events.push({ file: this.backupPath, action: 'restored', reason, at: this.now().toISOString() });
        await this.setAsideRejected(this.backupPath, backup, events);
        source = 'backup';
        contents = backup;
      } else {
        if (backup.kind === 'bad') events.push(await this.quarantine(this.backupPath, backup.reason));
        if (events.length > 0) {
          this.logger.error(
            { quarantined: events.map((event) => event.moved_to) },
            'no usable registry file or backup: starting with an empty registry',
          );
        }
        source = 'empty';
      }
    }
    const document = contents?.document ?? emptyDocument(this.now());
    this.names = Object.keys(document.agents).sort();
    this.revision = this.now().getTime() * 1000;
    const versions = this.reconcileHistory(document);
    this.agents = new Map(
      this.names.map((name) => [name, { record: document.agents[name]!, version: versions.get(name)! }]),
    );
    for (const { record } of this.agents.values()) this.remember(record);
    this.lastUpdated = document.last_updated;
    this.history = [];
    // A history means agents were stored here before, even if the file is gone: never seed over it.
    this.pristine = source === 'empty' && events.length === 0 && this.lastVersion.size === 0;
    this.loaded = true;
    const result: RegistryLoadResult = {
      revision: this.revision,
      last_updated: this.lastUpdated,
      agents: this.names.map((name) => this.agents.get(name)!),
      source,
      events,
    };
    this.lastLoad = result;
    return result;
  }

  async insert(record: AgentRecord, options: ChangeOptions = {}): Promise<RegistryChange> {
    return this.enqueue({ kind: 'insert', name: record.name, record, actor: actorOf(options) });
  }

  async update(
    record: AgentRecord,
    expectedVersion: number,
    options: ChangeOptions = {},
  ): Promise<RegistryChange> {
    return this.enqueue({
      kind: 'update',
      name: record.name,
      record,
      expectedVersion,
      actor: actorOf(options),
    });
  }

  async remove(name: string, options: ChangeOptions = {}): Promise<RegistryChange> {
    return this.enqueue({ kind: 'remove', name, actor: actorOf(options) });
  }

  async versions(name: string): Promise<AgentVersion[]> {
    this.assertLoaded();
    return this.versionHistory!.list(name);
  }

  async version(name: string, version: number): Promise<AgentRecord> {
    this.assertLoaded();
    return this.versionHistory!.get(name, version);
  }

  /**
   * The file is the truth; the history follows it. Where the file differs from a name's newest version
   * (a crash between the file replace and the history COMMIT, a restored backup, an edited file), the
   * difference is recorded as a new version with actor `recovered`. Returns each stored name's version.
   */
  private reconcileHistory(document: RegistryDocument): Map<string, number> {
    const latest = this.versionHistory!.latest();
    const at = this.now().toISOString();
    const rows: VersionRow[] = [];
    const versions = new Map<string, number>();
    const add = (
      name: string,
      previous: LatestVersion | undefined,
      type: VersionRow['type'],
      record: string,
    ) => {
      const version = (previous?.version ?? 0) + 1;
      rows.push({ name, version, revision: this.revision, type, record, at, actor: RECOVERED_ACTOR });
      return version;
    };
    for (const name of this.names) {
      const record = JSON.stringify(document.agents[name]);
      const previous = latest.get(name);
      if (previous === undefined || previous.type === 'deleted') {
        versions.set(name, add(name, previous, 'registered', record));
      } else if (previous.record !== record) {
        versions.set(name, add(name, previous, 'updated', record));
      } else {
        versions.set(name, previous.version);
      }
    }
    for (const [name, previous] of latest) {
      if (previous.type !== 'deleted' && !versions.has(name)) add(name, previous, 'deleted', previous.record);
    }
    if (rows.length > 0) {
      this.versionHistory!.record(rows);
      this.logger.warn(
        { agents: rows.map((row) => row.name) },
        'the registry file differs from its version history: recorded the differences as recovered versions',
      );
    }
    this.lastVersion = new Map([...latest].map(([name, { version }]) => [name, version]));
    for (const row of rows) this.lastVersion.set(row.name, row.version);
    return versions;
  }

  async changesSince(since: number, limit: number): Promise<ChangePage> {
    this.assertLoaded();
    if (since === this.revision) return { revision: this.revision, changes: [] };
    const first = this.history[0]?.revision ?? this.revision + 1;
    if (since > this.revision || since < first - 1) throw historyExpired(since);
    const start = since - first + 1;
    return { revision: this.revision, changes: this.history.slice(start, start + limit) };
  }

  async seed(records: readonly AgentRecord[]): Promise<RegistryChange[] | undefined> {
    this.assertLoaded();
    if (!this.pristine || this.agents.size > 0 || this.pending.length > 0) return undefined;
    this.pristine = false;
    return Promise.all(records.map((record) => this.insert(record)));
  }

  async snapshot(): Promise<RegistrySnapshot> {
    this.assertLoaded();
    return {
      revision: this.revision,
      last_updated: this.lastUpdated,
      agents: this.names.map((name) => this.agents.get(name)!),
    };
  }

  watch(): () => void {
    return () => {};
  }

  /** Keep the current file as the backup. Returns false when there is no file yet. */
  async backup(): Promise<boolean> {
    this.assertOpen();
    return this.queue.run(async () => {
      const done = await promoteToBackup(this.fs, this.path, this.backupPath);
      if (done) await syncDirectory(this.fs, this.dataDir);
      return done;
    });
  }

  /** Replace the file with the backup. Returns false when there is no backup. */
  async restoreFromBackup(): Promise<boolean> {
    this.assertOpen();
    return this.queue.run(async () => {
      this.writer.invalidate();
      try {
        await replaceWithCopy(this.fs, this.backupPath, this.path);
      } catch (error) {
        if (systemErrorCode(error) === 'ENOENT') return false;
        throw storageError(`restore ${this.path} from ${this.backupPath}`, error);
      }
      await syncDirectory(this.fs, this.dataDir);
      return true;
    });
  }

  health(): RegistryStoreHealth {
    return {
      status: this.lock === undefined ? 'unavailable' : 'ok',
      backend: this.backend,
      path: this.path,
      loaded_from: this.lastLoad?.source,
      recovery: [...(this.lastLoad?.events ?? [])],
      last_saved_at: this.lastSavedAt,
      last_error: this.lastError,
      saves: this.saves,
      pending_changes: this.pending.length,
    };
  }

  /** Resolves once every change requested so far is saved or refused. */
  drain(): Promise<void> {
    if (!this.flushing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private enqueue(change: Omit<PendingChange, 'resolve' | 'reject'>): Promise<RegistryChange> {
    this.assertLoaded();
    return new Promise((resolve, reject) => {
      this.pending.push({ ...change, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // The next turn, so that changes requested together share the save.
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Save batches until nothing is pending; changes requested during a save go into the next one. */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) await this.saveBatch(this.pending.splice(0, MAX_BATCH));
    // No await between the check above and this: a change requested now starts a new flush.
    this.flushing = false;
    for (const resolve of this.drained.splice(0)) resolve();
  }

  /**
   * Judge each change against what is stored plus the changes before it in the batch (the store decides:
   * a taken name, a stale version, a missing agent), write every accepted change in one durable save,
   * then apply them. A failed save refuses them all and changes nothing.
   */
  private async saveBatch(batch: PendingChange[]): Promise<void> {
    const overlay = new Map<string, StoredAgent | null>();
    const current = (name: string) => (overlay.has(name) ? overlay.get(name)! : this.agents.get(name));
    const overlayVersions = new Map<string, number>();
    const accepted: Accepted[] = [];
    // Refused because of a change earlier in this batch (the same name registered twice at once): answered
    // only once that change is saved, so a 409 never names an agent that a read cannot see yet, or that a
    // failed save never stored.
    const refusedByBatch: { pending: PendingChange; error: unknown }[] = [];
    for (const pending of batch) {
      try {
        const last = overlayVersions.get(pending.name) ?? this.lastVersion.get(pending.name) ?? 0;
        const change = this.judge(pending, current(pending.name), last);
        overlay.set(pending.name, change.next);
        overlayVersions.set(pending.name, change.version);
        accepted.push(change);
      } catch (error) {
        if (overlay.has(pending.name)) refusedByBatch.push({ pending, error });
        else pending.reject(error);
      }
    }
    if (accepted.length === 0) return;

    const at = this.now().toISOString();
    const names = mergeNames(this.names, overlay);
    let versions: PendingVersions | undefined;
    try {
      // The versions' transaction spans the file replace: committed only once the file holds the changes.
      versions = this.versionHistory!.begin(
        accepted.map((change, i) => ({
          name: change.pending.name,
          version: change.version,
          revision: this.revision + i + 1,
          type: change.type,
          record: JSON.stringify(change.kept),
          at,
          actor: change.pending.actor,
        })),
      );
      await this.writer.write(this.fileWrite(names, current, at, overlay));
    } catch (error) {
      try {
        versions?.rollback();
      } catch (rollbackError) {
        this.logger.error({ err: rollbackError }, 'could not roll back the version history');
      }
      this.lastError = messageOf(error);
      this.logger.error({ err: error, file: this.path }, 'registry save failed; the previous file is intact');
      const failure = storageError(
        `save the registry to ${this.path}`,
        error,
        'The previous version is intact; nothing was changed.',
      );
      for (const change of accepted) change.pending.reject(failure);
      for (const { pending } of refusedByBatch) pending.reject(failure);
      return;
    }
    try {
      await versions.commit();
    } catch (error) {
      // The file holds the changes, so they are made: the next load records their versions as recovered.
      this.logger.error({ err: error }, 'could not commit the version history; the next start recovers it');
      try {
        versions.rollback();
      } catch {
        // No transaction left to roll back.
      }
    }
    this.saves++;
    this.lastSavedAt = at;
    this.lastError = undefined;
    for (const [name, next] of overlay) {
      if (next === null) this.agents.delete(name);
      else this.agents.set(name, next);
    }
    for (const [name, version] of overlayVersions) this.lastVersion.set(name, version);
    this.names = names;
    this.lastUpdated = at;
    this.pristine = false;
    for (const { pending, type, version, record } of accepted) {
      const change: RegistryChange = {
        revision: ++this.revision,
        type,
        agent_name: pending.name,
        record,
        version,
        at,
      };
      this.history.push(change);
      pending.resolve(change);
    }
    for (const { pending, error } of refusedByBatch) pending.reject(error);
    if (this.history.length > this.changesKept)
      this.history.splice(0, this.history.length - this.changesKept);
  }

  /** `last`: the name's newest version, also when it is deleted (a new registration continues from it). */
  private judge(pending: PendingChange, stored: StoredAgent | null | undefined, last: number): Accepted {
    const exists = stored !== null && stored !== undefined;
    const version = last + 1;
    if (pending.kind === 'insert') {
      const record = validateAgentRecord(pending.record);
      if (exists) throw agentExists(pending.name);
      return { pending, type: 'registered', next: { record, version }, version, record, kept: record };
    }
    if (!exists) throw agentNotFound(pending.name);
    if (pending.kind === 'remove') {
      return { pending, type: 'deleted', next: null, version, record: null, kept: stored.record };
    }
    const record = validateAgentRecord(pending.record);
    if (stored.version !== pending.expectedVersion) throw versionConflict(pending.name, stored.version);
    return { pending, type: 'updated', next: { record, version }, version, record, kept: record };
  }

  /**
   * The save of exactly `JSON.stringify(document, null, 2)` plus a newline (see `registryFileParts`): the
   * changed entries (`overlay`) when the writer holds the file as saved, else every entry. Entries are cached
   * bytes, serialized once per record.
   */
  private fileWrite(
    names: readonly string[],
    recordOf: (name: string) => StoredAgent | null | undefined,
    lastUpdated: string,
    overlay?: ReadonlyMap<string, StoredAgent | null>,
  ): FileWrite {
    const header = Buffer.from(
      `{\n  "version": ${JSON.stringify(REGISTRY_FORMAT_VERSION)},\n  "last_updated": ${JSON.stringify(lastUpdated)},\n  "agents": {`,
    );
    const bytesOf = (name: string, record: AgentRecord) => {
      const entry = this.entryBytes.get(record);
      return (entry === undefined || entry.name !== name ? this.remember(record) : entry).bytes;
    };
    const reset = overlay === undefined || !this.writer.synced;
    const entries: FileWrite['entries'] = reset
      ? names.map((name) => [name, bytesOf(name, recordOf(name)!.record)])
      : [...overlay].map(([name, next]) => [name, next === null ? null : bytesOf(name, next.record)]);
    return { target: this.path, backupPath: this.backupPath, header, reset, entries };
  }

  /** Serialize a record once and freeze it, so its cached bytes can never go stale. */
  private remember(record: AgentRecord): { name: string; bytes: Buffer } {
    // Indentation in JSON.stringify is a prefix per line; string values cannot hold a raw newline.
    const json = JSON.stringify(record, null, 2).replaceAll('\n', '\n    ');
    const entry = { name: record.name, bytes: Buffer.from(`,\n    ${JSON.stringify(record.name)}: ${json}`) };
    deepFreeze(record);
    this.entryBytes.set(record, entry);
    return entry;
  }

  /**
   * Records that failed validation are never dropped silently: the file as read is kept, byte for byte, as
   * `<file>.rejected-<time>` (the records cannot always be re-serialized: one nested too deep would overflow
   * JSON.stringify), then the registry file is rewritten without them so the next start is clean. The
   * `agent-registry repair` command shows and restores them.
   */
  private async setAsideRejected(
    file: string,
    contents: Extract<RegistryFileContents, { kind: 'ok' }>,
    events: RecoveryEvent[],
  ): Promise<void> {
    if (contents.rejected.length === 0) return;
    const at = this.now().toISOString();
    const target = await this.freeName(`${this.path}.rejected-${at.replace(/[:.]/g, '-')}`);
    try {
      await replaceWithCopy(this.fs, file, target);
      await syncDirectory(this.fs, this.dataDir);
    } catch (error) {
      throw storageError(`keep the records that failed validation in ${target}`, error);
    }
    const { agents } = contents.document;
    const names = Object.keys(agents).sort();
    try {
      await this.writer.write(
        this.fileWrite(
          names,
          (name) => ({ record: agents[name]!, version: 1 }),
          contents.document.last_updated,
        ),
      );
    } catch (error) {
      throw storageError(`rewrite ${this.path} without the records that failed validation`, error);
    }
    const reason = `${contents.rejected.length} record(s) failed validation and were set aside: ${contents.rejected
      .map((record) => `${record.name} (${record.reason})`)
      .join('; ')}`;
    this.logger.error(
      { file, moved_to: target, rejected: contents.rejected },
      `registry records set aside in ${target}; every other agent loaded`,
    );
    events.push({
      file,
      action: 'records_set_aside',
      moved_to: target,
      reason,
      records: contents.rejected,
      at,
    });
  }

  /**
   * What `load` would find, changing nothing and needing no lock (safe while a service runs): the file or
   * else the backup, with the records that would be set aside, or why neither is usable.
   */
  async inspect(): Promise<RegistryInspection> {
    const unusable: string[] = [];
    for (const [source, file] of [
      ['file', this.path],
      ['backup', this.backupPath],
    ] as const) {
      const contents = await readRegistryFile(this.fs, file, { now: this.now });
      if (contents.kind === 'ok') {
        return { source, document: contents.document, rejected: contents.rejected, unusable };
      }
      if (contents.kind === 'bad') unusable.push(`${file}: ${contents.reason}`);
    }
    return { source: 'empty', document: emptyDocument(this.now()), rejected: [], unusable };
  }

  /** Files in the data directory holding what a load set aside: `.corrupt-*` and `.rejected-*` copies. */
  async setAsideFiles(): Promise<string[]> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.dataDir);
    } catch (error) {
      if (systemErrorCode(error) === 'ENOENT') return [];
      throw storageError(`list ${this.dataDir}`, error);
    }
    const base = path.basename(this.path);
    return names
      .filter((name) => name.startsWith(`${base}.`) && /\.(corrupt|rejected)-[^/]*$/.test(name))
      .sort()
      .map((name) => path.join(this.dataDir, name));
  }

  /** Read any registry-format file (a set-aside copy) record by record. */
  async readRecords(
    file: string,
  ): Promise<{ records: AgentRecord[]; rejected: RejectedRecord[] } | { unreadable: string }> {
    const contents = await readRegistryFile(this.fs, file, { envelope: false, now: this.now });
    if (contents.kind === 'missing') return { unreadable: 'the file does not exist' };
    if (contents.kind === 'bad') return { unreadable: contents.reason };
    return { records: Object.values(contents.document.agents), rejected: contents.rejected };
  }

  /** Move a bad file aside under a name that says `corrupt` and when; never overwrite anything. */
  private async quarantine(file: string, reason: string): Promise<RecoveryEvent> {
    const at = this.now().toISOString();
    const target = await this.freeName(`${file}.corrupt-${at.replace(/[:.]/g, '-')}`);
    try {
      await this.fs.rename(file, target);
      await syncDirectory(this.fs, this.dataDir);
    } catch (error) {
      throw storageError(`move the unusable file ${file} aside`, error);
    }
    this.logger.error({ file, moved_to: target, reason }, `unusable registry file moved aside to ${target}`);
    return { file, action: 'quarantined', moved_to: target, reason, at };
  }

  /** `base`, or `base-1`, `base-2`, ... whichever does not exist yet. */
  private async freeName(base: string): Promise<string> {
    let target = base;
    for (let n = 1; await exists(this.fs, target); n++) target = `${base}-${n}`;
    return target;
  }

  private assertOpen(): void {
    if (this.lock === undefined) {
      throw new AppError('internal_error', 'FileStore used before open() (or after close())');
    }
  }

  private assertLoaded(): void {
    this.assertOpen();
    if (!this.loaded) throw new AppError('internal_error', 'FileStore used before load()');
  }
}

/** What a load would find (see `FileStore.inspect`). */
export interface RegistryInspection {
  source: 'file' | 'backup' | 'empty';
  document: RegistryDocument;
  /** Records that a load would set aside. */
  rejected: RejectedRecord[];
  /** Files a load would move aside, with why. */
  unusable: string[];
}

function actorOf(options: ChangeOptions): string {
  return options.actor ?? ANONYMOUS_ACTOR;
}

/** `names` (sorted) with the batch's inserts added and its deletions removed, still sorted. */
function mergeNames(names: readonly string[], overlay: ReadonlyMap<string, StoredAgent | null>): string[] {
  const next = [...names];
  for (const [name, agent] of overlay) {
    const at = lowerBound(next, name);
    const present = next[at] === name;
    if (agent === null && present) next.splice(at, 1);
    else if (agent !== null && !present) next.splice(at, 0, name);
  }
  return next;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

async function exists(fs: DurableFs, file: string): Promise<boolean> {
  try {
    await (await fs.open(file, 'r')).close();
    return true;
  } catch {
    return false;
  }
}
