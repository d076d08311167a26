import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_FACTORY_ROOT, isLoopbackHost, loadConfig } from '../src/config.js';
import { AppError } from '../src/errors.js';

const load = (env: Record<string, string>, isTty = false) => loadConfig(env, { cwd: '/srv/app', isTty });

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('config_error');
    return (error as AppError).details as string[];
  }
  throw new Error('expected loadConfig to refuse');
}

describe('loadConfig', () => {
  it('has the documented defaults and is frozen', () => {
    const config = load({});
    expect(config).toEqual({
      port: 8003,
      host: '127.0.0.1',
      dataDir: '/srv/app/data',
      databaseUrl: undefined,
      adminToken: undefined,
      adminTokens: [],
      registryVersionsKept: 50,
      apiToken: undefined,
      readToken: undefined,
      rateLimitWritesPerMinute: 6000,
      rateLimitRoutingPerMinute: 12_000,
      agentFactoryRoots: [DEFAULT_AGENT_FACTORY_ROOT],
      agentFactoryPackages: [],
      corsOrigins: [],
      googleApiKey: undefined,
      geminiModel: 'gemini-2.5-flash',
      jarvisPort: 9999,
      registryUrl: 'http://127.0.0.1:8003',
      logLevel: 'info',
      logFormat: 'json',
      sqliteSynchronous: 'FULL',
      sessionRetentionDays: 7,
      sessionIdleTimeoutMinutes: 1440,
      sessionCleanupIntervalMinutes: 60,
      routerContextTtlSeconds: 1800,
      routerLlmTimeoutMs: 5000,
      httpRequestTimeoutMs: 30_000,
      httpHeadersTimeoutMs: 10_000,
      httpMaxConnections: 1024,
      routerMinConfidence: undefined,
      routerLogQueries: true,
      routerDecisionsKept: 100_000,
      probeIntervalSeconds: 600,
      probeCpuPercent: 25,
      a2aAllowedHosts: [],
      a2aCardRefreshSeconds: 300,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(DEFAULT_AGENT_FACTORY_ROOT.endsWith(path.join('jarvis_agent', 'mcp_agents'))).toBe(true);
    expect(load({}, true).logFormat).toBe('pretty');
  });

  it('reads every variable', () => {
    const config = load({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATA_DIR: 'var/registry',
      DATABASE_URL: 'postgres://db/registry',
      REGISTRY_ADMIN_TOKEN: 'a-long-random-secret',
      REGISTRY_API_TOKEN: 'another-long-random-secret',
      REGISTRY_READ_TOKEN: 'a-third-long-random-secret',
      RATE_LIMIT_WRITES_PER_MINUTE: '120',
      RATE_LIMIT_ROUTING_PER_MINUTE: '0',
      AGENT_FACTORY_ROOTS: `agents${path.delimiter}/opt/agents, more`,
      AGENT_FACTORY_PACKAGES: '@acme/agents, team-agents',
      CORS_ORIGINS: 'https://admin.example.com,http://localhost:5173',
      GOOGLE_API_KEY: 'key',
      GEMINI_MODEL: 'gemini-2.5-pro',
      JARVIS_PORT: '9100',
      REGISTRY_URL: 'https://registry.internal/',
      LOG_LEVEL: 'DEBUG',
      LOG_FORMAT: 'pretty',
      SQLITE_SYNCHRONOUS: 'normal',
      SESSION_RETENTION_DAYS: '30',
      SESSION_IDLE_TIMEOUT_MINUTES: '15',
      SESSION_CLEANUP_INTERVAL_MINUTES: '0',
      ROUTER_CONTEXT_TTL_SECONDS: '90',
      HTTP_REQUEST_TIMEOUT_MS: '5000',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_MAX_CONNECTIONS: '64',
      ROUTER_MIN_CONFIDENCE: '0.35',
      ROUTER_LOG_QUERIES: 'false',
      ROUTER_DECISIONS_KEPT: '5000',
      PROBE_INTERVAL_SECONDS: '0',
      PROBE_CPU_PERCENT: '100',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/srv/app/var/registry',
      adminToken: 'a-long-random-secret',
      apiToken: 'another-long-random-secret',
      readToken: 'a-third-long-random-secret',
      rateLimitWritesPerMinute: 120,
      rateLimitRoutingPerMinute: 0,
      databaseUrl: 'postgres://db/registry',
      agentFactoryRoots: ['/srv/app/agents', '/opt/agents', '/srv/app/more'],
      agentFactoryPackages: ['@acme/agents', 'team-agents'],
      corsOrigins: ['https://admin.example.com', 'http://localhost:5173'],
      registryUrl: 'https://registry.internal',
      logLevel: 'debug',
      sqliteSynchronous: 'NORMAL',
      sessionCleanupIntervalMinutes: 0,
      routerContextTtlSeconds: 90,
      httpRequestTimeoutMs: 5000,
      httpHeadersTimeoutMs: 2000,
      httpMaxConnections: 64,
      routerMinConfidence: 0.35,
      routerLogQueries: false,
      routerDecisionsKept: 5000,
      probeIntervalSeconds: 0,
      probeCpuPercent: 100,
    });
  });

  it('refuses invalid values, naming every bad variable at once', () => {
    const found = problems({
      PORT: '80a',
      JARVIS_PORT: '70000',
      LOG_LEVEL: 'verbose',
      SESSION_RETENTION_DAYS: '-1',
      SESSION_IDLE_TIMEOUT_MINUTES: 'soon',
      DATABASE_URL: 'mysql://db',
      REGISTRY_URL: 'ftp://x',
      CORS_ORIGINS: 'not an origin',
      HTTP_MAX_CONNECTIONS: '1.5',
      ROUTER_MIN_CONFIDENCE: '1.5',
      RATE_LIMIT_WRITES_PER_MINUTE: '-5',
      RATE_LIMIT_ROUTING_PER_MINUTE: 'lots',
      ROUTER_LOG_QUERIES: 'maybe',
      ROUTER_DECISIONS_KEPT: '0',
      PROBE_INTERVAL_SECONDS: '-1',
      PROBE_CPU_PERCENT: '0',
    });
    expect([...found].sort()).toEqual(
      [
        'PORT="80a" must be a port number between 0 and 65535',
        'DATABASE_URL must be a postgres:// or postgresql:// URL',
        'REGISTRY_URL must be an http:// or https:// URL',
        'CORS_ORIGINS entry "not an origin" must be an origin such as https://admin.example.com',
        'SESSION_RETENTION_DAYS="-1" must be a number >= 0',
        'SESSION_IDLE_TIMEOUT_MINUTES="soon" must be a number >= 1',
        'JARVIS_PORT="70000" must be a port number between 0 and 65535',
        'LOG_LEVEL="verbose" must be one of fatal, error, warn, info, debug, trace, silent',
        'HTTP_MAX_CONNECTIONS="1.5" must be a whole number >= 1 and <= 1000000',
        'ROUTER_MIN_CONFIDENCE="1.5" must be a number >= 0 and <= 1',
        'RATE_LIMIT_WRITES_PER_MINUTE="-5" must be a whole number >= 0',
        'RATE_LIMIT_ROUTING_PER_MINUTE="lots" must be a whole number >= 0',
        'ROUTER_LOG_QUERIES="maybe" must be true or false',
        'ROUTER_DECISIONS_KEPT="0" must be a whole number >= 1 and <= 100000000',
        'PROBE_INTERVAL_SECONDS="-1" must be a whole number >= 0 and <= 86400',
        'PROBE_CPU_PERCENT="0" must be a whole number >= 1 and <= 100',
      ].sort(),
    );
    expect(problems({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS (2000) must not be larger than HTTP_REQUEST_TIMEOUT_MS (1000)',
    ]);
  });

  it('refuses a non-loopback HOST without both the admin and the API token, and short tokens', () => {
    const admin = 'an-admin-secret-0123456789';
    const api = 'an-api-secret-0123456789';
    expect(problems({ HOST: '0.0.0.0' })).toEqual([
      'HOST=0.0.0.0 is not a loopback address: set REGISTRY_ADMIN_TOKEN and REGISTRY_API_TOKEN so that ' +
        'registry changes and sessions are authenticated (both are needed off loopback), or bind 127.0.0.1',
    ]);
    expect(problems({ HOST: '10.0.0.5', REGISTRY_ADMIN_TOKEN: admin })[0]).toMatch(
      /^HOST=10\.0\.0\.5 is not a loopback address: set REGISTRY_API_TOKEN \(REGISTRY_ADMIN_TOKEN is set\)/,
    );
    expect(problems({ HOST: '::', REGISTRY_API_TOKEN: api })[0]).toMatch(
      /^HOST=:: is not a loopback address: set REGISTRY_ADMIN_TOKEN \(REGISTRY_API_TOKEN is set\)/,
    );
    expect(load({ HOST: '0.0.0.0', REGISTRY_ADMIN_TOKEN: admin, REGISTRY_API_TOKEN: api }).host).toBe(
      '0.0.0.0',
    );
    expect(
      problems({ REGISTRY_ADMIN_TOKEN: 'short', REGISTRY_API_TOKEN: 'tiny', REGISTRY_READ_TOKEN: 'x' }),
    ).toEqual([
      'REGISTRY_ADMIN_TOKEN must be at least 16 characters long (use a random secret)',
      'REGISTRY_API_TOKEN must be at least 16 characters long (use a random secret)',
      'REGISTRY_READ_TOKEN must be at least 16 characters long (use a random secret)',
    ]);
    expect(load({ HOST: 'localhost' }).host).toBe('localhost');
  });

  it('refuses one secret for two tokens, without printing it', () => {
    const found = problems({
      REGISTRY_ADMIN_TOKEN: 'the-same-secret-0123',
      REGISTRY_READ_TOKEN: 'the-same-secret-0123',
    });
    expect(found).toEqual(['REGISTRY_ADMIN_TOKEN and REGISTRY_READ_TOKEN must be different secrets']);
    expect(found.join('')).not.toContain('the-same-secret');
  });

  it('reads labelled admin tokens and the versions kept, refusing bad ones without printing a token', () => {
    const config = load({
      REGISTRY_ADMIN_TOKEN: 'an-admin-secret-0123456789',
      REGISTRY_ADMIN_TOKENS: ' ops:an-ops-secret-0123456789 , ci.bot:a-ci-secret-0123456789',
      REGISTRY_VERSIONS_KEPT: '7',
    });
    expect(config.adminTokens).toEqual([
      { label: 'ops', token: 'an-ops-secret-0123456789' },
      { label: 'ci.bot', token: 'a-ci-secret-0123456789' },
    ]);
    expect(config.registryVersionsKept).toBe(7);
    // Labelled tokens alone are admin tokens off loopback too.
    expect(
      load({
        HOST: '0.0.0.0',
        REGISTRY_ADMIN_TOKENS: 'ops:an-ops-secret-0123456789',
        REGISTRY_API_TOKEN: 'an-api-secret-0123456789',
      }).host,
    ).toBe('0.0.0.0');
    const found = problems({
      REGISTRY_ADMIN_TOKEN: 'an-admin-secret-0123456789',
      REGISTRY_ADMIN_TOKENS:
        'no-colon-secret-0123456789,bad label:a-secret-0123456789,admin:another-secret-0123456,ops:short,' +
        'ops2:an-admin-secret-0123456789,ops3:x-secret-0123456789,ops3:y-secret-0123456789',
      REGISTRY_VERSIONS_KEPT: '0',
    });
    expect(found).toEqual([
      'REGISTRY_ADMIN_TOKENS entry 1 must be label:token (label: 1-64 letters, digits, _ . -)',
      'REGISTRY_ADMIN_TOKENS entry 2 must be label:token (label: 1-64 letters, digits, _ . -)',
      'REGISTRY_ADMIN_TOKENS label "admin" is used twice (REGISTRY_ADMIN_TOKEN is "admin")',
      'REGISTRY_ADMIN_TOKENS token of "ops" must be at least 16 characters long (use a random secret)',
      'REGISTRY_ADMIN_TOKENS label "ops3" is used twice',
      'REGISTRY_ADMIN_TOKEN and REGISTRY_ADMIN_TOKENS (ops2) must be different secrets',
      'REGISTRY_VERSIONS_KEPT="0" must be a whole number >= 1 and <= 1000000',
    ]);
    expect(found.join('')).not.toContain('secret-0123');
    expect(problems({ REGISTRY_VERSIONS_KEPT: 'many' })).toHaveLength(1);
  });

  it('the error message lists the problems for the operator', () => {
    expect(() => load({ PORT: 'x' })).toThrow('Invalid configuration:\n  - PORT="x" must be a port number');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.10.0.1', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['example.com', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
