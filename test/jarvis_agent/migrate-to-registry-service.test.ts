/**
 * `scripts/migrate-to-registry-service` against the real service: registers on a fresh registry, updates on
 * a second run, reports broken registrations and a service that is down, and runs as a real process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatSummary, main, migrate } from '../../scripts/migrate-to-registry-service.js';
import { RegistryClient } from '../../src/client/registry-client.js';
import { ServiceHttpClient } from '../../src/client/service-http-client.js';
import { exited, lines, spawnTs } from '../support/child-process.js';
import { type RunningService, startService, TEST_FACTORY_ROOT } from '../support/service.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/migrate-to-registry-service.ts', import.meta.url));
const DEMO_NAMES = ['tickets_agent', 'finops_agent', 'oxygen_agent'];

function registryOf(url: string, adminToken?: string): RegistryClient {
  return new RegistryClient(new ServiceHttpClient({ baseUrl: url, adminToken, backoffBaseMs: 1 }));
}

async function withoutDemoAgents(service: RunningService): Promise<RegistryClient> {
  const registry = registryOf(service.url);
  for (const name of DEMO_NAMES) await registry.deleteAgent(name);
  return registry;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('migrate', () => {
  it('registers the demo agents, then updates them idempotently, re-enabling and restoring examples', async () => {
    const service = await startService();
    const registry = await withoutDemoAgents(service);

    const first = await migrate({ registry });
    expect(first.ok).toBe(true);
    expect(first.errors).toEqual([]);
    expect(first.agents.map(({ name, action, validated }) => ({ name, action, validated }))).toEqual(
      DEMO_NAMES.map((name) => ({ name, action: 'registered', validated: true })),
    );
    for (const agent of first.agents) {
      expect(agent.routing).toHaveLength(3);
      expect(agent.routing.every((check) => check.ok && check.selected.includes(agent.name!))).toBe(true);
    }
    const summary = formatSummary(first);
    expect(summary).toContain(`Migrating 3 agent(s) to the registry service at ${service.url}`);
    expect(summary).toMatch(/^tickets_agent\s+registered\s+yes\s+3\/3$/m);
    expect(summary).toContain(
      'OK: every agent is registered, available, enabled, and routed to by its examples.',
    );

    // Someone disabled one agent and emptied another's examples: a second run puts them back.
    await registry.setEnabled('finops_agent', false);
    await registry.updateCapabilities('oxygen_agent', { examples: [] });
    const second = await migrate({ registry, routeChecks: 1 });
    expect(second.ok).toBe(true);
    expect(second.agents.map((agent) => agent.action)).toEqual(['updated', 'updated', 'updated']);
    expect((await registry.getAgent('finops_agent')).enabled).toBe(true);
    expect((await registry.getAgent('oxygen_agent')).capabilities.examples?.length).toBeGreaterThan(10);
    const listing = await registry.listAgents();
    expect(listing.notModified ? 0 : listing.total).toBe(3);
  });

  it('fails, naming the agent and the reason, when the service cannot build the demo agents', async () => {
    // The service may load factories only from the test root: the demo module is out of reach.
    const service = await startService({ AGENT_FACTORY_ROOTS: TEST_FACTORY_ROOT });
    const result = await migrate({ registry: registryOf(service.url) });
    expect(result.ok).toBe(false);
    expect(result.agents.map((agent) => agent.action)).toEqual(['failed', 'failed', 'failed']);
    expect(result.agents[0]!.errors).toEqual([
      expect.stringMatching(
        /^registry\.register\("create_tickets_agent"\) failed: 400 factory_module_not_found: Module jarvis_agent\.mcp_agents\.agent_factory was not found/,
      ),
    ]);
    const summary = formatSummary(result);
    expect(summary).toMatch(/^create_tickets_agent\s+failed\s+no\s+0\/0$/m);
    expect(summary).toContain(
      'FAILED:\n  - create_tickets_agent: registry.register("create_tickets_agent") failed: 400',
    );
  });

  it('reports a name taken by an agent from another factory, and a query routed elsewhere', async () => {
    const service = await startService();
    const registry = await withoutDemoAgents(service);
    // tickets_agent is taken by an agent from another factory; finops' examples are given to a decoy too.
    await registry.registerAgent({
      agent_type: 'test',
      factory_module: 'test_factories',
      factory_function: 'create_echo_agent',
      factory_params: { name: 'tickets_agent' },
    });
    const finopsExamples = [
      'what did we spend on cloud last month',
      'How much is our cloud bill this month so far?',
    ];
    await registry.registerAgent({
      agent_type: 'test',
      factory_module: 'test_factories',
      factory_function: 'create_echo_agent',
      factory_params: { name: 'cloud_decoy_agent' },
      capabilities: { examples: Array(20).fill(finopsExamples).flat() },
    });

    const result = await migrate({ registry, routeChecks: 1 });
    expect(result.ok).toBe(false);
    const [tickets, finops, oxygen] = result.agents;
    expect(tickets).toMatchObject({ action: 'failed', name: undefined });
    expect(tickets!.errors[0]).toBe(
      'registry.register("create_tickets_agent") failed: 409 agent_exists: An agent named "tickets_agent" is ' +
        'already registered; delete it first or pick another name, by an agent built by another factory: ' +
        'delete or rename it, then run the migration again',
    );
    expect(finops).toMatchObject({ action: 'registered', validated: true });
    expect(finops!.routing[0]!.ok).toBe(false);
    expect(finops!.errors).toEqual([
      expect.stringMatching(
        /^"what did we spend on cloud last month" was routed to .*cloud_decoy_agent.*, not finops_agent$/,
      ),
    ]);
    expect(oxygen!.errors).toEqual([]);
  });

  it('lets two concurrent runs both succeed: the one that loses the race updates', async () => {
    const service = await startService();
    const registry = await withoutDemoAgents(service);
    const [a, b] = await Promise.all([
      migrate({ registry, routeChecks: 1 }),
      migrate({ registry, routeChecks: 1 }),
    ]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    const actions = a.agents.map((agent, i) => [agent.action, b.agents[i]!.action].sort());
    expect(actions).toEqual(DEMO_NAMES.map(() => ['registered', 'updated']));
  });

  it('reports agents the service keeps but cannot build after a restart without the demo factories', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'migrate-test-'));
    try {
      const first = await startService({}, dataDir);
      await first.stop();
      const restarted = await startService({ AGENT_FACTORY_ROOTS: TEST_FACTORY_ROOT }, dataDir);
      const result = await migrate({ registry: registryOf(restarted.url), routeChecks: 1 });
      expect(result.ok).toBe(false);
      expect(result.agents.map(({ name, action, validated }) => ({ name, action, validated }))).toEqual(
        DEMO_NAMES.map((name) => ({ name, action: 'updated', validated: false })),
      );
      expect(result.agents[0]!.errors[0]).toMatch(
        /^tickets_agent is registered but unavailable: Module jarvis_agent\.mcp_agents\.agent_factory was not found/,
      );
      // Unavailable agents are never routed to, and the check says where the query went instead.
      expect(result.agents[0]!.errors[1]).toBe(
        '"show my open tickets" was routed to no agent, not tickets_agent',
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('fails with the URL named when the service is down', async () => {
    const url = await closedPortUrl();
    const result = await migrate({ registry: registryOf(url) });
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      `registry.list() failed after 3 attempts: cannot connect to GET ${url}/registry/agents (ECONNREFUSED): ` +
        `is the service running at ${url}?`,
    ]);
    expect(result.agents.every((agent) => agent.action === 'failed')).toBe(true);
    expect(formatSummary(result)).toContain(
      `  - registry: registry.list() failed after 3 attempts: cannot connect`,
    );
  });
});

describe('npm run migrate', () => {
  it('reads REGISTRY_URL and REGISTRY_ADMIN_TOKEN and prints the summary (in process)', async () => {
    const token = 'migration-admin-token-0123';
    const service = await startService({ REGISTRY_ADMIN_TOKEN: token });
    let printed = '';
    const code = await main({ REGISTRY_URL: service.url, REGISTRY_ADMIN_TOKEN: token }, (text) => {
      printed += text;
    });
    expect(code).toBe(0);
    expect(printed).toMatch(/^oxygen_agent\s+updated\s+yes\s+3\/3$/m);
    expect(await main({ REGISTRY_URL: service.url }, () => {})).toBe(1);
  });

  it('runs as a real process: exits 0 after migrating, 1 when it fails', async () => {
    const token = 'migration-admin-token-0123';
    const service = await startService({ REGISTRY_ADMIN_TOKEN: token });
    const admin = registryOf(service.url, token);
    for (const name of DEMO_NAMES) await admin.deleteAgent(name);

    const ok = spawnTs(SCRIPT, [], { REGISTRY_URL: service.url, REGISTRY_ADMIN_TOKEN: token });
    const okOutput = lines(ok);
    expect(await exited(ok)).toEqual({ code: 0, signal: null });
    expect(okOutput.all.join('\n')).toMatch(/^finops_agent\s+registered\s+yes\s+3\/3$/m);

    // Without the token every change is refused: the failures are listed and the exit code says so.
    const refused = spawnTs(SCRIPT, [], { REGISTRY_URL: service.url, REGISTRY_ADMIN_TOKEN: '' });
    const refusedOutput = lines(refused);
    expect((await exited(refused)).code).toBe(1);
    expect(refusedOutput.all.join('\n')).toContain(
      'tickets_agent: registry.updateCapabilities("tickets_agent") failed: 401 unauthorized',
    );
  });
});
