/**
 * @module registry/file-store
 * The registry's embedded backend: one JSON file in DATA_DIR, replaced atomically and durably on every save,
 * with the previous version kept as `.backup`. A corrupt or invalid file is moved aside (never deleted) and
 * the store falls back to the backup, then to an empty registry, reporting what happened.
 */
import path from 'node:path';
import { AppError, messageOf, systemErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { compileValidator } from '../schema-validator.js';
import { SerialQueue } from '../serial-queue.js';
import {
  type AgentRecord,
  REGISTRY_FORMAT_VERSION,
  type RegistryDocument,
  RegistryEnvelopeSchema,
  validateAgentRecord,
} from './agent-record.js';
import { DataDirLock } from './data-dir-lock.js';
import {
  type DurableFs,
  isTempFileOf,
  promoteToBackup,
  realFs,
  removeQuietly,
  replaceFileDurably,
  replaceWithCopy,
  syncDirectory,
} from './durable-file.js';
import type {
  RecoveryEvent,
  RegistryLoadResult,
  RegistryStore,
  RegistryStoreHealth,
  RejectedRecord,
} from './registry-store.js';

export const REGISTRY_FILE = 'registry_config.json';
export const BACKUP_SUFFIX = '.backup';

export interface FileStoreOptions {
  dataDir: string;
  /** File name inside `dataDir` (default `registry_config.json`). */
  fileName?: string;
  logger?: Logger;
  /** Filesystem calls; tests inject failures here. */
  fs?: DurableFs;
  now?: () => Date;
}

const validateEnvelope = compileValidator(RegistryEnvelopeSchema, 'registry file');
const COMMA = Buffer.from(',');
const CLOSE_AGENTS = Buffer.from('\n  }\n}\n');
const CLOSE_EMPTY_AGENTS = Buffer.from('}\n}\n');

/** Why a file could not be used, or the document it holds and the records that failed validation. */
type ReadOutcome =
  | { kind: 'ok'; document: RegistryDocument; rejected: RejectedRecord[] }
  | { kind: 'missing' }
  | { kind: 'bad'; reason: string };

export class FileStore implements RegistryStore {
  readonly backend = 'file';
  readonly path: string;
  readonly backupPath: string;
  private readonly dataDir: string;
  private readonly logger: Logger;
  private readonly fs: DurableFs;
  private readonly now: () => Date;
  private lock: DataDirLock | undefined;
  /** Saves, backups and restores run one at a time, in call order. */
  private readonly queue = new SerialQueue();
  /**
   * Serialized entries (`"name": {record}`) of records already saved, by record identity: a save
   * re-serializes only changed records and allocates nothing per unchanged one.
   */
  private readonly entryBytes = new WeakMap<AgentRecord, { name: string; bytes: Buffer }>();
  private lastLoad: RegistryLoadResult | undefined;
  private lastSavedAt: string | undefined;
  private lastError: string | undefined;

  constructor(options: FileStoreOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.path = path.join(this.dataDir, options.fileName ?? REGISTRY_FILE);
    this.backupPath = `${this.path}${BACKUP_SUFFIX}`;
    this.logger = options.logger ?? silentLogger();
    this.fs = options.fs ?? realFs;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Create the data directory, take its exclusive lock (refusing if another process holds it), and remove
   * temp files a crash left behind. Must be called before `load` and `save`.
   */
  async open(): Promise<void> {
    if (this.lock !== undefined) return;
    try {
      await this.fs.mkdir(this.dataDir, { recursive: true });
    } catch (error) {
      throw storageError(`create the data directory ${this.dataDir}`, error);
    }
    this.lock = DataDirLock.acquire(this.dataDir);
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
    await this.queue.drain();
    this.lock?.release();
    this.lock = undefined;
  }

  /**
   * Read the registry: the file if it is usable, else the backup (which then replaces the file), else an
   * empty registry. A file is usable when it is JSON with the registry's envelope; it is then read record by
   * record, and a record that fails validation is set aside (see `setAsideRejected`) while every other one
   * loads. Unusable files are moved aside, never deleted. Unreadable (I/O error, permissions) or written by an
   * incompatible version: throws, because starting empty would hide the operator's data.
   */
  async load(): Promise<RegistryLoadResult> {
    this.assertOpen();
    const events: RecoveryEvent[] = [];
    const main = await this.read(this.path);
    if (main.kind === 'ok') {
      await this.setAsideRejected(this.path, main, events);
      return this.loaded({ document: main.document, source: 'file', events });
    }

    if (main.kind === 'bad') events.push(await this.quarantine(this.path, main.reason));
    const backup = await this.read(this.backupPath);
    if (backup.kind === 'ok') {
      await this.restoreFromBackup();
      const reason =
        main.kind === 'missing' ? 'the registry file was missing' : 'the registry file was unusable';
      this.logger.error({ backup: this.backupPath }, `${reason}: restored the registry from its backup`);
      events.push({ file: this.backupPath, action: 'restored', reason, at: this.now().toISOString() });
      await this.setAsideRejected(this.backupPath, backup, events);
      return this.loaded({ document: backup.document, source: 'backup', events });
    }
    if (backup.kind === 'bad') events.push(await this.quarantine(this.backupPath, backup.reason));
    if (events.length > 0) {
      this.logger.error(
        { quarantined: events.map((event) => event.moved_to) },
        'no usable registry file or backup: starting with an empty registry',
      );
    }
    return this.loaded({ document: emptyDocument(this.now()), source: 'empty', events });
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
      const outcome = await this.read(file);
      if (outcome.kind === 'ok') {
        return { source, document: outcome.document, rejected: outcome.rejected, unusable };
      }
      if (outcome.kind === 'bad') unusable.push(`${file}: ${outcome.reason}`);
    }
    return { source: 'empty', document: emptyDocument(this.now()), rejected: [], unusable };
  }

  /** Files in the data directory holding what a load set aside: `.corrupt-*` and `.rejected-*` copies. */
  async setAsideFiles(): Promise<string[]> {
    const names = await this.fs.readdir(this.dataDir);
    const base = path.basename(this.path);
    return names
      .filter((name) => name.startsWith(`${base}.`) && /\.(corrupt|rejected)-[^/]*$/.test(name))
      .sort()
      .map((name) => path.join(this.dataDir, name));
  }

  /** Read any registry-format file (a set-aside copy) record by record; `undefined` when it is not one. */
  async readRecords(
    file: string,
  ): Promise<{ records: AgentRecord[]; rejected: RejectedRecord[] } | { unreadable: string }> {
    const outcome = await this.read(file, { envelope: false });
    if (outcome.kind === 'missing') return { unreadable: 'the file does not exist' };
    if (outcome.kind === 'bad') return { unreadable: outcome.reason };
    return { records: Object.values(outcome.document.agents), rejected: outcome.rejected };
  }

  /**
   * Durably replace the file with `document`, keeping the current file as the backup first.
   * Records are frozen once saved (their bytes are cached by identity): change a record by replacing it.
   */
  save(document: RegistryDocument): Promise<void> {
    this.assertOpen();
    return this.queue.run(() => this.write(document));
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
      backend: this.backend,
      path: this.path,
      loaded_from: this.lastLoad?.source,
      recovery: this.lastLoad?.events ?? [],
      last_saved_at: this.lastSavedAt,
      last_error: this.lastError,
    };
  }

  private async write(document: RegistryDocument): Promise<void> {
    const bytes = this.serialize(document);
    try {
      await replaceFileDurably(this.fs, this.path, bytes, { backupPath: this.backupPath });
    } catch (error) {
      this.lastError = messageOf(error);
      this.logger.error({ err: error, file: this.path }, 'registry save failed; the previous file is intact');
      throw storageError(
        `save the registry to ${this.path}`,
        error,
        'The previous version is intact; nothing was changed.',
      );
    }
    this.lastSavedAt = this.now().toISOString();
    this.lastError = undefined;
  }

  /** Exactly `JSON.stringify(document, null, 2)` plus a newline, built from cached per-entry bytes. */
  private serialize(document: RegistryDocument): Buffer {
    const parts: Buffer[] = [
      Buffer.from(
        `{\n  "version": ${JSON.stringify(document.version)},\n  "last_updated": ${JSON.stringify(document.last_updated)},\n  "agents": {`,
      ),
    ];
    const { agents } = document;
    // Object.keys, not Object.entries: no pair array per agent (measurably faster at 10,000 agents).
    for (const name of Object.keys(agents)) {
      const record = agents[name]!;
      let entry = this.entryBytes.get(record);
      if (entry === undefined || entry.name !== name) {
        // Indentation in JSON.stringify is a prefix per line; string values cannot hold a raw newline.
        const json = JSON.stringify(record, null, 2).replaceAll('\n', '\n    ');
        entry = { name, bytes: Buffer.from(`\n    ${JSON.stringify(name)}: ${json}`) };
        deepFreeze(record);
        this.entryBytes.set(record, entry);
      }
      if (parts.length > 1) parts.push(COMMA);
      parts.push(entry.bytes);
    }
    parts.push(parts.length > 1 ? CLOSE_AGENTS : CLOSE_EMPTY_AGENTS);
    return Buffer.concat(parts);
  }

  /**
   * Read a registry file record by record. `envelope: false` (for set-aside copies) reads the records of a
   * file whose envelope is damaged, as long as it has an `agents` object.
   */
  private async read(file: string, options: { envelope?: boolean } = {}): Promise<ReadOutcome> {
    let text: string;
    try {
      text = (await this.fs.readFile(file)).toString('utf8');
    } catch (error) {
      if (systemErrorCode(error) === 'ENOENT') return { kind: 'missing' };
      throw storageError(`read ${file}`, error);
    }
    if (text.trim() === '') return { kind: 'bad', reason: 'the file is empty' };
    let value: unknown;
    try {
      // Plain JSON.parse: it defines keys as own properties (no pollution) and does not recurse on the
      // call stack. Forbidden keys and limits are judged record by record below.
      value = JSON.parse(text);
    } catch (error) {
      return { kind: 'bad', reason: `not valid JSON (${messageOf(error)})` };
    }
    const version = (value as { version?: unknown } | null)?.version;
    if (
      typeof version === 'string' &&
      /^\d+\./.test(version) &&
      majorOf(version) !== majorOf(REGISTRY_FORMAT_VERSION)
    ) {
      throw new AppError(
        'storage_error',
        `${file} was written in registry format ${version}; this version reads ${majorOf(REGISTRY_FORMAT_VERSION)}.x. ` +
          'Run the version of the service that wrote it, or restore a compatible backup.',
      );
    }
    let envelope: ReturnType<typeof validateEnvelope>;
    try {
      envelope = validateEnvelope(value);
    } catch (error) {
      const agents = (value as { agents?: unknown } | null)?.agents;
      if (
        options.envelope !== false ||
        typeof agents !== 'object' ||
        agents === null ||
        Array.isArray(agents)
      ) {
        return { kind: 'bad', reason: messageOf(error) };
      }
      envelope = { ...emptyDocument(this.now()), agents: agents as Record<string, unknown> };
    }
    const agents: Record<string, AgentRecord> = {};
    const rejected: RejectedRecord[] = [];
    for (const key of Object.keys(envelope.agents)) {
      try {
        agents[key] = readRecord(key, envelope.agents[key]);
      } catch (error) {
        rejected.push({ name: key, reason: messageOf(error) });
      }
    }
    return {
      kind: 'ok',
      document: { version: envelope.version, last_updated: envelope.last_updated, agents },
      rejected,
    };
  }

  /**
   * Records that failed validation are never dropped silently: the file as read is kept, byte for byte, as
   * `<file>.rejected-<time>` (the records cannot always be re-serialized: one nested too deep would overflow
   * JSON.stringify), then the registry file is rewritten without them so the next start is clean. The
   * `agent-registry repair` command shows and restores them.
   */
  private async setAsideRejected(
    file: string,
    outcome: Extract<ReadOutcome, { kind: 'ok' }>,
    events: RecoveryEvent[],
  ): Promise<void> {
    if (outcome.rejected.length === 0) return;
    const at = this.now().toISOString();
    const target = await this.freeName(`${this.path}.rejected-${at.replace(/[:.]/g, '-')}`);
    try {
      await replaceWithCopy(this.fs, file, target);
      await syncDirectory(this.fs, this.dataDir);
    } catch (error) {
      throw storageError(`keep the records that failed validation in ${target}`, error);
    }
    await this.write(outcome.document);
    const names = outcome.rejected.map((record) => record.name);
    const reason = `${names.length} record(s) failed validation and were set aside: ${outcome.rejected
      .map((record) => `${record.name} (${record.reason})`)
      .join('; ')}`;
    this.logger.error(
      { file, moved_to: target, rejected: outcome.rejected },
      `registry records set aside in ${target}; every other agent loaded`,
    );
    events.push({
      file,
      action: 'records_set_aside',
      moved_to: target,
      reason,
      records: outcome.rejected,
      at,
    });
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

  private loaded(result: RegistryLoadResult): RegistryLoadResult {
    this.lastLoad = result;
    return result;
  }

  private assertOpen(): void {
    if (this.lock === undefined) {
      throw new AppError('internal_error', 'FileStore used before open() (or after close())');
    }
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

export function emptyDocument(now: Date): RegistryDocument {
  return { version: REGISTRY_FORMAT_VERSION, last_updated: now.toISOString(), agents: {} };
}

/**
 * One stored record as read from a file: older files (the original Python service) may lack
 * `factory_params` and `updated_at`, which get `{}` and `registered_at`; then the record must pass the same
 * validation as every write, and be stored under its own name.
 */
export function readRecord(key: string, stored: unknown): AgentRecord {
  let value = stored;
  if (typeof stored === 'object' && stored !== null && !Array.isArray(stored)) {
    const record = stored as Partial<AgentRecord>;
    value = {
      ...record,
      factory_params: record.factory_params ?? {},
      updated_at: record.updated_at ?? record.registered_at,
    };
  }
  const record = validateAgentRecord(value);
  if (key !== record.name) {
    throw new AppError('validation_error', `the key "${key}" holds a record named "${record.name}"`);
  }
  return record;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

function majorOf(version: string): string {
  return version.split('.')[0] ?? '';
}

async function exists(fs: DurableFs, file: string): Promise<boolean> {
  try {
    await (await fs.open(file, 'r')).close();
    return true;
  } catch {
    return false;
  }
}

/** A filesystem failure as a typed error that says what failed, why, and that nothing changed. */
function storageError(action: string, error: unknown, consequence = ''): AppError {
  const code = systemErrorCode(error);
  const why =
    code === 'ENOSPC'
      ? 'the disk is full'
      : code === 'EROFS'
        ? 'the filesystem is read-only'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EDQUOT'
            ? 'the disk quota is exceeded'
            : messageOf(error);
  const message = `Could not ${action}: ${why}${code ? ` (${code})` : ''}.${consequence ? ` ${consequence}` : ''}`;
  return new AppError('storage_error', message, { cause: error });
}
