import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { acceptsGzip } from '../../src/api/conditional-get.js';
import { startService } from '../support/service.js';

const TICKETS = {
  agent_type: 'tickets',
  factory_module: 'jarvis_agent.mcp_agents.agent_factory',
  factory_function: 'create_tickets_agent',
};
const echo = (name: string, extra: Record<string, unknown> = {}) => ({
  agent_type: 'echo',
  factory_module: 'test_factories',
  factory_function: 'create_echo_agent',
  factory_params: { name, topic: 'billing questions' },
  capabilities: { examples: ['what do I owe', 'send me my invoice'] },
  tags: ['billing'],
  ...extra,
});

describe('GET /registry/agents', () => {
  it('lists the demo agents registered on the first start, with every field', async () => {
    const { call } = await startService();
    const { status, body } = await call('GET', '/registry/agents');
    expect(status).toBe(200);
    expect(body.total).toBe(3);
    expect(body.agents.map((agent: { name: string }) => agent.name)).toEqual([
      'finops_agent',
      'oxygen_agent',
      'tickets_agent',
    ]);
    const tickets = body.agents[2];
    expect(Object.keys(tickets).sort()).toEqual(
      [
        'agent_type',
        'capabilities',
        'description',
        'enabled',
        'factory_function',
        'factory_module',
        'factory_params',
        'name',
        'probe',
        'registered_at',
        'status',
        'tags',
        'updated_at',
      ].sort(),
    );
    expect(tickets).toMatchObject({ ...TICKETS, status: 'available', enabled: true, factory_params: {} });
    expect(tickets.capabilities.examples.length).toBeGreaterThan(5);
  });

  it('filters by enabled_only and by tags (agents having all of them)', async () => {
    const { call } = await startService();
    await call('POST', '/registry/agents', { body: echo('billing_agent', { tags: ['billing', 'beta'] }) });
    await call('POST', '/registry/agents', { body: echo('legal_agent', { tags: ['beta'], enabled: false }) });
    const names = async (query: string) =>
      (await call('GET', `/registry/agents${query}`)).body.agents.map(
        (agent: { name: string }) => agent.name,
      );
    expect(await names('?tags=beta')).toEqual(['billing_agent', 'legal_agent']);
    expect(await names('?tags=beta,billing')).toEqual(['billing_agent']);
    expect(await names('?tags=beta&enabled_only=true')).toEqual(['billing_agent']);
    expect(await names('?enabled_only=false')).toHaveLength(5);
    expect((await call('GET', '/registry/agents?enabled_only=maybe')).status).toBe(400);
    expect((await call('GET', '/registry/agents?color=red')).status).toBe(400);
  });

  it('answers 304 to If-None-Match with the current ETag, and changes the ETag on every change', async () => {
    const { call, service } = await startService();
    // The first probe run after start changes what the list reports (and so its ETag): done before reading.
    await service.probes.runNow();
    const first = await call('GET', '/registry/agents');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await call('GET', '/registry/agents', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.get('content-length')).toBeNull();
    expect(again.headers.get('content-type')).toBeNull();
    await call('PATCH', '/registry/agents/oxygen_agent/status', { body: { enabled: false } });
    const changed = await call('GET', '/registry/agents', { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.body.agents.find((agent: { name: string }) => agent.name === 'oxygen_agent').enabled).toBe(
      false,
    );
  });
});

describe('GET /registry/agents compression', () => {
  it('serves the list gzipped to clients that accept it, identical once decompressed', async () => {
    const { url } = await startService();
    const plain = await fetch(`${url}/registry/agents`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    const plainText = await plain.text();
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      get(`${url}/registry/agents`, { headers: { 'accept-encoding': 'br;q=1, gzip;q=0.8' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers.vary).toMatch(/accept-encoding/i);
    expect(raw.body.length).toBeLessThan(Buffer.byteLength(plainText) / 2);
    expect(gunzipSync(raw.body).toString('utf8')).toBe(plainText);
  });

  it.each([
    [undefined, false],
    ['gzip', true],
    ['deflate, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['*', true],
    ['br', false],
  ])('Accept-Encoding %s -> gzip %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('GET /registry/agents/{agent_name}', () => {
  it('returns one agent, 404 for an unknown name and 400 for a name that cannot exist', async () => {
    const { call } = await startService();
    const found = await call('GET', '/registry/agents/finops_agent');
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ name: 'finops_agent', agent_type: 'finops', status: 'available' });
    const missing = await call('GET', '/registry/agents/payroll_agent');
    expect(missing).toMatchObject({
      status: 404,
      body: { error: { code: 'agent_not_found', message: 'No agent named "payroll_agent" is registered' } },
    });
    const invalid = await call('GET', '/registry/agents/bad%20name');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('validation_error');
  });
});

describe('POST /registry/agents', () => {
  it("accepts the seed's example config verbatim (and refuses it again as a duplicate)", async () => {
    const { call } = await startService();
    await call('DELETE', '/registry/agents/tickets_agent');
    const created = await call('POST', '/registry/agents', { body: TICKETS });
    expect(created).toMatchObject({
      status: 201,
      body: { status: 'registered', agent_name: 'tickets_agent' },
    });
    const duplicate = await call('POST', '/registry/agents', { body: TICKETS });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('agent_exists');
  });

  it('registers a generic agent from factory_params, durably, under the name the body gives', async () => {
    const { call, dataDir } = await startService();
    const created = await call('POST', '/registry/agents', {
      body: {
        agent_type: 'generic',
        factory_module: 'jarvis_agent.mcp_agents.agent_factory',
        factory_function: 'create_generic_agent',
        factory_params: { name: 'hr_agent', description: 'Answers HR policy questions' },
        capabilities: { examples: ['how many vacation days do I have'] },
        tags: ['hr'],
      },
    });
    expect(created.body).toEqual({
      status: 'registered',
      agent_name: 'hr_agent',
      overlaps: expect.any(Array),
    });
    const renamed = await call('POST', '/registry/agents', { body: echo('x', { name: 'renamed_agent' }) });
    expect(renamed.body.agent_name).toBe('renamed_agent');

    const onDisk = JSON.parse(readFileSync(path.join(dataDir, 'registry_config.json'), 'utf8'));
    expect(onDisk.agents.hr_agent).toMatchObject({
      description: 'Answers HR policy questions',
      factory_params: { name: 'hr_agent', description: 'Answers HR policy questions' },
      tags: ['hr'],
    });
    expect(Object.keys(onDisk.agents)).toContain('renamed_agent');
  });

  const refusals: [string, unknown, number, string, RegExp][] = [
    ['an unknown field', { ...TICKETS, owner: 'me' }, 400, 'validation_error', /unknown field\(s\) "owner"/],
    [
      'a missing field',
      { agent_type: 'x', factory_module: 'm' },
      400,
      'validation_error',
      /factory_function/,
    ],
    ['a wrong type', { ...echo('typed'), enabled: 'yes' }, 400, 'validation_error', /\/enabled/],
    [
      'examples that are not strings',
      { ...echo('ex'), capabilities: { examples: 'show tickets' } },
      400,
      'validation_error',
      /examples/,
    ],
    [
      'a module outside the roots',
      { ...TICKETS, factory_module: '../../../etc/passwd' },
      400,
      'factory_not_allowed',
      /outside the factory roots|not allowed/,
    ],
    [
      'a data: URL',
      { ...TICKETS, factory_module: 'data:text/javascript,process.exit(1)' },
      400,
      'factory_not_allowed',
      /URL specifiers/,
    ],
    [
      'node:child_process',
      { ...TICKETS, factory_module: 'node:child_process', factory_function: 'execSync' },
      400,
      'factory_not_allowed',
      /built-in/,
    ],
    [
      'a module that does not exist',
      { ...TICKETS, factory_module: 'jarvis_agent.mcp_agents.nope' },
      400,
      'factory_module_not_found',
      /AGENT_FACTORY_ROOTS/,
    ],
    [
      'a function that does not exist',
      { ...TICKETS, factory_function: 'create_payroll_agent' },
      400,
      'factory_function_not_found',
      /create_tickets_agent/,
    ],
    [
      '__proto__ as factory function',
      { ...TICKETS, factory_function: '__proto__' },
      400,
      'factory_not_allowed',
      /own exported functions/,
    ],
    [
      'a factory that throws',
      echo('x', { factory_function: 'create_failing_agent' }),
      400,
      'factory_failed',
      /backing service is down/,
    ],
    [
      'bad generic params',
      { ...TICKETS, factory_function: 'create_generic_agent', factory_params: { name: 'x' } },
      400,
      'factory_failed',
      /description/,
    ],
  ];
  for (const [what, body, status, code, message] of refusals) {
    it(`refuses ${what} with ${status} ${code}, writing nothing`, async () => {
      const { call, dataDir } = await startService();
      const file = path.join(dataDir, 'registry_config.json');
      const before = readFileSync(file);
      const response = await call('POST', '/registry/agents', { body });
      expect(response.status).toBe(status);
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.message).toMatch(message);
      expect(readFileSync(file)).toEqual(before);
    });
  }
});

describe('PUT /registry/agents/{agent_name}/capabilities', () => {
  it('replaces the capabilities, and the router learns the new examples', async () => {
    const { call } = await startService();
    await call('POST', '/registry/agents', { body: echo('billing_agent') });
    const query = 'reimburse my taxi receipt from the airport';
    const updated = await call('PUT', '/registry/agents/billing_agent/capabilities', {
      body: {
        capabilities: {
          domains: ['expenses'],
          examples: [query, 'submit an expense report', 'get my travel costs refunded'],
        },
      },
    });
    expect(updated).toMatchObject({ status: 200, body: { status: 'updated' } });
    const agent = await call('GET', '/registry/agents/billing_agent');
    expect(agent.body.capabilities).toEqual({
      domains: ['expenses'],
      examples: [query, 'submit an expense report', 'get my travel costs refunded'],
    });
    const routed = await call('POST', '/registry/route', { body: { query } });
    expect(routed.body.selected).toEqual(['billing_agent']);
  });

  it('refuses an unknown agent (404) and invalid capabilities (400)', async () => {
    const { call } = await startService();
    expect(
      (await call('PUT', '/registry/agents/ghost_agent/capabilities', { body: { capabilities: {} } })).status,
    ).toBe(404);
    const bad = await call('PUT', '/registry/agents/tickets_agent/capabilities', {
      body: { capabilities: { examples: [1] } },
    });
    expect(bad.status).toBe(400);
    expect(
      (await call('PUT', '/registry/agents/tickets_agent/capabilities', { body: { examples: [] } })).status,
    ).toBe(400);
  });
});

describe('PATCH /registry/agents/{agent_name}/status and DELETE', () => {
  it('disables and enables; a disabled agent is never selected', async () => {
    const { call } = await startService();
    expect(
      (await call('PATCH', '/registry/agents/tickets_agent/status', { body: { enabled: false } })).body,
    ).toEqual({
      status: 'disabled',
    });
    const routed = await call('POST', '/registry/route', { body: { query: 'show my open tickets' } });
    expect(routed.body.selected).not.toContain('tickets_agent');
    expect(routed.body.candidates.map((c: { name: string }) => c.name)).not.toContain('tickets_agent');
    expect(
      (await call('PATCH', '/registry/agents/tickets_agent/status', { body: { enabled: true } })).body,
    ).toEqual({
      status: 'enabled',
    });
    const back = await call('POST', '/registry/route', { body: { query: 'show my open tickets' } });
    expect(back.body.selected).toEqual(['tickets_agent']);
    expect(
      (await call('PATCH', '/registry/agents/tickets_agent/status', { body: { enabled: 'false' } })).status,
    ).toBe(400);
    expect((await call('PATCH', '/registry/agents/nobody/status', { body: { enabled: true } })).status).toBe(
      404,
    );
  });

  it('deletes an agent; it is gone from reads, routing and the file', async () => {
    const { call, dataDir } = await startService();
    expect((await call('DELETE', '/registry/agents/finops_agent')).body).toEqual({ status: 'deleted' });
    expect((await call('GET', '/registry/agents/finops_agent')).status).toBe(404);
    expect((await call('DELETE', '/registry/agents/finops_agent')).status).toBe(404);
    const onDisk = JSON.parse(readFileSync(path.join(dataDir, 'registry_config.json'), 'utf8'));
    expect(Object.keys(onDisk.agents)).toEqual(['oxygen_agent', 'tickets_agent']);
  });
});

describe('GET /registry/export', () => {
  it('returns the registry in the file format, record for record', async () => {
    const { call, dataDir } = await startService();
    const { status, body } = await call('GET', '/registry/export');
    expect(status).toBe(200);
    const onDisk = JSON.parse(readFileSync(path.join(dataDir, 'registry_config.json'), 'utf8'));
    expect(Object.keys(body)).toEqual(['version', 'last_updated', 'agents']);
    expect(body.version).toBe('1.0.0');
    expect(body.agents).toEqual(onDisk.agents);
  });
});
