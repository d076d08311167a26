/**
 * @module config
 * The environment, parsed once at start-up into a frozen, typed object. Nothing else reads `process.env`.
 * An invalid value refuses to start with a message naming the variable and what it accepts.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const SQLITE_SYNCHRONOUS_MODES = ['EXTRA', 'FULL', 'NORMAL'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS_MODES)[number];

export interface Config {
  /** Service port (`PORT`, default 8003). */
  readonly port: number;
  /** Bind address (`HOST`, default 127.0.0.1); a non-loopback address needs `adminToken`. */
  readonly host: string;
  /** Absolute path of the data directory (`DATA_DIR`, default ./data). */
  readonly dataDir: string;
  /** `postgres://…` URL (`DATABASE_URL`); unset means the embedded file and SQLite backends. */
  readonly databaseUrl: string | undefined;
  /** Bearer token required by mutating registry calls (`REGISTRY_ADMIN_TOKEN`). */
  readonly adminToken: string | undefined;
  /** Absolute directories factory modules may be loaded from (`AGENT_FACTORY_ROOTS`). */
  readonly agentFactoryRoots: readonly string[];
  /** Installed packages factories may be imported from by bare name (`AGENT_FACTORY_PACKAGES`). */
  readonly agentFactoryPackages: readonly string[];
  /** Origins allowed by CORS (`CORS_ORIGINS`); empty means no cross-origin access. */
  readonly corsOrigins: readonly string[];
  /** Enables Gemini for agents and the router's LLM stage (`GOOGLE_API_KEY`). */
  readonly googleApiKey: string | undefined;
  /** Gemini model used when `googleApiKey` is set (`GEMINI_MODEL`). */
  readonly geminiModel: string;
  /** Orchestrator port (`JARVIS_PORT`, default 9999). */
  readonly jarvisPort: number;
  /** Where the orchestrator finds the service (`REGISTRY_URL`). */
  readonly registryUrl: string;
  readonly logLevel: LogLevel;
  /** `json` for machines, `pretty` for a terminal; `LOG_FORMAT` unset picks by whether stdout is a TTY. */
  readonly logFormat: LogFormat;
  /** SQLite `synchronous` pragma (`SQLITE_SYNCHRONOUS`, default FULL: acknowledged writes survive power loss). */
  readonly sqliteSynchronous: SqliteSynchronous;
  /** Completed and expired sessions older than this are deleted (`SESSION_RETENTION_DAYS`, default 7). */
  readonly sessionRetentionDays: number;
  /** Active sessions idle this long are marked expired (`SESSION_IDLE_TIMEOUT_MINUTES`, default 1440). */
  readonly sessionIdleTimeoutMinutes: number;
  /** How often retention runs in the service (`SESSION_CLEANUP_INTERVAL_MINUTES`, default 60; 0 disables). */
  readonly sessionCleanupIntervalMinutes: number;
  /** A session's last agent steers follow-ups for this long (`ROUTER_CONTEXT_TTL_SECONDS`, default 1800). */
  readonly routerContextTtlSeconds: number;
  /** The router's LLM stage falls back to the offline decision after this long (`ROUTER_LLM_TIMEOUT_MS`). */
  readonly routerLlmTimeoutMs: number;
  /** A request whose headers and body have not all arrived by then is answered 408 (`HTTP_REQUEST_TIMEOUT_MS`). */
  readonly httpRequestTimeoutMs: number;
  /** A request whose headers have not all arrived by then is answered 408 (`HTTP_HEADERS_TIMEOUT_MS`). */
  readonly httpHeadersTimeoutMs: number;
  /** Open connections beyond this are refused (`HTTP_MAX_CONNECTIONS`). */
  readonly httpMaxConnections: number;
  /**
   * The "none fits" threshold on the in-scope probability, 0 to 1 (`ROUTER_MIN_CONFIDENCE`); unset, the router
   * uses the threshold fitted from the registry's own examples.
   */
  readonly routerMinConfidence: number | undefined;
}

/** Where the demo factories live, relative to this module (works from `src/` and from `dist/src/`). */
export const DEFAULT_AGENT_FACTORY_ROOT = fileURLToPath(
  new URL('../jarvis_agent/mcp_agents', import.meta.url),
);

/** Roots are separated like PATH entries (`:` here), or by commas. */
const ROOT_SEPARATOR = new RegExp(`[,${path.delimiter}]`);

type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Base for relative paths (default `process.cwd()`). */
  cwd?: string;
  /** Whether stdout is a terminal, for the default log format. */
  isTty?: boolean;
}

/**
 * Parse and validate the environment. Throws an `AppError('config_error')` listing every invalid
 * variable at once, so an operator fixes them in one pass.
 */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const port = read.port('PORT', 8003);
  const host = read.string('HOST', '127.0.0.1');
  const adminToken = read.optionalString('REGISTRY_ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('REGISTRY_ADMIN_TOKEN must be at least 16 characters long (use a random secret)');
  }
  if (!isLoopbackHost(host) && adminToken === undefined) {
    problems.push(
      `HOST=${host} is not a loopback address: set REGISTRY_ADMIN_TOKEN so that mutating calls are authenticated, or bind 127.0.0.1`,
    );
  }
  const databaseUrl = read.optionalString('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const registryUrl = read.string('REGISTRY_URL', 'http://127.0.0.1:8003');
  if (!isHttpUrl(registryUrl)) problems.push('REGISTRY_URL must be an http:// or https:// URL');
  const corsOrigins = read.list('CORS_ORIGINS');
  for (const origin of corsOrigins) {
    if (origin !== '*' && !isHttpUrl(origin)) {
      problems.push(`CORS_ORIGINS entry "${origin}" must be an origin such as https://admin.example.com`);
    }
  }

  const config: Config = {
    port,
    host,
    dataDir: path.resolve(cwd, read.string('DATA_DIR', './data')),
    databaseUrl,
    adminToken,
    agentFactoryRoots: read
      .list('AGENT_FACTORY_ROOTS', [DEFAULT_AGENT_FACTORY_ROOT], ROOT_SEPARATOR)
      .map((root) => path.resolve(cwd, root)),
    agentFactoryPackages: read.list('AGENT_FACTORY_PACKAGES'),
    corsOrigins,
    googleApiKey: read.optionalString('GOOGLE_API_KEY'),
    geminiModel: read.string('GEMINI_MODEL', 'gemini-2.5-flash'),
    jarvisPort: read.port('JARVIS_PORT', 9999),
    registryUrl: registryUrl.replace(/\/+$/, ''),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: read.oneOf('LOG_FORMAT', LOG_FORMATS, options.isTty ? 'pretty' : 'json'),
    sqliteSynchronous: read.oneOf('SQLITE_SYNCHRONOUS', SQLITE_SYNCHRONOUS_MODES, 'FULL'),
    sessionRetentionDays: read.number('SESSION_RETENTION_DAYS', 7, { min: 0 }),
    sessionIdleTimeoutMinutes: read.number('SESSION_IDLE_TIMEOUT_MINUTES', 1440, { min: 1 }),
    sessionCleanupIntervalMinutes: read.number('SESSION_CLEANUP_INTERVAL_MINUTES', 60, { min: 0 }),
    routerContextTtlSeconds: read.number('ROUTER_CONTEXT_TTL_SECONDS', 1800, { min: 0 }),
    routerLlmTimeoutMs: read.number('ROUTER_LLM_TIMEOUT_MS', 5000, { min: 1 }),
    httpRequestTimeoutMs: read.number(
      'HTTP_REQUEST_TIMEOUT_MS',
      30_000,
      { min: 1, max: 3_600_000 },
      'whole number',
    ),
    httpHeadersTimeoutMs: read.number(
      'HTTP_HEADERS_TIMEOUT_MS',
      10_000,
      { min: 1, max: 3_600_000 },
      'whole number',
    ),
    httpMaxConnections: read.number('HTTP_MAX_CONNECTIONS', 1024, { min: 1, max: 1_000_000 }, 'whole number'),
    routerMinConfidence:
      read.optionalString('ROUTER_MIN_CONFIDENCE') === undefined
        ? undefined
        : read.number('ROUTER_MIN_CONFIDENCE', 0, { min: 0, max: 1 }),
  };
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS (${config.httpHeadersTimeoutMs}) must not be larger than HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs})`,
    );
  }

  if (problems.length > 0) {
    throw new AppError('config_error', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: problems,
    });
  }
  return Object.freeze(config);
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
  return false;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Reads typed values from the environment, collecting one problem per bad variable. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  optionalString(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.optionalString(name) ?? fallback;
  }

  list(name: string, fallback: readonly string[] = [], separator: RegExp = /,/): string[] {
    const raw = this.optionalString(name);
    if (raw === undefined) return [...fallback];
    return raw
      .split(separator)
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  number(
    name: string,
    fallback: number,
    range: { min?: number; max?: number } = {},
    kind: 'number' | 'whole number' = 'number',
  ): number {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = range;
    const shape = kind === 'number' ? /^-?\d+(\.\d+)?$/ : /^-?\d+$/;
    if (!shape.test(raw) || value < min || value > max) {
      const bounds = [Number.isFinite(min) ? `>= ${min}` : '', Number.isFinite(max) ? `<= ${max}` : '']
        .filter(Boolean)
        .join(' and ');
      this.problems.push(`${name}="${raw}" must be a ${kind}${bounds ? ` ${bounds}` : ''}`);
      return fallback;
    }
    return value;
  }

  port(name: string, fallback: number): number {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < 0 || value > 65535) {
      this.problems.push(`${name}="${raw}" must be a port number between 0 and 65535`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    const match = allowed.find((option) => option.toLowerCase() === raw.toLowerCase());
    if (match === undefined) {
      this.problems.push(`${name}="${raw}" must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return match;
  }
}
