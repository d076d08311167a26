/**
 * The card fetch's guards on their own: addresses never fetched, the allow-list, redirects, size and time
 * limits, DNS answers; the card checks; the a2a factory; A2A_ALLOWED_HOSTS parsing.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentNameFromCard, validateRemoteCard } from '../../src/a2a/agent-card.js';
import { CardFetcher } from '../../src/a2a/card-fetcher.js';
import { forbiddenAddressReason, HostGuard, normaliseAddress } from '../../src/a2a/host-guard.js';
import { remoteAgentFactory } from '../../src/a2a/remote-agent-factory.js';
import { loadConfig } from '../../src/config.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const guard = new HostGuard(['127.0.0.1', 'cards.test', '[::1]']);

async function refusal(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('addresses', () => {
  it.each([
    ['169.254.169.254', true],
    ['169.254.1.1', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['100.100.100.200', true],
    ['0.0.0.0', true],
    ['::', true],
    ['224.0.0.1', true],
    ['::ffff:169.254.169.254', true],
    ['::ffff:a9fe:a9fe', true],
    ['127.0.0.1', false],
    ['10.0.0.5', false],
    ['::1', false],
    ['93.184.216.34', false],
  ])('%s never fetched: %s', (address, never) => {
    expect(forbiddenAddressReason(address) !== undefined).toBe(never);
  });

  it('reads IPv4-mapped IPv6 as IPv4 and refuses what is not an address', () => {
    expect(normaliseAddress('[::FFFF:127.0.0.1]')).toEqual({ address: '127.0.0.1', family: 4 });
    expect(forbiddenAddressReason('not-an-ip')).toContain('not an IP address');
  });

  it('checks URLs against the allow-list', () => {
    expect(guard.checkUrl('http://[::1]:80/card').hostname).toBe('[::1]');
    expect(() => guard.checkUrl('http://user:pw@127.0.0.1/')).toThrow(/credentials/);
    expect(() => guard.checkUrl('not a url')).toThrow(/not a URL/);
    expect(() => new HostGuard([]).checkUrl('http://127.0.0.1/')).toThrow(/set A2A_ALLOWED_HOSTS/);
    expect(guard.allowedHosts).toEqual(['127.0.0.1', 'cards.test', '::1']);
  });
});

describe('CardFetcher', () => {
  it('refuses a name resolving to a metadata address among others, and unresolvable names', async () => {
    const mixed = new CardFetcher({
      guard,
      resolve: async () => [
        { address: '127.0.0.1', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
    });
    expect((await refusal(mixed.fetchJson('http://cards.test/card'))).code).toBe('host_not_allowed');
    const none = new CardFetcher({ guard, resolve: async () => [] });
    expect((await refusal(none.fetchJson('http://cards.test/card'))).message).toContain('no address');
    const failing = new CardFetcher({
      guard,
      resolve: async () => {
        throw new Error('ENOTFOUND');
      },
    });
    expect((await refusal(failing.fetchJson('http://cards.test/card'))).code).toBe('card_fetch_failed');
  });

  it('connects to the checked address, whatever the name', async () => {
    const base = await serve((_request, response) => response.end('{"ok": true}'));
    const fetcher = new CardFetcher({ guard, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const port = new URL(base).port;
    expect((await fetcher.fetchJson(`http://cards.test:${port}/card`)).body).toEqual({ ok: true });
  });

  it('stops after three redirects, and refuses a redirect without Location', async () => {
    const base = await serve((request, response) => {
      if (request.url === '/bare') {
        response.writeHead(302);
        response.end();
        return;
      }
      response.writeHead(302, { location: '/loop' });
      response.end();
    });
    const fetcher = new CardFetcher({ guard });
    expect((await refusal(fetcher.fetchJson(`${base}/loop`))).message).toContain('more than 3 redirects');
    expect((await refusal(fetcher.fetchJson(`${base}/bare`))).message).toContain('without a Location');
  });

  it('refuses a declared Content-Length over the limit before reading, and gives up at the deadline', async () => {
    const base = await serve((request, response) => {
      if (request.url === '/slow') return; // never answers
      response.writeHead(200, { 'content-length': '2048' });
      response.end('x'.repeat(2048));
    });
    const fetcher = new CardFetcher({ guard, maxBytes: 1024, timeoutMs: 200 });
    expect(fetcher.limits).toEqual({ maxBytes: 1024, timeoutMs: 200 });
    const big = await refusal(fetcher.fetchJson(`${base}/big`));
    expect(big.code).toBe('invalid_agent_card');
    const slow = await refusal(fetcher.fetchJson(`${base}/slow`));
    expect(slow.code).toBe('card_fetch_failed');
    expect(slow.message).toContain('longer than 200 ms');
  });
});

describe('cards', () => {
  const card = {
    protocolVersion: '0.3.0',
    name: 'Weather Agent',
    description: 'Weather',
    url: 'http://127.0.0.1:1/jsonrpc',
    version: '1',
    capabilities: {},
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [],
  };

  it('refuses other protocol versions, URLs that are not http, and names that cannot be made valid', () => {
    expect(() => validateRemoteCard({ ...card, protocolVersion: '1.0' }, 'x', guard)).toThrow(/0\.3\.0/);
    expect(() => validateRemoteCard({ ...card, url: 'ftp://127.0.0.1/' }, 'x', guard)).toThrow(
      expect.objectContaining({ code: 'invalid_agent_card' }),
    );
    expect(() =>
      validateRemoteCard(
        { ...card, additionalInterfaces: [{ url: 'http://10.0.0.1/', transport: 'JSONRPC' }] },
        'x',
        guard,
      ),
    ).toThrow(expect.objectContaining({ code: 'host_not_allowed' }));
    expect(agentNameFromCard({ ...card, name: '9 lives' } as never)).toBe('_9_lives');
    expect(() => agentNameFromCard({ ...card, name: 'user' } as never)).toThrow(/give "name"/);
  });

  it('the a2a factory refuses a record with an error, without a card, or naming a host not allowed', () => {
    const factory = remoteAgentFactory(guard);
    const context = { model: 'unused' };
    expect(() => factory({ error: 'down' }, context)).toThrow('down');
    expect(() => factory({ agent_name: 'w' }, context)).toThrow(/no agent card/);
    expect(() => factory({ agent_name: 'w', card: { ...card, url: 'http://evil.test/' } }, context)).toThrow(
      expect.objectContaining({ code: 'host_not_allowed' }),
    );
    expect((factory({ agent_name: 'w', card }, context) as { name: string }).name).toBe('w');
  });
});

describe('A2A_ALLOWED_HOSTS', () => {
  it('reads host names and addresses, lower-cased, and refuses URLs, ports and paths', () => {
    expect(loadConfig({ A2A_ALLOWED_HOSTS: 'Agents.Example.com, 127.0.0.1,[::1]' }).a2aAllowedHosts).toEqual([
      'agents.example.com',
      '127.0.0.1',
      '[::1]',
    ]);
    for (const bad of ['http://a.example', 'a.example:80', 'a.example/x', '-bad.example']) {
      expect(() => loadConfig({ A2A_ALLOWED_HOSTS: bad })).toThrow(/A2A_ALLOWED_HOSTS/);
    }
    expect(() => loadConfig({ A2A_CARD_REFRESH_SECONDS: '-1' })).toThrow(/A2A_CARD_REFRESH_SECONDS/);
  });
});
