/**
 * @module registry/persistent-agent-registry
 * The registry that survives restarts: every change is saved before it is acknowledged (a failed save
 * changes nothing), and start-up recreates each agent from its stored factory config. An agent whose factory
 * fails is kept as `unavailable`, its record untouched: a missing module never makes a record disappear.
 */
import type { BaseAgent } from '@google/adk';
import { AppError, messageOf } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { assertJsonValue } from '../safe-json.js';
import { compileValidator } from '../schema-validator.js';
import type { AgentFactoryResolver } from './agent-factory-resolver.js';
import {
  type AgentRecord,
  type AgentRegistration,
  AgentRegistrationSchema,
  assertAgentName,
  RECORD_LIMITS,
  validateAgentRecord,
} from './agent-record.js';
import {
  AgentRegistry,
  type AgentRegistryOptions,
  type RegisteredAgent,
  type RegisterOptions,
} from './agent-registry.js';
import type { RecoveryEvent, RegistryLoadResult, RegistryStore } from './registry-store.js';

export interface PersistentAgentRegistryOptions extends AgentRegistryOptions {
  store: RegistryStore;
  resolver: AgentFactoryResolver;
  logger?: Logger;
}

/** What start-up found: where the data came from, and which agents could and could not be recreated. */
export interface RegistryLoadReport {
  source: RegistryLoadResult['source'];
  recovery: RecoveryEvent[];
  available: string[];
  unavailable: { name: string; error: string }[];
}

const validateRegistration = compileValidator(AgentRegistrationSchema, 'agent registration');

export class PersistentAgentRegistry extends AgentRegistry {
  private readonly store: RegistryStore;
  private readonly resolver: AgentFactoryResolver;
  private readonly logger: Logger;
  private report: RegistryLoadReport | undefined;

  private constructor(options: PersistentAgentRegistryOptions) {
    super(options);
    this.store = options.store;
    this.resolver = options.resolver;
    this.logger = options.logger ?? silentLogger();
  }

  /**
   * Open the store, load the registry and recreate every agent through the resolver. Agents whose factory
   * fails are reported, not fatal. Throws only when the store itself cannot be used.
   */
  static async open(options: PersistentAgentRegistryOptions): Promise<PersistentAgentRegistry> {
    const registry = new PersistentAgentRegistry(options);
    await registry.store.open();
    try {
      await registry.load();
    } catch (error) {
      await registry.store.close();
      throw error;
    }
    return registry;
  }

  /** Start-up facts for logs and `/health`. */
  get loadReport(): RegistryLoadReport {
    if (this.report === undefined) throw new AppError('internal_error', 'registry not loaded');
    return this.report;
  }

  /** Recreate an agent from a registration and add it; the name defaults to the created agent's own. */
  async registerFromConfig(input: AgentRegistration): Promise<RegisteredAgent> {
    // The record's limits first: a registration that could never be stored imports nothing.
    assertJsonValue(input, 'agent registration', RECORD_LIMITS);
    const registration = validateRegistration(input);
    if (registration.name !== undefined) {
      assertAgentName(registration.name);
      if (this.get(registration.name) !== undefined) {
        throw new AppError('agent_exists', `An agent named "${registration.name}" is already registered`);
      }
    }
    const agent = await this.resolver.createAgent(registration);
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
    return this.register(agent, options);
  }

  /** Add an already-built agent; `options.factory` is required so it can be recreated after a restart. */
  override async register(agent: BaseAgent, options: RegisterOptions = {}): Promise<RegisteredAgent> {
    if (options.factory === undefined) {
      throw new AppError(
        'validation_error',
        'A persistent registry needs the factory config (agent_type, factory_module, factory_function) to recreate the agent after a restart',
      );
    }
    return super.register(agent, options);
  }

  /** The store's state for `/health`. */
  storeHealth() {
    return this.store.health();
  }

  /** Wait for pending changes and release the store (the data directory lock). */
  async close(): Promise<void> {
    await this.settled();
    await this.store.close();
  }

  /**
   * Validate the new record exactly as a load will (so nothing acknowledged can fail to load back), then save
   * the document memory will hold after this change; a failure of either cancels the change.
   */
  protected override async beforeCommit(
    name: string,
    next: RegisteredAgent | undefined,
    at: string,
  ): Promise<void> {
    if (next !== undefined) validateAgentRecord(next.record);
    await this.store.save(this.documentWith(name, next, at));
  }

  private async load(): Promise<void> {
    const loaded = await this.store.load();
    this.lastUpdated = loaded.document.last_updated;
    const report: RegistryLoadReport = {
      source: loaded.source,
      recovery: loaded.events,
      available: [],
      unavailable: [],
    };
    for (const record of Object.values(loaded.document.agents)) {
      const entry = await this.recreate(record);
      this.entries.set(record.name, entry);
      if (entry.status === 'available') report.available.push(record.name);
      else report.unavailable.push({ name: record.name, error: entry.error ?? '' });
    }
    this.report = report;
    this.logger.info(
      { source: report.source, available: report.available.length, unavailable: report.unavailable.length },
      'registry loaded',
    );
  }

  private async recreate(record: AgentRecord): Promise<RegisteredAgent> {
    try {
      const agent = await this.resolver.createAgent(record);
      return { record, agent, status: 'available' };
    } catch (error) {
      const message = messageOf(error);
      this.logger.error(
        { agent: record.name, err: message },
        'agent unavailable: its factory failed at start-up',
      );
      return { record, agent: undefined, status: 'unavailable', error: message };
    }
  }
}
