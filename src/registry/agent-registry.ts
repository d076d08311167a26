/**
 * @module registry/agent-registry
 * The in-memory agent registry: agents with their capabilities, tags and enabled flag. Every change goes
 * through one `mutate` step, which subclasses extend (the persistent registry saves there before applying).
 */
import type { BaseAgent } from '@google/adk';
import { AppError } from '../errors.js';
import { compileValidator } from '../schema-validator.js';
import { SerialQueue } from '../serial-queue.js';
import {
  type AgentRecord,
  type AgentView,
  assertAgentName,
  Capabilities,
  type FactoryConfig,
  REGISTRY_FORMAT_VERSION,
  type RegistryDocument,
  Tags,
} from './agent-record.js';

/** An agent in the registry: its stored record and, when its factory worked, the live ADK agent. */
export interface RegisteredAgent {
  readonly record: AgentRecord;
  /** Undefined when the agent is unavailable. */
  readonly agent: BaseAgent | undefined;
  readonly status: 'available' | 'unavailable';
  /** Why the agent is unavailable. */
  readonly error?: string;
}

export type RegistryChange =
  | { type: 'upsert'; name: string; entry: RegisteredAgent }
  | { type: 'remove'; name: string; entry: RegisteredAgent };

export type RegistryListener = (change: RegistryChange) => void;

export interface RegisterOptions {
  /** Registry name; defaults to the agent's own name. */
  name?: string;
  capabilities?: AgentRecord['capabilities'];
  tags?: readonly string[];
  enabled?: boolean;
  /** How to recreate the agent after a restart (required by the persistent registry). */
  factory?: FactoryConfig;
}

export interface ListOptions {
  enabledOnly?: boolean;
  /** Keep agents having every one of these tags. */
  tags?: readonly string[];
}

export interface AgentRegistryOptions {
  now?: () => Date;
}

const validateCapabilities = compileValidator(Capabilities, 'capabilities');
const validateTags = compileValidator(Tags, 'tags');

/** One change to apply: the new entry for `name`, or `undefined` to remove it. */
interface Mutation<T> {
  name: string;
  next: RegisteredAgent | undefined;
  result: T;
}

export class AgentRegistry {
  protected readonly entries = new Map<string, RegisteredAgent>();
  protected readonly now: () => Date;
  private readonly queue = new SerialQueue();
  private readonly listeners = new Set<RegistryListener>();
  private changeCount = 0;
  /** When the registry last changed: the document's `last_updated`, so an export is the stored bytes. */
  protected lastUpdated: string;

  constructor(options: AgentRegistryOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.lastUpdated = this.now().toISOString();
  }

  /** Increases with every acknowledged change; clients use it (as an ETag) to poll cheaply. */
  get revision(): number {
    return this.changeCount;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Add an agent. Throws `agent_exists` if the name is taken and `validation_error` for bad input. */
  async register(agent: BaseAgent, options: RegisterOptions = {}): Promise<RegisteredAgent> {
    const name = options.name ?? agent.name;
    assertAgentName(name);
    const capabilities = validateCapabilities(options.capabilities ?? {});
    const tags = validateTags([...(options.tags ?? [])]);
    const factory = options.factory;
    return this.mutate(() => {
      if (this.entries.has(name)) {
        throw new AppError(
          'agent_exists',
          `An agent named "${name}" is already registered; delete it first or pick another name`,
        );
      }
      const at = this.now().toISOString();
      const record: AgentRecord = {
        name,
        description: agent.description ?? '',
        agent_type: factory?.agent_type ?? 'in_memory',
        factory_module: factory?.factory_module ?? '',
        factory_function: factory?.factory_function ?? '',
        factory_params: { ...(factory?.factory_params ?? {}) },
        capabilities,
        tags,
        enabled: options.enabled ?? true,
        registered_at: at,
        updated_at: at,
      };
      const entry: RegisteredAgent = { record, agent, status: 'available' };
      return { name, next: entry, result: entry };
    });
  }

  /** Remove an agent. Throws `agent_not_found` if there is none by that name. */
  async unregister(name: string): Promise<void> {
    await this.mutate(() => {
      this.require(name);
      return { name, next: undefined, result: undefined };
    });
  }

  get(name: string): RegisteredAgent | undefined {
    return this.entries.get(name);
  }

  /** The agent named `name`, or an `agent_not_found` error. */
  require(name: string): RegisteredAgent {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new AppError('agent_not_found', `No agent named "${name}" is registered`);
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

  enable(name: string): Promise<void> {
    return this.setEnabled(name, true);
  }

  disable(name: string): Promise<void> {
    return this.setEnabled(name, false);
  }

  /** Enable or disable an agent; setting the state it already has changes (and writes) nothing. */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.mutate(() => {
      const entry = this.require(name);
      if (entry.record.enabled === enabled) return { name, next: entry, result: undefined };
      return { name, next: this.withRecord(entry, { enabled }), result: undefined };
    });
  }

  /** Replace an agent's capabilities (the router relearns its examples). */
  async updateCapabilities(name: string, capabilities: AgentRecord['capabilities']): Promise<void> {
    const valid = validateCapabilities(capabilities);
    await this.mutate(() => {
      const entry = this.require(name);
      return { name, next: this.withRecord(entry, { capabilities: valid }), result: undefined };
    });
  }

  /** Be told about every acknowledged change (the router keeps its index current this way). */
  onChange(listener: RegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The registry in the file format, agents sorted by name, `last_updated` being the last change. */
  toDocument(): RegistryDocument {
    return this.documentWith(undefined, undefined, this.lastUpdated);
  }

  /** Serializes changes: `change` runs once every earlier change is applied, then `beforeCommit`, then memory. */
  protected mutate<T>(change: () => Mutation<T>): Promise<T> {
    return this.queue.run(async () => {
      const { name, next, result } = change();
      const previous = this.entries.get(name);
      if (next === previous) return result;
      const at = this.now().toISOString();
      await this.beforeCommit(name, next, at);
      if (next === undefined) this.entries.delete(name);
      else this.entries.set(name, next);
      this.lastUpdated = at;
      this.changeCount++;
      const event: RegistryChange =
        next === undefined
          ? { type: 'remove', name, entry: previous! }
          : { type: 'upsert', name, entry: next };
      for (const listener of this.listeners) listener(event);
      return result;
    });
  }

  /** Resolves once every change requested so far has been applied or refused. */
  protected async settled(): Promise<void> {
    await this.queue.drain();
  }

  /**
   * Runs before a change made at `at` reaches memory; throwing cancels it. The in-memory registry has
   * nothing to do.
   */
  protected async beforeCommit(
    _name: string,
    _next: RegisteredAgent | undefined,
    _at: string,
  ): Promise<void> {}

  /** The document memory would hold with `name` set to `next` (or removed when `next` is undefined). */
  protected documentWith(
    name: string | undefined,
    next: RegisteredAgent | undefined,
    lastUpdated: string,
  ): RegistryDocument {
    const agents: Record<string, AgentRecord> = {};
    const names = new Set(this.entries.keys());
    if (name !== undefined) {
      if (next === undefined) names.delete(name);
      else names.add(name);
    }
    for (const key of [...names].sort()) {
      agents[key] = key === name ? next!.record : this.entries.get(key)!.record;
    }
    return { version: REGISTRY_FORMAT_VERSION, last_updated: lastUpdated, agents };
  }

  private withRecord(entry: RegisteredAgent, changes: Partial<AgentRecord>): RegisteredAgent {
    return { ...entry, record: { ...entry.record, ...changes, updated_at: this.now().toISOString() } };
  }
}

/** The API's view of an agent: its record plus availability. */
export function toAgentView(entry: RegisteredAgent): AgentView {
  const view: AgentView = { ...entry.record, status: entry.status };
  if (entry.error !== undefined) view.error = entry.error;
  return view;
}
