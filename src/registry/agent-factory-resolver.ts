/**
 * @module registry/agent-factory-resolver
 * Recreates ADK agents from stored factory configs. A config names code to run, so every module is checked
 * before it is imported: only files inside AGENT_FACTORY_ROOTS (symlinks resolved) or allowlisted packages,
 * never URLs, built-ins or paths that leave a root, and only a module's own exported functions.
 */
import { realpath, stat } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BaseAgent, isBaseAgent } from '@google/adk';
import { AppError, messageOf, systemErrorCode } from '../errors.js';
import type { AgentFactory, AgentFactoryContext } from './agent-factory.js';
import { FACTORY_FUNCTION_PATTERN, type FactoryConfig } from './agent-record.js';

export type ModuleNamespace = Readonly<Record<string, unknown>>;

export interface AgentFactoryResolverOptions {
  /** Directories factory modules may be loaded from (AGENT_FACTORY_ROOTS). */
  roots: readonly string[];
  /** Installed packages that may be imported by bare name (AGENT_FACTORY_PACKAGES). */
  allowedPackages?: readonly string[];
  /** Passed to every factory (the model to use). */
  context: AgentFactoryContext;
  /** A factory that has not returned after this long fails (default 30 s), so one cannot hang start-up. */
  timeoutMs?: number;
  /** How modules are imported; tests record calls here to prove refused modules are never imported. */
  importModule?: (url: string) => Promise<ModuleNamespace>;
}

/** Extensions tried for a module path, compiled JavaScript first. */
const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts'];
const DOTTED_MODULE = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/;
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const FACTORY_NAME = new RegExp(FACTORY_FUNCTION_PATTERN);
/** Names every object inherits; a factory name must be the module's own export, never one of these. */
const INHERITED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype).concat(['prototype']));

export class AgentFactoryResolver {
  private readonly roots: readonly string[];
  private readonly allowedPackages: ReadonlySet<string>;
  private readonly context: AgentFactoryContext;
  private readonly timeoutMs: number;
  private readonly importModule: (url: string) => Promise<ModuleNamespace>;
  private readonly registered = new Map<string, AgentFactory>();
  /** Module specifier -> the file or package it resolved to. */
  private readonly locations = new Map<string, string>();
  /** Resolved file URL or package -> its module namespace (the seed's "module cache"). */
  private readonly modules = new Map<string, Promise<ModuleNamespace>>();
  private realRoots: Promise<string[]> | undefined;

  constructor(options: AgentFactoryResolverOptions) {
    this.roots = options.roots.map((root) => path.resolve(root));
    this.allowedPackages = new Set(options.allowedPackages ?? []);
    this.context = options.context;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.importModule = options.importModule ?? ((url) => import(url) as Promise<ModuleNamespace>);
  }

  /**
   * Register an in-process factory for an `agent_type`. It takes precedence over the record's module:
   * this is how an application embedding the registry supplies factories without a module on disk.
   */
  registerFactory(agentType: string, factory: AgentFactory): void {
    if (typeof factory !== 'function') {
      throw new AppError(
        'factory_not_a_function',
        `The factory registered for "${agentType}" is not a function`,
      );
    }
    this.registered.set(agentType, factory);
  }

  /** Registered agent types, then `module.function` for every factory of the modules loaded so far. */
  async listAvailableFactories(): Promise<string[]> {
    const names = [...this.registered.keys()].sort();
    for (const [spec, location] of this.locations) {
      const namespace = await this.modules.get(location);
      if (namespace === undefined) continue;
      for (const key of Object.keys(namespace).sort()) {
        if (typeof namespace[key] === 'function') names.push(`${spec}.${key}`);
      }
    }
    return names;
  }

  /** Build the agent a config describes. Throws a typed `factory_*` error that says what to fix. */
  async createAgent(config: FactoryConfig): Promise<BaseAgent> {
    const factory = await this.resolveFactory(config);
    const label = `${config.factory_module}.${config.factory_function}`;
    let result: unknown;
    try {
      result = await withTimeout(
        Promise.resolve().then(() => factory(config.factory_params ?? {}, this.context)),
        this.timeoutMs,
        label,
      );
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('factory_failed', `Factory ${label} threw: ${messageOf(error)}`, { cause: error });
    }
    if (!isBaseAgent(result)) {
      throw new AppError(
        'factory_failed',
        `Factory ${label} returned ${describeValue(result)}, not a Google ADK agent: it must return an LlmAgent (or another BaseAgent)`,
      );
    }
    return result;
  }

  /** The factory function a config names, after every guard. Nothing is imported if a guard refuses. */
  async resolveFactory(config: FactoryConfig): Promise<AgentFactory> {
    const registered = this.registered.get(config.agent_type);
    if (registered !== undefined) return registered;

    const name = config.factory_function;
    if (!FACTORY_NAME.test(name) || INHERITED_NAMES.has(name)) {
      throw new AppError(
        'factory_not_allowed',
        `"${name}" cannot be a factory function: it must be a JavaScript identifier naming one of the module's own exported functions`,
      );
    }
    const namespace = await this.loadModule(config.factory_module);
    if (!Object.hasOwn(namespace, name)) {
      const available = Object.keys(namespace).filter((key) => typeof namespace[key] === 'function');
      throw new AppError(
        'factory_function_not_found',
        `Module ${config.factory_module} has no export named "${name}". ` +
          (available.length > 0
            ? `Its exported functions: ${available.join(', ')}.`
            : 'It exports no functions.'),
      );
    }
    const factory = namespace[name];
    if (typeof factory !== 'function') {
      throw new AppError(
        'factory_not_a_function',
        `${config.factory_module}.${name} is ${describeValue(factory)}, not a function: export a function that returns an agent`,
      );
    }
    return factory as AgentFactory;
  }

  /** Forget loaded modules (they are re-imported on next use only if the runtime allows; ESM caches by URL). */
  clearCache(): void {
    this.locations.clear();
    this.modules.clear();
  }

  private async loadModule(spec: string): Promise<ModuleNamespace> {
    let location = this.locations.get(spec);
    if (location === undefined) {
      location = await this.locate(spec);
      this.locations.set(spec, location);
    }
    let loading = this.modules.get(location);
    if (loading === undefined) {
      loading = this.importModule(location).catch((error: unknown) => {
        this.modules.delete(location);
        this.locations.delete(spec);
        throw importFailure(spec, error);
      });
      this.modules.set(location, loading);
    }
    return loading;
  }

  /** Map a module specifier to a file URL inside a root or to an allowlisted package name, or refuse. */
  private async locate(spec: string): Promise<string> {
    if (spec.includes('\0') || spec.includes('\\')) {
      throw notAllowed(spec, 'it contains a NUL byte or a backslash');
    }
    if (spec.startsWith('node:') || isBuiltin(spec)) {
      throw notAllowed(spec, 'Node.js built-in modules cannot be factories');
    }
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(spec)) {
      throw notAllowed(
        spec,
        'URL specifiers (data:, http:, file:, ...) cannot be factories; name a module under a factory root',
      );
    }
    const tried: string[] = [];
    for (const candidate of this.candidatePaths(spec)) {
      const file = await findModuleFile(candidate, tried);
      if (file !== undefined) return pathToFileURL(await this.insideRoot(spec, file)).href;
    }
    if (this.isAllowedPackage(spec)) return spec;
    if (path.isAbsolute(spec)) {
      throw notAllowed(spec, `absolute paths must point inside a factory root (${this.roots.join(', ')})`);
    }
    const hint = PACKAGE_NAME.test(spec)
      ? ' If it is an installed package, allow it with AGENT_FACTORY_PACKAGES.'
      : '';
    throw new AppError(
      'factory_module_not_found',
      `Module ${spec} was not found under the factory roots (${this.roots.join(', ')}); tried ${tried.length} path(s)` +
        `${tried.length > 0 ? ` such as ${tried[0]}` : ''}.${hint} Add the directory to AGENT_FACTORY_ROOTS or fix factory_module.`,
    );
  }

  /**
   * Paths (without extension) a specifier may name. Dotted paths work like Python's: `a.b.c` is `a/b/c`
   * under a root, and may start with the root's own trailing directories (`jarvis_agent.mcp_agents.x` under
   * the root `.../jarvis_agent/mcp_agents`). Relative and absolute paths are taken as they are.
   */
  private candidatePaths(spec: string): string[] {
    if (path.isAbsolute(spec)) return [spec];
    const candidates: string[] = [];
    if (DOTTED_MODULE.test(spec)) {
      const segments = spec.split('.');
      for (const root of this.roots) {
        const rootSegments = root.split(path.sep).filter(Boolean);
        for (let k = Math.min(segments.length - 1, rootSegments.length); k >= 0; k--) {
          const prefix = segments.slice(0, k);
          if (prefix.every((segment, i) => segment === rootSegments[rootSegments.length - k + i])) {
            candidates.push(path.join(root, ...segments.slice(k)));
          }
        }
      }
      return candidates;
    }
    if (spec.includes('/')) {
      for (const root of this.roots) {
        const candidate = path.resolve(root, spec);
        if (isInside(root, candidate)) candidates.push(candidate);
      }
      if (candidates.length === 0) {
        throw notAllowed(
          spec,
          `it leaves the factory roots (${this.roots.join(', ')}); '..' may not climb out of a root`,
        );
      }
    }
    return candidates;
  }

  /** The real path of `file`, if it is inside a (real) root; refuses paths that leave every root. */
  private async insideRoot(spec: string, file: string): Promise<string> {
    this.realRoots ??= Promise.all(this.roots.map((root) => realpath(root).catch(() => root)));
    const real = await realpath(file);
    for (const root of await this.realRoots) {
      if (isInside(root, real)) return real;
    }
    throw notAllowed(
      spec,
      `it resolves to ${real}, outside the factory roots (${this.roots.join(', ')}); '..' and symlinks may not leave a root`,
    );
  }

  private isAllowedPackage(spec: string): boolean {
    const parts = spec.split('/');
    const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
    return this.allowedPackages.has(name) && !spec.split('/').includes('..');
  }
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

async function findModuleFile(base: string, tried: string[]): Promise<string | undefined> {
  const options = [
    base,
    ...EXTENSIONS.map((ext) => base + ext),
    ...EXTENSIONS.map((ext) => path.join(base, `index${ext}`)),
  ];
  for (const option of options) {
    tried.push(option);
    try {
      if ((await stat(option)).isFile()) return option;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

function notAllowed(spec: string, reason: string): AppError {
  return new AppError('factory_not_allowed', `Module ${spec} is not allowed: ${reason}.`);
}

function importFailure(spec: string, error: unknown): AppError {
  const code = systemErrorCode(error);
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    return new AppError(
      'factory_failed',
      `Module ${spec} is TypeScript and this process runs compiled JavaScript: build it to .js (npm run build) or run under tsx.`,
      { cause: error },
    );
  }
  if (code === 'ERR_MODULE_NOT_FOUND') {
    return new AppError(
      'factory_module_not_found',
      `Module ${spec} could not be imported: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  return new AppError('factory_failed', `Importing module ${spec} failed: ${messageOf(error)}`, {
    cause: error,
  });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AppError('factory_failed', `Factory ${label} did not return within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
