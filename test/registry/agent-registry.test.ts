import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LlmAgent } from '@google/adk';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { AgentFactoryResolver } from '../../src/registry/agent-factory-resolver.js';
import type { AgentRegistration } from '../../src/registry/agent-record.js';
import { type AgentEvent, AgentRegistry, toAgentView } from '../../src/registry/agent-registry.js';
import { FileStore } from '../../src/registry/file-store.js';
import { CannedLlm } from '../support/canned-llm.js';
import { FaultyFs } from '../support/faulty-fs.js';
import { makeDocument, makeRecord } from '../support/records.js';
import { useTempDirs } from '../support/temp-dir.js';

const factoryRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'factories');
const tempDir = useTempDirs('agent-registry-');
const open: AgentRegistry[] = [];
afterEach(async () => {
  for (const registry of open.splice(0)) await registry.close();
});

let tick = 0;
const clock = () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++));

async function openRegistry(dataDir: string, fs?: FaultyFs): Promise<AgentRegistry> {
  const registry = await AgentRegistry.open({
    store: new FileStore({ dataDir, ...(fs ? { fs } : {}) }),
    resolver: new AgentFactoryResolver({ roots: [factoryRoot], context: { model: new CannedLlm() } }),
    now: clock,
  });
  open.push(registry);
  return registry;
}

async function reopen(registry: AgentRegistry, dataDir: string): Promise<AgentRegistry> {
  await registry.close();
  open.splice(open.indexOf(registry), 1);
  return openRegistry(dataDir);
}

const echo = (name: string, extra: Partial<AgentRegistration> = {}): AgentRegistration => ({
  agent_type: 'echo',
  factory_module: 'test_factories',
  factory_function: 'create_echo_agent',
  factory_params: { name, topic: `${name} topics` },
  capabilities: { examples: [`ask ${name}`] },
  tags: ['test'],
  ...extra,
});

const fileOf = (dataDir: string) => path.join(dataDir, 'registry_config.json');

describe('AgentRegistry: persist and reload', () => {
  it('saves a registration and recreates the agent from its factory after a restart', async () => {
    const dataDir = tempDir();
    let registry = await openRegistry(dataDir);
    const entry = await registry.registerFromConfig(echo('tickets_agent', { tags: ['production', 'it'] }));
    expect(entry.agent).toBeInstanceOf(LlmAgent);

    const stored = JSON.parse(readFileSync(fileOf(dataDir), 'utf8'));
    expect(stored.agents.tickets_agent).toEqual({
      name: 'tickets_agent',
      description: 'Answers questions about tickets_agent topics',
      agent_type: 'echo',
      factory_module: 'test_factories',
      factory_function: 'create_echo_agent',
      factory_params: { name: 'tickets_agent', topic: 'tickets_agent topics' },
      capabilities: { examples: ['ask tickets_agent'] },
      tags: ['production', 'it'],
      enabled: true,
      registered_at: entry.record.registered_at,
      updated_at: entry.record.updated_at,
    });

    registry = await reopen(registry, dataDir);
    const reloaded = registry.require('tickets_agent');
    expect(reloaded.status).toBe('available');
    expect(reloaded.agent).toBeInstanceOf(LlmAgent);
    expect(reloaded.agent).not.toBe(entry.agent);
    expect(reloaded.agent?.description).toBe('Answers questions about tickets_agent topics');
    expect(reloaded.record).toEqual(entry.record);
    expect(registry.loadReport).toEqual({
      source: 'file',
      recovery: [],
      available: ['tickets_agent'],
      unavailable: [],
    });
  });

  it('persists capability updates, enable/disable and deletion', async () => {
    const dataDir = tempDir();
    let registry = await openRegistry(dataDir);
    await registry.registerFromConfig(echo('a_agent'));
    await registry.registerFromConfig(echo('b_agent'));
    await registry.updateCapabilities('a_agent', { domains: ['billing'], examples: ['what do I owe'] });
    await registry.disable('a_agent');
    await registry.unregister('b_agent');

    registry = await reopen(registry, dataDir);
    expect(registry.list().map((entry) => entry.record.name)).toEqual(['a_agent']);
    const a = registry.require('a_agent').record;
    expect(a.capabilities).toEqual({ domains: ['billing'], examples: ['what do I owe'] });
    expect(a.enabled).toBe(false);
    expect(a.updated_at > a.registered_at).toBe(true);

    await registry.enable('a_agent');
    registry = await reopen(registry, dataDir);
    expect(registry.require('a_agent').record.enabled).toBe(true);
  });

  it('uses the name from the registration body over the agent’s own name', async () => {
    const registry = await openRegistry(tempDir());
    const entry = await registry.registerFromConfig(echo('own_name', { name: 'custom_name' }));
    expect(entry.record.name).toBe('custom_name');
    expect(registry.get('own_name')).toBeUndefined();
  });

  it('keeps registrations made concurrently, and refuses all but one of the same name', async () => {
    const dataDir = tempDir();
    let registry = await openRegistry(dataDir);
    const names = Array.from({ length: 20 }, (_, i) => `agent_${i}`);
    await Promise.all(names.map((name) => registry.registerFromConfig(echo(name))));
    const same = await Promise.allSettled(
      Array.from({ length: 5 }, () => registry.registerFromConfig(echo('dup'))),
    );
    expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      same.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code),
    ).toEqual(Array(4).fill('agent_exists'));
    registry = await reopen(registry, dataDir);
    expect(registry.size).toBe(21);
  });
});

describe('AgentRegistry: bad input changes nothing', () => {
  const cases: [string, (r: AgentRegistry) => Promise<unknown>, string, RegExp][] = [
    ['a duplicate name', (r) => r.registerFromConfig(echo('existing')), 'agent_exists', /already registered/],
    [
      'a duplicate body name',
      (r) => r.registerFromConfig(echo('x', { name: 'existing' })),
      'agent_exists',
      /already registered/,
    ],
    [
      'an invalid body name',
      (r) => r.registerFromConfig(echo('x', { name: 'bad name!' })),
      'validation_error',
      /\/name must match pattern/,
    ],
    [
      'a factory building an invalid name',
      (r) => r.registerFromConfig(echo('bad name!')),
      'factory_failed',
      /invalid agent name/,
    ],
    [
      'the reserved name user',
      (r) => r.registerFromConfig(echo('x', { name: 'user' })),
      'validation_error',
      /reserved/,
    ],
    [
      'an unknown field',
      (r) => r.registerFromConfig({ ...echo('x'), surprise: 1 } as AgentRegistration),
      'validation_error',
      /unknown field\(s\) "surprise"/,
    ],
    [
      'a missing module',
      (r) => r.registerFromConfig(echo('x', { factory_module: 'nope' })),
      'factory_module_not_found',
      /nope/,
    ],
    [
      'a factory that throws',
      (r) => r.registerFromConfig(echo('x', { factory_function: 'create_failing_agent' })),
      'factory_failed',
      /backing service is down/,
    ],
    [
      'examples that are not strings',
      (r) => r.updateCapabilities('existing', { examples: [1, 2] } as never),
      'validation_error',
      /examples/,
    ],
    ['an unknown agent (update)', (r) => r.updateCapabilities('ghost', {}), 'agent_not_found', /ghost/],
    ['an unknown agent (disable)', (r) => r.disable('ghost'), 'agent_not_found', /ghost/],
    ['an unknown agent (delete)', (r) => r.unregister('ghost'), 'agent_not_found', /ghost/],
  ];

  for (const [what, act, code, message] of cases) {
    it(`${what}: ${code}`, async () => {
      const dataDir = tempDir();
      const registry = await openRegistry(dataDir);
      await registry.registerFromConfig(echo('existing'));
      const before = readFileSync(fileOf(dataDir));
      const revision = registry.revision;
      const error = (await act(registry).catch((e: unknown) => e)) as AppError;
      expect(error).toBeInstanceOf(AppError);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(readFileSync(fileOf(dataDir))).toEqual(before);
      expect(registry.revision).toBe(revision);
      expect(registry.list().map((e) => e.record.name)).toEqual(['existing']);
    });
  }

  it('setting the state an agent already has writes nothing', async () => {
    const dataDir = tempDir();
    const registry = await openRegistry(dataDir);
    await registry.registerFromConfig(echo('same'));
    const before = readFileSync(fileOf(dataDir));
    const revision = registry.revision;
    await registry.enable('same');
    expect(readFileSync(fileOf(dataDir))).toEqual(before);
    expect(registry.revision).toBe(revision);
  });
});

describe('AgentRegistry: a failed save rolls back', () => {
  const mutations: [string, (r: AgentRegistry) => Promise<unknown>][] = [
    ['register', (r) => r.registerFromConfig(echo('newcomer'))],
    ['update capabilities', (r) => r.updateCapabilities('stable', { examples: ['changed'] })],
    ['disable', (r) => r.disable('stable')],
    ['unregister', (r) => r.unregister('stable')],
  ];

  for (const [what, act] of mutations) {
    it(`${what}: the caller gets the error, memory and file keep the previous state, listeners hear nothing`, async () => {
      const dataDir = tempDir();
      const fs = new FaultyFs();
      const registry = await openRegistry(dataDir, fs);
      await registry.registerFromConfig(echo('stable'));
      const fileBefore = readFileSync(fileOf(dataDir));
      const viewBefore = registry.list().map(toAgentView);
      const revision = registry.revision;
      const heard: AgentEvent[] = [];
      registry.onChange((change) => heard.push(change));

      // Fail after the new file was renamed into place: the store must put the previous version back.
      fs.fail('sync', 'EIO', { match: (file) => file === dataDir });
      const error = (await act(registry).catch((e: unknown) => e)) as AppError;
      expect(error.code).toBe('storage_error');
      expect(error.message).toMatch(/EIO.*previous version is intact/);
      expect(registry.list().map(toAgentView)).toEqual(viewBefore);
      expect(registry.revision).toBe(revision);
      expect(readFileSync(fileOf(dataDir))).toEqual(fileBefore);
      expect(heard).toEqual([]);

      fs.clear();
      await act(registry);
      expect(registry.revision).toBe(revision + 1);
      expect(heard).toHaveLength(1);
      expect(heard[0]?.change.revision).toBe(revision + 1);
    });
  }
});

describe('AgentRegistry: start-up', () => {
  it('keeps an agent whose factory fails as unavailable, with its record unchanged in the file', async () => {
    const dataDir = tempDir();
    const missing = makeRecord('orphan_agent', {
      factory_module: 'modules.that.were.removed',
      factory_function: 'create_orphan',
    });
    const good = makeRecord('echo_agent', {
      factory_module: 'test_factories',
      factory_function: 'create_echo_agent',
      factory_params: { name: 'echo_agent' },
    });
    writeFileSync(
      fileOf(dataDir),
      JSON.stringify({ ...makeDocument([]), agents: { echo_agent: good, orphan_agent: missing } }),
    );

    let registry = await openRegistry(dataDir);
    expect(registry.loadReport.available).toEqual(['echo_agent']);
    expect(registry.loadReport.unavailable).toEqual([
      { name: 'orphan_agent', error: expect.stringMatching(/was not found under the factory roots/) },
    ]);
    const orphan = registry.require('orphan_agent');
    expect(orphan.status).toBe('unavailable');
    expect(orphan.agent).toBeUndefined();
    expect(toAgentView(orphan)).toMatchObject({
      name: 'orphan_agent',
      status: 'unavailable',
      error: expect.stringContaining('modules.that.were.removed'),
    });
    expect(toAgentView(registry.require('echo_agent'))).not.toHaveProperty('error');

    // Changes to other agents rewrite the file; the unavailable record stays exactly as it was.
    await registry.disable('echo_agent');
    registry = await reopen(registry, dataDir);
    expect(JSON.parse(readFileSync(fileOf(dataDir), 'utf8')).agents.orphan_agent).toEqual(missing);
    expect(registry.require('orphan_agent').status).toBe('unavailable');
  });

  it('recovers from a corrupt file through the backup and reports it', async () => {
    const dataDir = tempDir();
    let registry = await openRegistry(dataDir);
    await registry.registerFromConfig(echo('first'));
    await registry.registerFromConfig(echo('second'));
    await registry.close();
    open.splice(0);
    writeFileSync(fileOf(dataDir), '{"version": "1.0.0", "agents": {"trunc');
    registry = await openRegistry(dataDir);
    expect(registry.loadReport.source).toBe('backup');
    expect(registry.loadReport.recovery.map((event) => event.action)).toEqual(['quarantined', 'restored']);
    expect(registry.list().map((entry) => entry.record.name)).toEqual(['first']);
    expect(registry.storeHealth().loaded_from).toBe('backup');
  });

  it('closes the store when loading fails, so the data directory is not left locked', async () => {
    const dataDir = tempDir();
    writeFileSync(fileOf(dataDir), JSON.stringify({ ...makeDocument([]), version: '9.0.0' }));
    await expect(openRegistry(dataDir)).rejects.toThrow(/format 9\.0\.0/);
    const store = new FileStore({ dataDir });
    await store.open();
    await store.close();
  });
});

describe('AgentRegistry queries and events', () => {
  it('lists by name, filters enabled agents and agents having every given tag', async () => {
    const registry = await openRegistry(tempDir());
    await registry.registerFromConfig(echo('c_agent', { tags: ['prod', 'it'] }));
    await registry.registerFromConfig(echo('a_agent', { tags: ['prod'] }));
    await registry.registerFromConfig(echo('b_agent', { tags: ['it'], enabled: false }));
    const names = (options?: Parameters<typeof registry.list>[0]) =>
      registry.list(options).map((e) => e.record.name);
    expect(names()).toEqual(['a_agent', 'b_agent', 'c_agent']);
    expect(names({ enabledOnly: true })).toEqual(['a_agent', 'c_agent']);
    expect(names({ tags: ['it'] })).toEqual(['b_agent', 'c_agent']);
    expect(names({ tags: ['it', 'prod'] })).toEqual(['c_agent']);
    expect(names({ tags: ['it'], enabledOnly: true })).toEqual(['c_agent']);
  });

  it('tells listeners about every acknowledged change, in order, and stops when unsubscribed', async () => {
    const registry = await openRegistry(tempDir());
    const start = registry.revision;
    const heard: string[] = [];
    const stop = registry.onChange((change) =>
      heard.push(`${change.type}:${change.name}:${change.entry.record.enabled}`),
    );
    await registry.registerFromConfig(echo('x_agent'));
    await registry.disable('x_agent');
    await registry.unregister('x_agent');
    stop();
    await registry.registerFromConfig(echo('y_agent'));
    expect(heard).toEqual(['upsert:x_agent:true', 'upsert:x_agent:false', 'remove:x_agent:false']);
    expect(registry.revision).toBe(start + 4);
    expect(Object.keys(registry.toDocument().agents)).toEqual(['y_agent']);
  });

  it('a listener that throws never turns a committed change into an error', async () => {
    const dataDir = tempDir();
    let registry = await openRegistry(dataDir);
    const heard: string[] = [];
    registry.onChange(() => {
      throw new Error('listener bug');
    });
    registry.onChange((event) => heard.push(event.name));
    await registry.registerFromConfig(echo('survives'));
    await registry.disable('survives');
    expect(heard).toEqual(['survives', 'survives']);
    registry = await reopen(registry, dataDir);
    expect(registry.require('survives').record.enabled).toBe(false);
  });

  it('follows its changes: the feed pages by revision and a long poll wakes on the next change', async () => {
    const registry = await openRegistry(tempDir());
    const start = registry.revision;
    await registry.registerFromConfig(echo('one'));
    await registry.registerFromConfig(echo('two'));
    const page = await registry.changes(start, 10);
    expect(page.changes.map((change) => [change.type, change.agent_name])).toEqual([
      ['registered', 'one'],
      ['registered', 'two'],
    ]);
    expect(page.revision).toBe(start + 2);
    // Nothing new: a long poll waits for the next change, and gets it.
    const waiting = registry.changes(start + 2, 10, 30_000);
    await registry.disable('one');
    const woken = await waiting;
    expect(woken.changes.map((change) => [change.type, change.agent_name, change.version])).toEqual([
      ['updated', 'one', 2],
    ]);
    // Closing wakes a waiting poll at once (shutdown never waits out a long poll).
    const pending = registry.changes(registry.revision, 10, 30_000);
    await registry.close();
    expect((await pending).changes).toEqual([]);
  });
});

describe('AgentRegistry: default agents', () => {
  it('registers the defaults once, on the first start of an empty data directory only', async () => {
    const dataDir = tempDir();
    let registry = await openRegistry(dataDir);
    expect(await registry.seed([echo('demo_a'), echo('demo_b')])).toEqual(['demo_a', 'demo_b']);
    expect(registry.list().map((entry) => entry.record.name)).toEqual(['demo_a', 'demo_b']);
    await registry.unregister('demo_a');
    await registry.unregister('demo_b');
    registry = await reopen(registry, dataDir);
    expect(await registry.seed([echo('demo_a')])).toBeUndefined();
    expect(registry.size).toBe(0);
  });

  it('never seeds over a registry that start-up had to recover, and skips a default whose factory fails', async () => {
    const dataDir = tempDir();
    writeFileSync(fileOf(dataDir), 'garbage');
    const recovered = await openRegistry(dataDir);
    expect(await recovered.seed([echo('demo_a')])).toBeUndefined();
    const fresh = await openRegistry(tempDir());
    expect(
      await fresh.seed([echo('ok_demo'), echo('x', { factory_function: 'create_failing_agent' })]),
    ).toEqual(['ok_demo']);
  });
});
