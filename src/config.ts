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
  /** Bind address (`HOST`, default 127.0.0.1); a non-loopback address needs `adminToken` and `apiToken`. */
  readonly host: string;
  /** Absolute path of the data directory (`DATA_DIR`, default ./data). */
  readonly dataDir: string;
  /** `postgres://…` URL (`DATABASE_URL`); unset means the embedded file and SQLite backends. */
  readonly databaseUrl: string | undefined;
  /** Bearer token required by mutating registry calls (`REGISTRY_ADMIN_TOKEN`); it also grants reads. */
  readonly adminToken: string | undefined;
  /**
   * Further admin tokens, each with the label the registry's version history records its changes under
   * (`REGISTRY_ADMIN_TOKENS=label:token,...`; REGISTRY_ADMIN_TOKEN's label is `admin`).
   */
  readonly adminTokens: readonly { readonly label: string; readonly token: string }[];
  /** Versions kept per agent (`REGISTRY_VERSIONS_KEPT`, default 50); the oldest beyond it are deleted. */
  readonly registryVersionsKept: number;
  /** Bearer token required by every `/sessions` call and by Jarvis's `/chat` when set (`REGISTRY_API_TOKEN`). */
  readonly apiToken: string | undefined;
  /** When set, registry reads, routing and `/metrics` need it or the admin token (`REGISTRY_READ_TOKEN`). */
  readonly readToken: string | undefined;
  /** Mutating calls (registry, sessions, `/chat`) one client may make per minute (`RATE_LIMIT_WRITES_PER_MINUTE`; 0: no limit). */
  readonly rateLimitWritesPerMinute: number;
  /** Routing calls one client may make per minute (`RATE_LIMIT_ROUTING_PER_MINUTE`; 0: no limit). */
  readonly rateLimitRoutingPerMinute: number;
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
  /** Store routed queries' text in the decision log (`ROUTER_LOG_QUERIES`, default true); false stores a SHA-256. */
  readonly routerLogQueries: boolean;
  /** Routing decisions kept at most, newest first (`ROUTER_DECISIONS_KEPT`, default 100000). */
  readonly routerDecisionsKept: number;
  /** Seconds between capability probe runs besides those after registry changes (`PROBE_INTERVAL_SECONDS`, default 600; 0: only after changes). */
  readonly probeIntervalSeconds: number;
  /** The share of the event loop a capability probe run may take, in percent (`PROBE_CPU_PERCENT`, 1–100, default 25). */
  readonly probeCpuPercent: number;
  /**
   * Hosts whose A2A agent cards may be fetched and whose agents may be called (`A2A_ALLOWED_HOSTS`,
   * comma-separated host names or IP addresses, lower-cased; empty: no remote agents).
   */
  readonly a2aAllowedHosts: readonly string[];
  /** How often remote agents' cards are re-fetched (`A2A_CARD_REFRESH_SECONDS`, default 300; 0 disables). */
  readonly a2aCardRefreshSeconds: number;
}

/** Where the demo factories live, relative to this module (works from `src/` and from `dist/src/`). */
export const DEFAULT_AGENT_FACTORY_ROOT = fileURLToPath(
  new URL('../jarvis_agent/mcp_agents', import.meta.url),
);

/**
 * Per client (address) and minute: generous enough for an orchestrator that writes for many users at once
 * (every session write of Jarvis comes from one address), low enough to stop a runaway loop.
 */
export const DEFAULT_RATE_LIMITS = { writesPerMinute: 6000, routingPerMinute: 12_000 } as const;

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
  const adminToken = read.token('REGISTRY_ADMIN_TOKEN');
  const apiToken = read.token('REGISTRY_API_TOKEN');
  const readToken = read.token('REGISTRY_READ_TOKEN');
  const adminTokens = read.labelledTokens('REGISTRY_ADMIN_TOKENS', adminToken === undefined ? [] : ['admin']);
  const tokens: [string, string | undefined][] = [
    ['REGISTRY_ADMIN_TOKEN', adminToken],
    ...adminTokens.map(({ label }, i): [string, string] => [
      `REGISTRY_ADMIN_TOKENS (${label})`,
      adminTokens[i]!.token,
    ]),
    ['REGISTRY_API_TOKEN', apiToken],
    ['REGISTRY_READ_TOKEN', readToken],
  ];
  const named = tokens.filter(([, token]) => token !== undefined);
  for (const [index, [name, token]] of named.entries()) {
    const same = named.slice(index + 1).find(([, other]) => other === token);
    // Each token grants different powers: one secret for two of them would give the weaker one both.
    if (same !== undefined) problems.push(`${name} and ${same[0]} must be different secrets`);
  }
  const anyAdminToken = adminToken ?? adminTokens[0]?.token;
  if (!isLoopbackHost(host) && (anyAdminToken === undefined || apiToken === undefined)) {
    const missing = [anyAdminToken, apiToken].every((token) => token === undefined)
      ? 'REGISTRY_ADMIN_TOKEN and REGISTRY_API_TOKEN'
      : anyAdminToken === undefined
        ? 'REGISTRY_ADMIN_TOKEN (REGISTRY_API_TOKEN is set)'
        : 'REGISTRY_API_TOKEN (REGISTRY_ADMIN_TOKEN is set)';
    problems.push(
      `HOST=${host} is not a loopback address: set ${missing} so that registry changes and sessions are ` +
        'authenticated (both are needed off loopback), or bind 127.0.0.1',
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

  const a2aAllowedHosts = read.list('A2A_ALLOWED_HOSTS').map((entry) => entry.toLowerCase());
  for (const entry of a2aAllowedHosts) {
    if (!isHostName(entry)) {
      problems.push(
        `A2A_ALLOWED_HOSTS entry "${entry}" must be a host name or an IP address (no scheme, port or path), ` +
          'such as agents.example.com or 127.0.0.1',
      );
    }
  }

  const config: Config = {
    port,
    host,
    dataDir: path.resolve(cwd, read.string('DATA_DIR', './data')),
    databaseUrl,
    adminToken,
    adminTokens,
    registryVersionsKept: read.number(
      'REGISTRY_VERSIONS_KEPT',
      50,
      { min: 1, max: 1_000_000 },
      'whole number',
    ),
    apiToken,
    readToken,
    rateLimitWritesPerMinute: read.number(
      'RATE_LIMIT_WRITES_PER_MINUTE',
      DEFAULT_RATE_LIMITS.writesPerMinute,
      { min: 0 },
      'whole number',
    ),
    rateLimitRoutingPerMinute: read.number(
      'RATE_LIMIT_ROUTING_PER_MINUTE',
      DEFAULT_RATE_LIMITS.routingPerMinute,
      { min: 0 },
      'whole number',
    ),
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
    routerLogQueries: read.boolean('ROUTER_LOG_QUERIES', true),
    routerDecisionsKept: read.number(
      'ROUTER_DECISIONS_KEPT',
      100_000,
      { min: 1, max: 100_000_000 },
      'whole number',
    ),
    probeIntervalSeconds: read.number('PROBE_INTERVAL_SECONDS', 600, { min: 0, max: 86_400 }, 'whole number'),
    probeCpuPercent: read.number('PROBE_CPU_PERCENT', 25, { min: 1, max: 100 }, 'whole number'),
    a2aAllowedHosts,
    a2aCardRefreshSeconds: read.number(
      'A2A_CARD_REFRESH_SECONDS',
      300,
      { min: 0, max: 86_400 },
      'whole number',
    ),
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

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A bare host: an IPv4 or IPv6 address (brackets optional) or a DNS name of letters, digits and hyphens. */
export function isHostName(value: string): boolean {
  const bare = value.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) !== 0) return true;
  if (value.length > 253) return false;
  return value.split('.').every((label) => HOST_LABEL.test(label));
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

  /** A bearer token: unset, or at least 16 characters. Its value never appears in a problem. */
  token(name: string): string | undefined {
    const value = this.optionalString(name);
    if (value !== undefined && value.length < 16) {
      this.problems.push(`${name} must be at least 16 characters long (use a random secret)`);
    }
    return value;
  }

  /**
   * `label:token,...`: labels are 1-64 letters, digits, `_`, `.` or `-`, distinct (and none of `taken`);
   * tokens as `token`. No value appears in a problem.
   */
  labelledTokens(name: string, taken: readonly string[]): { label: string; token: string }[] {
    const raw = this.optionalString(name);
    if (raw === undefined) return [];
    const entries: { label: string; token: string }[] = [];
    const labels = new Set(taken);
    for (const [index, item] of raw.split(',').entries()) {
      const entry = item.trim();
      const colon = entry.indexOf(':');
      const label = colon < 0 ? '' : entry.slice(0, colon).trim();
      const token = colon < 0 ? '' : entry.slice(colon + 1).trim();
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(label) || token === '') {
        this.problems.push(
          `${name} entry ${index + 1} must be label:token (label: 1-64 letters, digits, _ . -)`,
        );
      } else if (labels.has(label)) {
        this.problems.push(
          `${name} label "${label}" is used twice${taken.includes(label) ? ' (REGISTRY_ADMIN_TOKEN is "admin")' : ''}`,
        );
      } else if (token.length < 16) {
        this.problems.push(
          `${name} token of "${label}" must be at least 16 characters long (use a random secret)`,
        );
      } else {
        labels.add(label);
        entries.push({ label, token });
      }
    }
    return entries;
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

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    this.problems.push(`${name}="${raw}" must be true or false`);
    return fallback;
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
