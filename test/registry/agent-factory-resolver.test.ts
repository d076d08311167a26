import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LlmAgent } from '@google/adk';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { AgentFactoryResolver, type ModuleNamespace } from '../../src/registry/agent-factory-resolver.js';
import { CannedLlm } from '../support/canned-llm.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('resolver-');
const model = new CannedLlm();

/** A factory module (plain ESM, so it needs no build) that records its own import in `globalThis.__imported`. */
function factoryModule(marker: string, body = ''): string {
  const adk = pathToFileURL(path.resolve('node_modules/@google/adk/dist/esm/index.js')).href;
  return `import { LlmAgent } from '${adk}';
(globalThis.__imported ??= []).push('${marker}');
export function create_echo_agent(params, context) {
  return new LlmAgent({ name: params.name ?? 'echo_agent', description: 'Echoes ' + (params.topic ?? 'things'), model: context.model });
}
export async function create_async_agent() {
  return new LlmAgent({ name: 'async_agent', description: 'Built asynchronously', model: 'gemini-2.5-flash' });
}
export function create_throwing_agent() { throw new Error('missing credentials for the ticketing API'); }
export function create_not_an_agent() { return { name: 'impostor' }; }
export function create_slow_agent() { return new Promise(() => {}); }
export const not_a_function = 42;
${body}`;
}

declare global {
  var __imported: string[] | undefined;
}

interface Setup {
  root: string;
  outside: string;
  resolver: AgentFactoryResolver;
  imports: string[];
}

function setup(options: { allowedPackages?: string[]; timeoutMs?: number } = {}): Setup {
  const base = tempDir();
  const root = path.join(base, 'project', 'jarvis_agent', 'mcp_agents');
  const outside = path.join(base, 'outside');
  mkdirSync(path.join(root, 'team', 'billing'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(root, 'agent_factory.mjs'), factoryModule('agent_factory'));
  writeFileSync(path.join(root, 'team', 'billing', 'factories.mjs'), factoryModule('billing'));
  writeFileSync(
    path.join(root, 'broken.mjs'),
    `(globalThis.__imported ??= []).push('broken'); throw new Error('syntax of the config is wrong');`,
  );
  writeFileSync(path.join(outside, 'evil.mjs'), factoryModule('evil'));
  symlinkSync(path.join(outside, 'evil.mjs'), path.join(root, 'link_to_evil.mjs'));
  const imports: string[] = [];
  const resolver = new AgentFactoryResolver({
    roots: [root],
    context: { model },
    importModule: (url) => {
      imports.push(url);
      return import(url) as Promise<ModuleNamespace>;
    },
    ...options,
  });
  return { root, outside, resolver, imports };
}

const config = (factory_module: string, factory_function = 'create_echo_agent', factory_params = {}) => ({
  agent_type: 'echo',
  factory_module,
  factory_function,
  factory_params,
});

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

beforeEach(() => {
  globalThis.__imported = [];
});

describe('AgentFactoryResolver: successful creation', () => {
  it("resolves the seed's dotted module path under the root that ends with its leading segments", async () => {
    const { resolver } = setup();
    const agent = await resolver.createAgent(
      config('jarvis_agent.mcp_agents.agent_factory', 'create_echo_agent', { topic: 'tickets' }),
    );
    expect(agent).toBeInstanceOf(LlmAgent);
    expect(agent.name).toBe('echo_agent');
    expect(agent.description).toBe('Echoes tickets');
    expect((agent as LlmAgent).model).toBe(model);
  });

  it('resolves dotted paths relative to the root, relative paths and absolute paths inside a root', async () => {
    const { resolver, root } = setup();
    for (const spec of [
      'team.billing.factories',
      './team/billing/factories.mjs',
      path.join(root, 'team/billing/factories.mjs'),
    ]) {
      const agent = await resolver.createAgent(config(spec, 'create_echo_agent', { name: 'billing_agent' }));
      expect(agent.name).toBe('billing_agent');
    }
  });

  it('passes factory_params, awaits async factories, and caches each module (imported once)', async () => {
    const { resolver, imports } = setup();
    await resolver.createAgent(config('agent_factory', 'create_echo_agent', { name: 'first' }));
    const second = await resolver.createAgent(config('agent_factory', 'create_async_agent'));
    expect(second.name).toBe('async_agent');
    expect(imports).toHaveLength(1);
    expect(globalThis.__imported).toEqual(['agent_factory']);
  });

  it('uses an in-process factory registered for the agent_type before any module', async () => {
    const { resolver, imports } = setup();
    resolver.registerFactory('echo', (params) => new LlmAgent({ name: String(params.name), model }));
    const agent = await resolver.createAgent(
      config('does.not.exist', 'create_echo_agent', { name: 'in_process' }),
    );
    expect(agent.name).toBe('in_process');
    expect(imports).toEqual([]);
    expect(() => resolver.registerFactory('x', 42 as never)).toThrow(/not a function/);
  });

  it('lists registered factories and the functions of loaded modules', async () => {
    const { resolver } = setup();
    resolver.registerFactory('zeta', () => new LlmAgent({ name: 'z', model }));
    await resolver.createAgent(config('agent_factory'));
    const names = await resolver.listAvailableFactories();
    expect(names[0]).toBe('zeta');
    expect(names).toContain('agent_factory.create_echo_agent');
    expect(names).toContain('agent_factory.create_throwing_agent');
    expect(names).not.toContain('agent_factory.not_a_function');
  });

  it('imports an allowlisted package by bare name', async () => {
    const { resolver, imports } = setup({ allowedPackages: ['typebox'] });
    const error = await failure(resolver.createAgent(config('typebox', 'Any')));
    expect(imports).toEqual(['typebox']);
    expect(error.code).toBe('factory_failed');
    expect(error.message).toMatch(/returned an object .* not a Google ADK agent/);
  });

  it('clearCache() forgets resolved modules', async () => {
    const { resolver, imports } = setup();
    await resolver.createAgent(config('agent_factory'));
    resolver.clearCache();
    await resolver.createAgent(config('agent_factory'));
    expect(imports).toHaveLength(2);
  });
});

describe('AgentFactoryResolver: refusals import nothing', () => {
  const refused: [string, (s: Setup) => ReturnType<typeof config>, RegExp][] = [
    [
      'a data: URL',
      () => config('data:text/javascript,globalThis.__imported.push("data")'),
      /URL specifiers/,
    ],
    ['an http: URL', () => config('http://attacker.example/agent.js'), /URL specifiers/],
    ['a file: URL', (s) => config(pathToFileURL(path.join(s.outside, 'evil.mjs')).href), /URL specifiers/],
    ['a node: built-in', () => config('node:child_process', 'execSync'), /built-in/],
    ['a bare built-in name', () => config('child_process', 'execSync'), /built-in/],
    [
      'an absolute path outside the roots',
      (s) => config(path.join(s.outside, 'evil.mjs')),
      /outside the factory roots/,
    ],
    [
      'an absolute path to a missing file outside the roots',
      (s) => config(path.join(s.outside, 'nothing.mjs')),
      /absolute paths must point inside/,
    ],
    [
      'a relative path that climbs out with ..',
      () => config('../../../outside/evil.mjs'),
      /leaves the factory roots/,
    ],
    [
      'a relative path to a missing file outside the roots',
      () => config('../../../../etc/shadow'),
      /leaves the factory roots/,
    ],
    [
      'a symlink inside a root that points outside',
      () => config('link_to_evil'),
      /outside the factory roots.*symlinks/,
    ],
    ['a path with a NUL byte', () => config('agent_factory\0.mjs'), /NUL byte/],
    ['__proto__ as the function', () => config('agent_factory', '__proto__'), /cannot be a factory function/],
    ['constructor as the function', () => config('agent_factory', 'constructor'), /own exported functions/],
    ['toString as the function', () => config('agent_factory', 'toString'), /own exported functions/],
    [
      'a function name that is not an identifier',
      () => config('agent_factory', 'create-agent()'),
      /JavaScript identifier/,
    ],
  ];

  for (const [what, make, message] of refused) {
    it(`refuses ${what} with factory_not_allowed`, async () => {
      const s = setup();
      const error = await failure(s.resolver.createAgent(make(s)));
      expect(error.code).toBe('factory_not_allowed');
      expect(error.message).toMatch(message);
      expect(s.imports).toEqual([]);
      expect(globalThis.__imported).toEqual([]);
    });
  }

  it('refuses a bare package that is not allowlisted, and says how to allow it', async () => {
    const s = setup();
    const error = await failure(s.resolver.createAgent(config('typebox', 'Any')));
    expect(error.code).toBe('factory_module_not_found');
    expect(error.message).toMatch(/AGENT_FACTORY_PACKAGES/);
    expect(s.imports).toEqual([]);
  });
});

describe('AgentFactoryResolver: typed errors that say what to fix', () => {
  it('module not found names the roots and the fix', async () => {
    const { resolver, root } = setup();
    const error = await failure(resolver.createAgent(config('jarvis_agent.mcp_agents.no_such_module')));
    expect(error.code).toBe('factory_module_not_found');
    expect(error.message).toContain(root);
    expect(error.message).toMatch(/AGENT_FACTORY_ROOTS/);
  });

  it('function not found lists the functions the module does export', async () => {
    const { resolver } = setup();
    const error = await failure(resolver.createAgent(config('agent_factory', 'create_missing_agent')));
    expect(error.code).toBe('factory_function_not_found');
    expect(error.message).toMatch(/no export named "create_missing_agent".*create_echo_agent/);
  });

  it('not a function', async () => {
    const { resolver } = setup();
    const error = await failure(resolver.createAgent(config('agent_factory', 'not_a_function')));
    expect(error.code).toBe('factory_not_a_function');
    expect(error.message).toMatch(/is a number, not a function/);
  });

  it('factory threw, with its own message', async () => {
    const { resolver } = setup();
    const error = await failure(resolver.createAgent(config('agent_factory', 'create_throwing_agent')));
    expect(error.code).toBe('factory_failed');
    expect(error.message).toBe(
      'Factory agent_factory.create_throwing_agent threw: missing credentials for the ticketing API',
    );
  });

  it('factory returned something that is not an ADK agent', async () => {
    const { resolver } = setup();
    const error = await failure(resolver.createAgent(config('agent_factory', 'create_not_an_agent')));
    expect(error.code).toBe('factory_failed');
    expect(error.message).toMatch(/returned an object \(Object\), not a Google ADK agent/);
  });

  it('a factory that never returns fails after the timeout', async () => {
    const { resolver } = setup({ timeoutMs: 50 });
    const error = await failure(resolver.createAgent(config('agent_factory', 'create_slow_agent')));
    expect(error.code).toBe('factory_failed');
    expect(error.message).toMatch(/did not return within 50 ms/);
  });

  it('a module that throws while importing is reported, and retried on next use', async () => {
    const { resolver, imports } = setup();
    const error = await failure(resolver.createAgent(config('broken')));
    expect(error.code).toBe('factory_failed');
    expect(error.message).toMatch(/Importing module broken failed: syntax of the config is wrong/);
    await failure(resolver.createAgent(config('broken')));
    expect(imports).toHaveLength(2);
  });
});
