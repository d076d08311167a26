/**
 * @module registry/agent-registry
 * The agent registry of one process: a cache of the `RegistryStore` holding, for each stored record, the live
 * ADK agent recreated from its factory config. The store decides every change (a taken name, a stale
 * version); the cache applies acknowledged changes strictly in revision order, its own and, on a shared store,
 * those other replicas made (announced through `watch`, checked on a timer as a fallback). An agent whose
 * factory fails is kept as `unavailable`, its record untouched: a missing module never makes a record vanish.
 */
import type { BaseAgent } from '@google/adk';
import { AppError, isAppError, messageOf } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { assertJsonValue } from '../safe-json.js';
import { compileValidator } from '../schema-validator.js';
import { SerialQueue } from '../serial-queue.js';
import type { AgentFactoryResolver } from './agent-factory-resolver.js';
import {
  type AgentRecord,
  type AgentRegistration,
  AgentRegistrationSchema,
  type AgentView,
  assertAgentName,
  Capabilities,
  type FactoryConfig,
  RECORD_LIMITS,
  REGISTRY_FORMAT_VERSION,
  REMOTE_A2A_AGENT_TYPE,
  type RegistryDocument,
  Tags,
} from './agent-record.js';
import {
  type AgentVersion,
  agentNotFound,
  type ChangeOptions,
  type ChangePage,
  type RecoveryEvent,
  type RegistryChange,
  type RegistryLoadResult,
  type RegistryStore,
  type StoredAgent,
} from './registry-store.js';

/** An agent in the registry: its stored record and version and, when its factory worked, the live ADK agent. */
export interface RegisteredAgent {
  readonly record: AgentRecord;
  readonly version: number;
  /** Undefined when the agent is unavailable. */
  readonly agent: BaseAgent | undefined;
  readonly status: 'available' | 'unavailable';
  /** Why the agent is unavailable. */
  readonly error?: string;
}

/** What listeners hear after the cache applied a change (its own or another replica's). */
export type AgentEvent =
  | { type: 'upsert'; name: string; entry: RegisteredAgent; change: RegistryChange }
  | { type: 'remove'; name: string; entry: RegisteredAgent; change: RegistryChange };

export type AgentListener = (event: AgentEvent) => void;

export interface RegisterOptions {
  /** Registry name; defaults to the agent's own name. */
  name?: string;
  capabilities?: AgentRecord['capabilities'];
  tags?: readonly string[];
  enabled?: boolean;
  /** How to recreate the agent after a restart. */
  factory: FactoryConfig;
}

export interface ListOptions {
  enabledOnly?: boolean;
  /** Keep agents having every one of these tags. */
  tags?: readonly string[];
}

export interface AgentRegistryOptions {
  store: RegistryStore;
  resolver: AgentFactoryResolver;
  logger?: Logger;
  now?: () => Date;
  /**
   * On a shared store, how often to check for changes in case a notification was lost (default 5000 ms;
   * 0 disables).
   */
  syncIntervalMs?: number;
}

/** What start-up found: where the data came from, and which agents could and could not be recreated. */
export interface RegistryLoadReport {
  source: RegistryLoadResult['source'];
  recovery: RecoveryEvent[];
  available: string[];
  unavailable: { name: string; error: string }[];
}

const validateRegistration = compileValidator(AgentRegistrationSchema, 'agent registration');
const validateCapabilities = compileValidator(Capabilities, 'capabilities');
const validateTags = compileValidator(Tags, 'tags');
/** A change that lost a race with another writer is recomputed from the fresh record this many times. */
const MAX_CONFLICT_RETRIES = 5;
export const DEFAULT_SYNC_INTERVAL_MS = 5000;

/** What one change to the store is, computed from the current entry. */
type Plan =
  | { kind: 'insert'; record: AgentRecord; agent: BaseAgent | undefined }
  | { kind: 'update'; record: AgentRecord; version: number }
  | { kind: 'remove' };

export class AgentRegistry {
  private readonly store: RegistryStore;
  private readonly resolver: AgentFactoryResolver;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly entries = new Map<string, RegisteredAgent>();
  private readonly listeners = new Set<AgentListener>();
  /** Changes reach the cache one at a time, in revision order. */
  private readonly applying = new SerialQueue();
  private appliedRevision = 0;
  private lastUpdated = '';
  private report: RegistryLoadReport | undefined;
  private waiters: { above: number; wake: () => void }[] = [];
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private stopWatching: () => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private noWaiting = false;

  private constructor(options: AgentRegistryOptions) {
    this.store = options.store;
    this.resolver = options.resolver;
    this.logger = options.logger ?? silentLogger();
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Open the store, load it and recreate every agent through the resolver; on a shared store, follow the
   * changes other replicas make. Agents whose factory fails are reported, not fatal. Throws only when the
   * store itself cannot be used.
   */
  static async open(options: AgentRegistryOptions): Promise<AgentRegistry> {
    const registry = new AgentRegistry(options);
    await registry.store.open();
    try {
      await registry.load();
    } catch (error) {
      await registry.store.close();
      throw error;
    }
    if (registry.store.shared) {
      registry.stopWatching = registry.store.watch(() => registry.requestSync());
      const interval = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
      if (interval > 0) {
        registry.timer = setInterval(() => registry.requestSync(), interval);
        registry.timer.unref();
      }
    }
    return registry;
  }

  /** The store revision the cache reflects: the same number on every replica once they caught up (ETags). */
  get revision(): number {
    return this.appliedRevision;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Start-up facts for logs and `/health`. */
  get loadReport(): RegistryLoadReport {
    if (this.report === undefined) throw new AppError('internal_error', 'registry not loaded');
    return this.report;
  }

  /** The store's state for `/health`. */
  storeHealth() {
    return this.store.health();
  }

  /** Recreate an agent from a registration and add it; the name defaults to the created agent's own. */
  async registerFromConfig(input: AgentRegistration, change: ChangeOptions = {}): Promise<RegisteredAgent> {
    // The record's limits first: a registration that could never be stored imports nothing.
    assertJsonValue(input, 'agent registration', RECORD_LIMITS);
    const registration = validateRegistration(input);
    if (registration.agent_type === REMOTE_A2A_AGENT_TYPE) {
      throw new AppError(
        'validation_error',
        'A remote A2A agent is registered by its card: {"agent_type": "a2a", "card_url": "http://..."} ' +
          '(factory_module, factory_function and factory_params are not accepted for it)',
      );
    }
    if (registration.name !== undefined) {
      assertAgentName(registration.name);
      if (this.get(registration.name) !== undefined) {
        throw new AppError('agent_exists', `An agent named "${registration.name}" is already registered`);
      }
    }
    const agent = await this.resolver.createAgent(registration);
    return this.register(agent, registrationOptions(registration), change);
  }

  /**
   * The record `registerFromConfig` would store, validated the same way and built by the same factory call,
   * without storing it (what-if replays). Throws what registering would throw.
   */
  async previewRegistration(input: AgentRegistration): Promise<AgentRecord> {
    assertJsonValue(input, 'agent registration', RECORD_LIMITS);
    const registration = validateRegistration(input);
    if (registration.name !== undefined) assertAgentName(registration.name);
    const agent = await this.resolver.createAgent(registration);
    const record = this.newRecord(agent, registrationOptions(registration));
    if (this.get(record.name) !== undefined) {
      throw new AppError('agent_exists', `An agent named "${record.name}" is already registered`);
    }
    return record;
  }

  /** The record `updateCapabilities` would store, without storing it. Throws what updating would throw. */
  previewCapabilities(name: string, capabilities: AgentRecord['capabilities']): AgentRecord {
    const valid = validateCapabilities(capabilities);
    const entry = this.get(name);
    if (entry === undefined) throw agentNotFound(name);
    return this.withChanges(entry.record, { capabilities: valid });
  }

  /** Add an already-built agent with the factory config that recreates it after a restart. */
  async register(
    agent: BaseAgent,
    options: RegisterOptions,
    change: ChangeOptions = {},
  ): Promise<RegisteredAgent> {
    const record = this.newRecord(agent, options);
    await this.mutate(record.name, () => ({ kind: 'insert', record, agent }), change);
    return this.require(record.name);
  }

  /** The kept versions of an agent, newest first; a deleted agent keeps its history. */
  versions(name: string): Promise<AgentVersion[]> {
    return this.store.versions(name);
  }

  /** The record as version `version` left it. */
  version(name: string, version: number): Promise<AgentRecord> {
    return this.store.version(name, version);
  }

  /**
   * Make a new version equal to version `version` (its record, `updated_at` now): an update, or a new
   * registration when the agent is deleted (its factory must work then, as for any registration).
   * Returns the new version's number.
   */
  async rollback(name: string, version: number, change: ChangeOptions = {}): Promise<number> {
    const record: AgentRecord = {
      ...(await this.store.version(name, version)),
      name,
      updated_at: this.now().toISOString(),
    };
    const agent = this.get(name) === undefined ? await this.resolver.createAgent(record) : undefined;
    const made = await this.mutate(
      name,
      (entry) =>
        entry === undefined
          ? { kind: 'insert', record, agent }
          : { kind: 'update', record, version: entry.version },
      change,
    );
    return made!.version;
  }

  /**
   * Register the default agents (the demo agents) if the store never held an agent: on the first start of
   * an empty data directory or database, once, even when several replicas start together. Returns the
   * names registered, or `undefined` when the store was not new. A default whose factory fails is logged.
   */
  async seed(registrations: readonly AgentRegistration[]): Promise<string[] | undefined> {
    if (this.report?.source !== 'empty' && this.report?.source !== 'database') return undefined;
    if (this.report.recovery.length > 0 || this.entries.size > 0) return undefined;
    const built: { record: AgentRecord; agent: BaseAgent }[] = [];
    for (const registration of registrations) {
      try {
        const agent = await this.resolver.createAgent(registration);
        built.push({ agent, record: this.newRecord(agent, registrationOptions(registration)) });
      } catch (error) {
        this.logger.error(
          { err: error, factory: registration.factory_function },
          'could not build a default agent',
        );
      }
    }
    const changes = await this.store.seed(built.map((item) => item.record));
    if (changes === undefined) {
      await this.sync();
      return undefined;
    }
    for (const change of changes) {
      await this.apply(change, built.find((item) => item.record.name === change.agent_name)?.agent);
    }
    return changes.map((change) => change.agent_name);
  }

  /** Remove an agent. Throws `agent_not_found` if there is none by that name. */
  async unregister(name: string, change: ChangeOptions = {}): Promise<void> {
    await this.mutate(
      name,
      (entry) => {
        if (entry === undefined) throw agentNotFound(name);
        return { kind: 'remove' };
      },
      change,
    );
  }

  get(name: string): RegisteredAgent | undefined {
    return this.entries.get(name);
  }

  /** The agent named `name`, or an `agent_not_found` error. */
  require(name: string): RegisteredAgent {
    const entry = this.entries.get(name);
    if (entry === undefined) throw agentNotFound(name);
    return entry;
  }

  /** Agents sorted by name, optionally only enabled ones and only those having all `tags`. */
  list(options: ListOptions = {}): RegisteredAgent[] {
    const tags = options.tags ?? [];
    return [...this.entries.values()]
      .filter((entry) => !options.enabledOnly || entry.record.enabled)
      .filter((entry) => tags.every((tag) => entry.record.tags.includes(tag)))
      .sort((a, b) => (a.record.name < b.record.name ? -1 : a.record.name > b.record.name ? 1 : 0));
  }

  enable(name: string, change: ChangeOptions = {}): Promise<void> {
    return this.setEnabled(name, true, change);
  }

  disable(name: string, change: ChangeOptions = {}): Promise<void> {
    return this.setEnabled(name, false, change);
  }

  /** Enable or disable an agent; setting the state it already has changes (and writes) nothing. */
  async setEnabled(name: string, enabled: boolean, change: ChangeOptions = {}): Promise<void> {
    await this.mutate(
      name,
      (entry) => {
        if (entry === undefined) throw agentNotFound(name);
        if (entry.record.enabled === enabled) return undefined;
        return {
          kind: 'update',
          record: this.withChanges(entry.record, { enabled }),
          version: entry.version,
        };
      },
      change,
    );
  }

  /** Replace an agent's capabilities (the router relearns its examples). */
  async updateCapabilities(
    name: string,
    capabilities: AgentRecord['capabilities'],
    change: ChangeOptions = {},
  ): Promise<void> {
    const valid = validateCapabilities(capabilities);
    await this.mutate(
      name,
      (entry) => {
        if (entry === undefined) throw agentNotFound(name);
        return {
          kind: 'update',
          record: this.withChanges(entry.record, { capabilities: valid }),
          version: entry.version,
        };
      },
      change,
    );
  }

  /**
   * Change an agent's description, factory params and capabilities together, as computed from its current
   * record (`compute` returning undefined changes nothing); the agent is rebuilt when its factory params or
   * description changed. Returns whether a change was written. Used for remote agents' refreshed cards.
   */
  async updateDefinition(
    name: string,
    compute: (
      record: AgentRecord,
    ) => Partial<Pick<AgentRecord, 'description' | 'factory_params' | 'capabilities'>> | undefined,
    change: ChangeOptions = {},
  ): Promise<boolean> {
    let changed = false;
    await this.mutate(
      name,
      (entry) => {
        if (entry === undefined) throw agentNotFound(name);
        const changes = compute(entry.record);
        if (changes === undefined) return undefined;
        changed = true;
        const valid = { ...changes };
        if (valid.capabilities !== undefined) valid.capabilities = validateCapabilities(valid.capabilities);
        return { kind: 'update', record: this.withChanges(entry.record, valid), version: entry.version };
      },
      change,
    );
    return changed;
  }

  /** Be told about every change the cache applies; a listener that throws is logged, never fails a change. */
  onChange(listener: AgentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The registry in the file format, agents sorted by name, `last_updated` being the last change. */
  toDocument(): RegistryDocument {
    const agents: Record<string, AgentRecord> = {};
    for (const entry of this.list()) agents[entry.record.name] = entry.record;
    return { version: REGISTRY_FORMAT_VERSION, last_updated: this.lastUpdated, agents };
  }

  /**
   * The store's changes after `since` (the change feed). With `waitMs`, when there are none yet, waits
   * until this process has applied a later revision (its own change or another replica's) or the time is up.
   */
  async changes(since: number, limit: number, waitMs = 0): Promise<ChangePage> {
    const page = await this.store.changesSince(since, limit);
    if (page.changes.length > 0 || waitMs <= 0 || this.noWaiting) return page;
    await this.waitForRevisionAbove(since, waitMs);
    return this.store.changesSince(since, limit);
  }

  /** Catch up with the store now: apply every change other processes made since the cache's revision. */
  sync(): Promise<void> {
    if (this.syncing !== undefined) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.catchUp(Number.POSITIVE_INFINITY);
      } while (this.syncAgain && !this.closed);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Answer every long poll of the change feed now, and any later one at once (shutting down). */
  stopWaiting(): void {
    this.noWaiting = true;
    for (const waiter of this.waiters.splice(0)) waiter.wake();
  }

  /** Stop following the store, wake long-polls, wait for pending changes, and release the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    clearInterval(this.timer);
    this.stopWaiting();
    await this.syncing?.catch(() => {});
    await this.applying.drain();
    await this.store.close();
  }

  /**
   * One change through the store: `plan` computes it from the current entry (throwing for bad input, or
   * returning undefined for a change that changes nothing). A compare-and-swap that lost to another writer
   * is recomputed from the record the store now holds.
   */
  private async mutate(
    name: string,
    plan: (entry: RegisteredAgent | undefined) => Plan | undefined,
    options: ChangeOptions,
  ): Promise<RegistryChange | undefined> {
    for (let attempt = 0; ; attempt++) {
      const step = plan(this.entries.get(name));
      if (step === undefined) return undefined;
      let change: RegistryChange;
      try {
        change =
          step.kind === 'insert'
            ? await this.store.insert(step.record, options)
            : step.kind === 'update'
              ? await this.store.update(step.record, step.version, options)
              : await this.store.remove(name, options);
      } catch (error) {
        if (!isAppError(error) || !this.store.shared) throw error;
        // Another replica got there first: learn what it did before answering or retrying.
        if (['version_conflict', 'agent_exists', 'agent_not_found'].includes(error.code)) await this.sync();
        if (error.code === 'version_conflict' && attempt < MAX_CONFLICT_RETRIES) continue;
        throw error;
      }
      await this.apply(change, step.kind === 'insert' ? step.agent : undefined);
      return change;
    }
  }

  private newRecord(agent: BaseAgent, options: RegisterOptions): AgentRecord {
    const name = options.name ?? agent.name;
    assertAgentName(name);
    const at = this.now().toISOString();
    return {
      name,
      description: agent.description ?? '',
      agent_type: options.factory.agent_type,
      factory_module: options.factory.factory_module,
      factory_function: options.factory.factory_function,
      factory_params: { ...(options.factory.factory_params ?? {}) },
      capabilities: validateCapabilities(options.capabilities ?? {}),
      tags: validateTags([...(options.tags ?? [])]),
      enabled: options.enabled ?? true,
      registered_at: at,
      updated_at: at,
    };
  }

  private withChanges(record: AgentRecord, changes: Partial<AgentRecord>): AgentRecord {
    return { ...record, ...changes, updated_at: this.now().toISOString() };
  }

  private async load(): Promise<void> {
    const loaded = await this.store.load();
    const report: RegistryLoadReport = {
      source: loaded.source,
      recovery: [...loaded.events],
      available: [],
      unavailable: [],
    };
    for (const stored of loaded.agents) {
      const entry = await this.recreate(stored);
      this.entries.set(stored.record.name, entry);
      if (entry.status === 'available') report.available.push(stored.record.name);
      else report.unavailable.push({ name: stored.record.name, error: entry.error ?? '' });
    }
    this.appliedRevision = loaded.revision;
    this.lastUpdated = loaded.last_updated;
    this.report = report;
    this.logger.info(
      { source: report.source, available: report.available.length, unavailable: report.unavailable.length },
      'registry loaded',
    );
  }

  /** Apply an acknowledged change in revision order; earlier changes not seen yet are fetched first. */
  private apply(change: RegistryChange, agent: BaseAgent | undefined): Promise<void> {
    return this.applying.run(async () => {
      if (change.revision <= this.appliedRevision) return;
      if (change.revision > this.appliedRevision + 1) await this.fetchAndApply(change.revision - 1);
      if (change.revision === this.appliedRevision + 1) await this.applyOne(change, agent);
    });
  }

  /** Catch up to `upTo` (inclusive), in order, through the serial apply queue. */
  private catchUp(upTo: number): Promise<void> {
    return this.applying.run(() => this.fetchAndApply(upTo));
  }

  /** Only inside the apply queue. */
  private async fetchAndApply(upTo: number): Promise<void> {
    while (this.appliedRevision < upTo && !this.closed) {
      let page: ChangePage;
      try {
        page = await this.store.changesSince(this.appliedRevision, 500);
      } catch (error) {
        if (isAppError(error) && error.code === 'history_expired') {
          await this.reload();
          continue;
        }
        throw error;
      }
      for (const change of page.changes) {
        if (change.revision > upTo) return;
        await this.applyOne(change, undefined);
      }
      if (page.changes.length === 0) return;
    }
  }

  /** The cache fell behind the retained history: re-read everything and apply the differences. */
  private async reload(): Promise<void> {
    const snapshot = await this.store.snapshot();
    const stored = new Map(snapshot.agents.map((agent) => [agent.record.name, agent]));
    const at = snapshot.last_updated;
    for (const [name, entry] of [...this.entries]) {
      if (!stored.has(name)) {
        this.entries.delete(name);
        this.emit({ type: 'remove', name, entry, change: deletedChange(snapshot.revision, entry, at) });
      }
    }
    for (const agent of snapshot.agents) {
      const entry = this.entries.get(agent.record.name);
      if (entry?.version === agent.version && JSON.stringify(entry.record) === JSON.stringify(agent.record)) {
        continue;
      }
      const next = await this.recreate(agent, entry);
      this.entries.set(agent.record.name, next);
      const change: RegistryChange = {
        revision: snapshot.revision,
        type: entry === undefined ? 'registered' : 'updated',
        agent_name: agent.record.name,
        record: agent.record,
        version: agent.version,
        at,
      };
      this.emit({ type: 'upsert', name: agent.record.name, entry: next, change });
    }
    this.appliedRevision = snapshot.revision;
    this.lastUpdated = at;
    this.wakeWaiters();
    this.logger.warn(
      { revision: snapshot.revision },
      'registry cache reloaded: it fell behind the kept changes',
    );
  }

  private async applyOne(change: RegistryChange, agent: BaseAgent | undefined): Promise<void> {
    const previous = this.entries.get(change.agent_name);
    if (change.record === null) {
      this.entries.delete(change.agent_name);
      if (previous !== undefined)
        this.emit({ type: 'remove', name: change.agent_name, entry: previous, change });
    } else {
      const stored = { record: change.record, version: change.version };
      const entry: RegisteredAgent =
        agent !== undefined
          ? { record: change.record, version: change.version, agent, status: 'available' }
          : await this.recreate(stored, previous);
      this.entries.set(change.agent_name, entry);
      this.emit({ type: 'upsert', name: change.agent_name, entry, change });
    }
    this.appliedRevision = change.revision;
    this.lastUpdated = change.at;
    this.wakeWaiters();
  }

  /**
   * The live agent for a stored record: the previous one when only capabilities, tags or the enabled flag
   * changed (the factory config is the same), else a new one from the factory.
   */
  private async recreate(stored: StoredAgent, previous?: RegisteredAgent): Promise<RegisteredAgent> {
    const { record, version } = stored;
    if (previous !== undefined && sameFactory(previous.record, record))
      return { ...previous, record, version };
    try {
      const agent = await this.resolver.createAgent(record);
      return { record, version, agent, status: 'available' };
    } catch (error) {
      const message = messageOf(error);
      this.logger.error({ agent: record.name, err: message }, 'agent unavailable: its factory failed');
      return { record, version, agent: undefined, status: 'unavailable', error: message };
    }
  }

  private emit(event: AgentEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // The change is committed: a failing listener must not turn it into an error for its caller.
        this.logger.error({ err: error, agent: event.name }, 'a registry listener failed');
      }
    }
  }

  private requestSync(): void {
    if (this.closed) return;
    this.sync().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not catch up with the registry store; will retry'),
    );
  }

  private waitForRevisionAbove(since: number, ms: number): Promise<void> {
    if (this.appliedRevision > since) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        above: since,
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve();
      }, ms);
      this.waiters.push(waiter);
    });
  }

  private wakeWaiters(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((waiter) => this.appliedRevision > waiter.above);
    this.waiters = this.waiters.filter((waiter) => this.appliedRevision <= waiter.above);
    for (const waiter of ready) waiter.wake();
  }
}

function registrationOptions(registration: AgentRegistration): RegisterOptions {
  const options: RegisterOptions = {
    factory: {
      agent_type: registration.agent_type,
      factory_module: registration.factory_module,
      factory_function: registration.factory_function,
      factory_params: registration.factory_params ?? {},
    },
  };
  if (registration.name !== undefined) options.name = registration.name;
  if (registration.capabilities !== undefined) options.capabilities = registration.capabilities;
  if (registration.tags !== undefined) options.tags = registration.tags;
  if (registration.enabled !== undefined) options.enabled = registration.enabled;
  return options;
}

function sameFactory(a: AgentRecord, b: AgentRecord): boolean {
  return (
    a.agent_type === b.agent_type &&
    a.factory_module === b.factory_module &&
    a.factory_function === b.factory_function &&
    a.description === b.description &&
    JSON.stringify(a.factory_params) === JSON.stringify(b.factory_params)
  );
}

function deletedChange(revision: number, entry: RegisteredAgent, at: string): RegistryChange {
  return {
    revision,
    type: 'deleted',
    agent_name: entry.record.name,
    record: null,
    version: entry.version,
    at,
  };
}

/** The API's view of an agent: its record plus availability. */
export function toAgentView(entry: RegisteredAgent): AgentView {
  const view: AgentView = { ...entry.record, status: entry.status };
  if (entry.error !== undefined) view.error = entry.error;
  return view;
}
