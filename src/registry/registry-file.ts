/**
 * @module registry/registry-file
 * Reading the registry file format (`{"version", "last_updated", "agents": {name: record}}`): the envelope
 * first, then record by record with the one definition of a valid record, so a bad record is reported on its
 * own instead of making the whole file unusable. Reads only; the file store decides what to do about it.
 */
import { AppError, messageOf, systemErrorCode } from '../errors.js';
import { compileValidator } from '../schema-validator.js';
import {
  type AgentRecord,
  REGISTRY_FORMAT_VERSION,
  type RegistryDocument,
  RegistryEnvelopeSchema,
  validateAgentRecord,
} from './agent-record.js';
import type { DurableFs } from './durable-file.js';
import type { RejectedRecord } from './registry-store.js';

const validateEnvelope = compileValidator(RegistryEnvelopeSchema, 'registry file');

/** Why a file could not be used, or the document it holds and the records that failed validation. */
export type RegistryFileContents =
  | { kind: 'ok'; document: RegistryDocument; rejected: RejectedRecord[] }
  | { kind: 'missing' }
  | { kind: 'bad'; reason: string };

export interface ReadOptions {
  /**
   * `false` (for set-aside copies) reads the records of a file whose envelope is damaged, as long as it has
   * an `agents` object.
   */
  envelope?: boolean;
  now?: () => Date;
}

/**
 * Read a registry file. Not there: `missing`; not JSON or not a registry: `bad` with why. Unreadable (I/O
 * error, permissions) or written in another major format version: throws `storage_error`, because treating
 * it as bad would move the operator's data aside.
 */
export async function readRegistryFile(
  fs: DurableFs,
  file: string,
  options: ReadOptions = {},
): Promise<RegistryFileContents> {
  let text: string;
  try {
    text = (await fs.readFile(file)).toString('utf8');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return { kind: 'missing' };
    throw storageError(`read ${file}`, error);
  }
  if (text.trim() === '') return { kind: 'bad', reason: 'the file is empty' };
  let value: unknown;
  try {
    // Plain JSON.parse: it defines keys as own properties (no pollution) and does not recurse on the call
    // stack. Forbidden keys and limits are judged record by record below.
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
    envelope = {
      ...emptyDocument((options.now ?? (() => new Date()))()),
      agents: agents as Record<string, unknown>,
    };
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

function majorOf(version: string): string {
  return version.split('.')[0] ?? '';
}

/** A filesystem failure as a typed error that says what failed, why, and (optionally) that nothing changed. */
export function storageError(action: string, error: unknown, consequence = ''): AppError {
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
