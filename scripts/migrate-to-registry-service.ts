/**
 * @module scripts/migrate-to-registry-service
 * `npm run migrate`: registers the demo agents (tickets, finops, oxygen) with a running registry service
 * through its API — an agent already there is updated and enabled — then validates them and checks that
 * sample queries route to them. Prints a summary; exits non-zero on any failure.
 */

import {
  DEMO_AGENTS,
  type DemoAgentRegistration,
  toRegistration,
} from '../jarvis_agent/mcp_agents/demo-agents.js';
import { type Agent, RegistryClient } from '../src/client/registry-client.js';
import { ServiceCallError, ServiceHttpClient } from '../src/client/service-http-client.js';
import { loadConfig } from '../src/config.js';
import { messageOf } from '../src/errors.js';
import { isMainModule } from '../src/is-main-module.js';

export interface MigrationOptions {
  registry: RegistryClient;
  /** What to register (default the demo agents). */
  agents?: readonly DemoAgentRegistration[];
  /** How many of each agent's examples are routed as a check (default 3). */
  routeChecks?: number;
}

export type MigrationAction = 'registered' | 'updated' | 'failed';

export interface RouteCheck {
  query: string;
  selected: string[];
  ok: boolean;
}

/** What happened to one agent; `errors` is empty when everything about it passed. */
export interface AgentMigration {
  /** The factory the agent comes from (known even when registration failed). */
  factory: string;
  /** The registered name, once known. */
  name: string | undefined;
  action: MigrationAction;
  validated: boolean;
  routing: RouteCheck[];
  errors: string[];
}

export interface MigrationResult {
  ok: boolean;
  registryUrl: string;
  agents: AgentMigration[];
  /** Failures that concern no single agent (the service cannot be listed). */
  errors: string[];
}

/** Register (or update), validate and route-check every agent; never throws for an expected failure. */
export async function migrate(options: MigrationOptions): Promise<MigrationResult> {
  const { registry } = options;
  const demos = options.agents ?? DEMO_AGENTS;
  const routeChecks = options.routeChecks ?? 3;
  const result: MigrationResult = { ok: false, registryUrl: registry.baseUrl, agents: [], errors: [] };

  let existing: Agent[];
  try {
    existing = await listAll(registry);
  } catch (error) {
    result.errors.push(messageOf(error));
    result.agents = demos.map((demo) => ({
      factory: demo.factory_function,
      name: undefined,
      action: 'failed',
      validated: false,
      routing: [],
      errors: ['not attempted: the registry could not be listed'],
    }));
    return result;
  }

  for (const demo of demos) {
    const migration: AgentMigration = {
      factory: demo.factory_function,
      name: undefined,
      action: 'failed',
      validated: false,
      routing: [],
      errors: [],
    };
    result.agents.push(migration);
    try {
      ({ name: migration.name, action: migration.action } = await registerOrUpdate(registry, demo, existing));
    } catch (error) {
      migration.errors.push(messageOf(error));
      continue;
    }
    const name = migration.name!;
    migration.validated = await validate(registry, name, demo, migration.errors);
    // The check is of the trained answer: the service learns a change in the background.
    if (routeChecks > 0) await registry.whenRouterTrained();
    for (const query of demo.capabilities.examples.slice(0, routeChecks)) {
      try {
        const { selected } = await registry.route({ query });
        const ok = selected.includes(name);
        migration.routing.push({ query, selected, ok });
        if (!ok) {
          migration.errors.push(
            `"${query}" was routed to ${selected.length === 0 ? 'no agent' : selected.join(', ')}, not ${name}`,
          );
        }
      } catch (error) {
        migration.routing.push({ query, selected: [], ok: false });
        migration.errors.push(messageOf(error));
      }
    }
  }
  result.ok = result.errors.length === 0 && result.agents.every((agent) => agent.errors.length === 0);
  return result;
}

async function listAll(registry: RegistryClient): Promise<Agent[]> {
  const listing = await registry.listAgents();
  // Without If-None-Match the service always sends the list.
  return listing.notModified ? [] : listing.agents;
}

/** The registered agent built by the same factory with the same params (the oldest, if several are). */
function sameFactory(agents: readonly Agent[], demo: DemoAgentRegistration): Agent | undefined {
  const params = JSON.stringify(demo.factory_params);
  return agents
    .filter(
      (agent) =>
        agent.agent_type === demo.agent_type &&
        agent.factory_module === demo.factory_module &&
        agent.factory_function === demo.factory_function &&
        JSON.stringify(agent.factory_params) === params,
    )
    .sort((a, b) => a.registered_at.localeCompare(b.registered_at))[0];
}

async function registerOrUpdate(
  registry: RegistryClient,
  demo: DemoAgentRegistration,
  existing: readonly Agent[],
): Promise<{ name: string; action: MigrationAction }> {
  const found = sameFactory(existing, demo);
  if (found !== undefined) return update(registry, found, demo);
  try {
    const { agent_name } = await registry.registerAgent(toRegistration(demo));
    return { name: agent_name, action: 'registered' };
  } catch (error) {
    if (!(error instanceof ServiceCallError) || error.code !== 'agent_exists') throw error;
    // Registered meanwhile by someone else, or the name is taken by an agent from another factory.
    const again = sameFactory(await listAll(registry), demo);
    if (again !== undefined) return update(registry, again, demo);
    throw new Error(
      `${error.message}, by an agent built by another factory: delete or rename it, then run the migration again`,
    );
  }
}

async function update(
  registry: RegistryClient,
  agent: Agent,
  demo: DemoAgentRegistration,
): Promise<{ name: string; action: MigrationAction }> {
  await registry.updateCapabilities(agent.name, toRegistration(demo).capabilities ?? {});
  if (!agent.enabled) await registry.setEnabled(agent.name, true);
  return { name: agent.name, action: 'updated' };
}

/** The agent is there, available, enabled, and has the examples it was given; problems go to `errors`. */
async function validate(
  registry: RegistryClient,
  name: string,
  demo: DemoAgentRegistration,
  errors: string[],
): Promise<boolean> {
  const before = errors.length;
  let agent: Agent;
  try {
    agent = await registry.getAgent(name);
  } catch (error) {
    errors.push(messageOf(error));
    return false;
  }
  if (agent.status !== 'available') {
    errors.push(`${name} is registered but unavailable: ${agent.error ?? 'its factory failed'}`);
  }
  if (!agent.enabled) errors.push(`${name} is registered but disabled`);
  const examples = agent.capabilities.examples ?? [];
  if (JSON.stringify(examples) !== JSON.stringify(demo.capabilities.examples)) {
    errors.push(`${name} does not have the expected capabilities.examples`);
  }
  return errors.length === before;
}

/** The result as a table and a list of failures, for a terminal. */
export function formatSummary(result: MigrationResult): string {
  const rows = result.agents.map((agent) => [
    agent.name ?? agent.factory,
    agent.action,
    agent.validated ? 'yes' : 'no',
    `${agent.routing.filter((check) => check.ok).length}/${agent.routing.length}`,
  ]);
  const table = [['agent', 'action', 'validated', 'routing'], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const lines = [
    `Migrating ${result.agents.length} agent(s) to the registry service at ${result.registryUrl}`,
    '',
    ...table.map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    ),
    '',
  ];
  const failures = [
    ...result.errors.map((error) => `registry: ${error}`),
    ...result.agents.flatMap((agent) =>
      agent.errors.map((error) => `${agent.name ?? agent.factory}: ${error}`),
    ),
  ];
  if (failures.length === 0) {
    lines.push(`OK: every agent is registered, available, enabled, and routed to by its examples.`);
  } else {
    lines.push('FAILED:', ...failures.map((failure) => `  - ${failure}`));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The command: configuration from `env` (REGISTRY_URL, REGISTRY_ADMIN_TOKEN), the summary to `write`.
 * Resolves to the exit code: 0 when everything passed, 1 otherwise.
 */
export async function main(
  env: Readonly<Record<string, string | undefined>> = process.env,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const config = loadConfig(env);
  const registry = new RegistryClient(
    new ServiceHttpClient({
      baseUrl: config.registryUrl,
      adminToken: config.adminToken,
      readToken: config.readToken,
    }),
  );
  const result = await migrate({ registry });
  write(formatSummary(result));
  return result.ok ? 0 : 1;
}

if (isMainModule(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`migrate-to-registry-service: ${messageOf(error)}\n`);
      process.exit(1);
    },
  );
}
