/**
 * Regression tests for the inputs that once were acknowledged and then lost the registry at the next
 * restart (issue 8), and for the HTTP edge: stalled requests, the connection cap, the Host check and the
 * bounds on error messages. Each runs the real service on a real socket.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE_LENGTH } from '../../src/api/error-handler.js';
import { makeRecord } from '../support/records.js';
import { type RunningService, startService } from '../support/service.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('hostile-input-');
const DEMO = ['finops_agent', 'oxygen_agent', 'tickets_agent'];
const generic = (factoryParams: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  agent_type: 'generic',
  factory_module: 'jarvis_agent.mcp_agents.agent_factory',
  factory_function: 'create_generic_agent',
  factory_params: { name: 'hr_agent', description: 'Answers HR questions', ...factoryParams },
  ...extra,
});
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/**
 * Send `raw` (or `body`), expect a 400 whose message matches, and prove it changed nothing: the export is
 * byte for byte what it was, and after one more accepted change and a restart every agent is still there.
 */
async function expectRefusedAndHarmless(
  request: { method: string; route: string; raw?: string; body?: unknown },
  message: RegExp,
): Promise<void> {
  const dir = tempDir();
  const first = await startService({}, dir);
  const before = await exportText(first);
  const refused = await first.call(request.method, request.route, {
    ...(request.raw !== undefined && { raw: request.raw, headers: { 'content-type': 'application/json' } }),
    ...(request.body !== undefined && { body: request.body }),
  });
  expect(refused.status).toBe(400);
  expect(refused.body.error.code).toBe('validation_error');
  expect(refused.body.error.message).toMatch(message);
  expect(await exportText(first)).toBe(before);

  // The sequence that used to wipe the registry: one more change of any kind, then a restart.
  const disabled = await first.call('PATCH', '/registry/agents/oxygen_agent/status', {
    body: { enabled: false },
  });
  expect(disabled.status).toBe(200);
  const acknowledged = await exportText(first);
  await first.stop();
  const second = await startService({}, dir);
  expect(await exportText(second)).toBe(acknowledged);
  expect(Object.keys(JSON.parse(acknowledged).agents)).toEqual(DEMO);
  const health = await second.call('GET', '/health');
  expect(health.body.status).toBe('ok');
  expect(health.body.stores.registry.recovery).toEqual([]);
  expect(readdirSync(dir).filter((name) => /\.(corrupt|rejected)-/.test(name))).toEqual([]);
}

async function exportText(service: RunningService): Promise<string> {
  return (await fetch(`${service.url}/registry/export`)).text();
}

describe('inputs that were acknowledged and then lost the registry are refused with a 400', () => {
  it('an agent named constructor (the body name, and the agent’s own name)', async () => {
    await expectRefusedAndHarmless(
      { method: 'POST', route: '/registry/agents', body: generic({}, { name: 'constructor' }) },
      /Invalid agent name "constructor": it is reserved/,
    );
    await expectRefusedAndHarmless(
      { method: 'POST', route: '/registry/agents', body: generic({ name: 'constructor' }) },
      /Invalid agent name "constructor": it is reserved/,
    );
  });

  it('an agent named __proto__, prototype or toString', async () => {
    for (const name of ['__proto__', 'prototype', 'toString']) {
      await expectRefusedAndHarmless(
        { method: 'POST', route: '/registry/agents', body: generic({}, { name }) },
        new RegExp(`Invalid agent name "${name}": it is reserved`),
      );
    }
  });

  it('a forbidden key written with JSON escapes', async () => {
    await expectRefusedAndHarmless(
      {
        method: 'PUT',
        route: '/registry/agents/tickets_agent/capabilities',
        raw: '{"capabilities": {"\\u005f_proto__": {"x": 1}}}',
      },
      /forbidden key at \/capabilities\/__proto__/,
    );
  });

  it('a description over the 4,000 characters a record may hold', async () => {
    await expectRefusedAndHarmless(
      { method: 'POST', route: '/registry/agents', body: generic({ description: 'd'.repeat(4001) }) },
      /Invalid agent record "hr_agent": \/description .*4000/,
    );
  });

  it('an instruction over the 32,768-character string limit', async () => {
    await expectRefusedAndHarmless(
      { method: 'POST', route: '/registry/agents', body: generic({ instruction: 'i'.repeat(32_769) }) },
      /the string at \/factory_params\/instruction is 32769 characters long; the limit is 32768/,
    );
  });

  it('capabilities nested 4,500 levels deep (once a 500 from JSON.stringify)', async () => {
    await expectRefusedAndHarmless(
      {
        method: 'PUT',
        route: '/registry/agents/tickets_agent/capabilities',
        raw: `{"capabilities": ${nested(4500)}}`,
      },
      /nested deeper than the limit of 32 levels/,
    );
  });

  it('a number JSON cannot carry (1e400 was stored as null)', async () => {
    await expectRefusedAndHarmless(
      {
        method: 'PUT',
        route: '/registry/agents/tickets_agent/capabilities',
        raw: '{"capabilities":{"x":1e400}}',
      },
      /the number at \/capabilities\/x is out of range/,
    );
  });

  it('a record larger than 512 KiB', async () => {
    const examples = Array.from({ length: 400 }, (_, i) => `${i} ${'x'.repeat(1990)}`);
    await expectRefusedAndHarmless(
      {
        method: 'PUT',
        route: '/registry/agents/tickets_agent/capabilities',
        body: { capabilities: { examples } },
      },
      /Invalid agent record "tickets_agent": it is \d+ bytes as JSON; the limit is 524288 bytes/,
    );
  });

  it('words naming object internals in examples, capabilities and queries (once a crash at restart)', async () => {
    const dir = tempDir();
    const first = await startService({}, dir);
    const updated = await first.call('PUT', '/registry/agents/tickets_agent/capabilities', {
      body: {
        capabilities: { domains: 'constructor', examples: ['constructor', 'show the toString valueOf'] },
      },
    });
    expect(updated.status).toBe(200);
    const routed = await first.call('POST', '/registry/route', {
      body: { query: 'constructor hasOwnProperty' },
    });
    expect(routed.status).toBe(200);
    await first.stop();
    const second = await startService({}, dir);
    expect((await second.call('GET', '/registry/agents/tickets_agent')).body.capabilities.domains).toBe(
      'constructor',
    );
  });

  it('a user_id with an unpaired surrogate (it was silently altered)', async () => {
    const { call } = await startService();
    const refused = await call('POST', '/sessions', {
      raw: '{"user_id":"al\\ud800ice"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/\/user_id is not well-formed Unicode/);
    expect((await call('GET', '/sessions')).body.total).toBe(0);
  });
});

describe('a bad record at load never takes the registry down', () => {
  it('a file with one corrupt record loads every other agent, reports it, and keeps it for repair', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'registry_config.json');
    const agents = { good_agent: makeRecord('good_agent'), constructor: makeRecord('constructor') };
    const text = JSON.stringify({ version: '1.0.0', last_updated: '2026-01-02T00:00:00.000Z', agents });
    writeFileSync(file, text);
    const { call } = await startService({}, dir);

    expect((await call('GET', '/registry/agents')).body.agents.map((a: { name: string }) => a.name)).toEqual([
      'good_agent',
    ]);
    const health = (await call('GET', '/health')).body;
    expect(health.status).toBe('degraded');
    const copy = readdirSync(dir).find((name) => name.includes('.rejected-'))!;
    expect(readFileSync(path.join(dir, copy), 'utf8')).toBe(text);
    expect(health.stores.registry.recovery).toEqual([
      expect.objectContaining({
        action: 'records_set_aside',
        moved_to: path.join(dir, copy),
        records: [{ name: 'constructor', reason: expect.stringMatching(/reserved/) }],
      }),
    ]);
    expect(health.warnings).toEqual([
      `1 agent record(s) failed validation and were set aside in ${path.join(dir, copy)}: constructor`,
      expect.stringContaining('agent-registry repair'),
    ]);
  });

  it('a file and a backup that are both unreadable start empty and degraded, without the demo agents', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'registry_config.json'), '{"version": "1.0.0", "agents": {trunc');
    writeFileSync(path.join(dir, 'registry_config.json.backup'), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    const { call } = await startService({}, dir);
    expect((await call('GET', '/registry/agents')).body.total).toBe(0);
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.registry.loaded_from).toBe('empty');
    const moved = readdirSync(dir)
      .filter((name) => name.includes('.corrupt-'))
      .sort();
    expect(moved).toHaveLength(2);
    expect(health.body.warnings).toEqual([
      expect.stringContaining(`was unusable (not valid JSON`),
      expect.stringContaining(`was unusable (not valid JSON`),
      expect.stringContaining('agent-registry repair'),
    ]);
    for (const name of moved) expect(health.body.warnings.join('\n')).toContain(path.join(dir, name));
    expect(existsSync(path.join(dir, 'registry_config.json'))).toBe(false);
  });
});

/** A raw socket to the service, with its close awaited as an event (no timers in the test). */
function open(url: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(Number(port), hostname);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk) => {
      data += String(chunk);
    });
    socket.once('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

describe('the HTTP edge', () => {
  const TIMEOUTS = { HTTP_REQUEST_TIMEOUT_MS: '400', HTTP_HEADERS_TIMEOUT_MS: '300' };

  it('answers 408 and closes a connection whose body stalls after its headers', async () => {
    const service = await startService(TIMEOUTS);
    const { host } = new URL(service.url);
    const client = await open(service.url);
    client.socket.write(
      `POST /sessions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user_`,
    );
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(client.received()).toContain('"code":"timeout"');
    expect((await service.call('GET', '/sessions')).body.total).toBe(0);
  });

  it('answers 408 and closes a connection whose headers stall', async () => {
    const service = await startService(TIMEOUTS);
    const client = await open(service.url);
    client.socket.write('GET /registry/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a connection that never sends a request does not hold a graceful shutdown', async () => {
    const service = await startService();
    const silent = await open(service.url);
    const { host } = new URL(service.url);
    // And a keep-alive connection that already had its answer.
    expect((await rawStatus(service.url, 'GET /health', host, undefined)).status).toBe(200);
    await service.stop();
    await silent.closed;
    expect(silent.received()).toBe('');
  });

  it('refuses connections over HTTP_MAX_CONNECTIONS and serves again once one closes', async () => {
    const service = await startService({ HTTP_MAX_CONNECTIONS: '2' });
    const held = [await open(service.url), await open(service.url)];
    const third = await open(service.url);
    await third.closed;
    expect(third.received()).toBe('');
    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The server sees the close asynchronously: retry until the freed slot is seen (bounded, no sleeps).
    const { host } = new URL(service.url);
    let status = Number.NaN;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await rawStatus(service.url, 'GET /health', host, undefined)).status;
    }
    expect(status).toBe(200);
    held[1]!.socket.destroy();
  });

  it('on loopback without a token, answers only requests addressed to this machine on its port', async () => {
    const service = await startService();
    const { port } = new URL(service.url);
    const send = (host: string) =>
      rawStatus(service.url, 'PATCH /registry/agents/tickets_agent/status', host, '{"enabled":false}');
    const read = (host: string) =>
      rawStatus(service.url, 'GET /registry/agents/tickets_agent', host, undefined);
    expect(await send('evil.example.com')).toMatchObject({ status: 421, code: 'misdirected_request' });
    expect(await send(`evil.example.com:${port}`)).toMatchObject({ status: 421 });
    expect(await send(`127.0.0.1:${Number(port) + 1}`)).toMatchObject({ status: 421 });
    expect(await send(`localhost`)).toMatchObject({ status: 421 });
    expect((await service.call('GET', '/registry/agents/tickets_agent')).body.enabled).toBe(true);
    expect(await read('evil.example.com')).toMatchObject({ status: 421 });
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `registry.localhost:${port}`,
      `[::1]:${port}`,
    ]) {
      expect(await read(host)).toMatchObject({ status: 200 });
    }
    expect(await send(`LOCALHOST:${port}`)).toMatchObject({ status: 200 });
  });

  it('does not check Host when tokens guard the mutations and the sessions (a proxy may use any name)', async () => {
    const adminOnly = await startService({ REGISTRY_ADMIN_TOKEN: 'test-admin-token-0123456789' });
    // Sessions are still open without the API token: the rebinding protection stays.
    expect(
      await rawStatus(adminOnly.url, 'GET /registry/agents', 'registry.example.com', undefined),
    ).toMatchObject({ status: 421 });
    const service = await startService({
      REGISTRY_ADMIN_TOKEN: 'test-admin-token-0123456789',
      REGISTRY_API_TOKEN: 'test-api-token-0123456789',
    });
    expect(
      await rawStatus(service.url, 'GET /registry/agents', 'registry.example.com', undefined),
    ).toMatchObject({
      status: 200,
    });
  });

  it('bounds error messages and escapes control and bidirectional characters in them', async () => {
    const { call } = await startService();
    const keys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 0]));
    const many = await call('POST', '/sessions', { body: { user_id: 'a', ...keys } });
    expect(many.status).toBe(400);
    expect(many.body.error.message).toMatch(
      /^Invalid body: \(root\) has unknown field\(s\) "k0", "k1", .*"k7" \(and possibly more\)$/,
    );
    expect(JSON.stringify(many.body).length).toBeLessThan(MAX_ERROR_MESSAGE_LENGTH + 200);

    const sneaky = await call('POST', '/sessions', { body: { user_id: 'a', '\u202eevil\u001b[31m': 1 } });
    expect(sneaky.status).toBe(400);
    expect(sneaky.body.error.message).toContain('\\u202eevil\\u001b[31m');
    expect(sneaky.body.error.message).not.toContain('\u202e');
    expect(sneaky.body.error.message).not.toContain('\u001b');

    const long = await call('GET', `/${'x'.repeat(5000)}`);
    expect(long.status).toBe(404);
    expect(long.body.error.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH + 40);
    expect(long.body.error.message).toMatch(/… \(\d+ more characters\)$/);
  });
});

/** Send one request with a chosen Host header; the status and error code of the answer. */
async function rawStatus(url: string, requestLine: string, host: string, body: string | undefined) {
  const client = await open(url);
  const head = [`${requestLine} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  if (body !== undefined)
    head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
  client.socket.write(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`);
  await client.closed;
  const text = client.received();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
  return { status, code };
}
