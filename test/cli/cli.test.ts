/**
 * The `agent-registry` client commands against a real service process (on a temp DATA_DIR, with all three
 * tokens set): every command, tables and `--json`, exit codes 0 (success), 1 (API error) and 2 (usage),
 * `--help`, `import --dry-run` changing nothing, and `changes --follow` seeing a change made through the API.
 * Each scenario runs as the built command (`node dist/src/cli.js`) and again in this process (coverage).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCli, type CliRunner, ensureBuilt, inProcessCli } from '../support/built-cli.js';
import { call } from '../support/service.js';
import { freePort, type ServiceProcess, serveProcess } from '../support/service-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('cli-');
const ADMIN = 'admin-token-for-cli-tests';
const API = 'api-token-for-cli-tests';
const READ = 'read-token-for-cli-tests';

const ECHO = {
  agent_type: 'echo',
  factory_module: 'test_factories',
  factory_function: 'create_echo_agent',
};

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

describe.each([builtCli, inProcessCli])(
  'agent-registry client commands ($name)',
  (cli: CliRunner) => {
    let service: ServiceProcess;
    let env: Record<string, string>;
    let dir: string;
    const admin = { authorization: `Bearer ${ADMIN}` };
    const api = { authorization: `Bearer ${API}` };
    const run = (...args: string[]) => cli.run(args, env);
    const file = (name: string, content: unknown) => {
      const target = path.join(dir, name);
      writeFileSync(target, typeof content === 'string' ? content : JSON.stringify(content));
      return target;
    };
    const agentNames = async () =>
      (
        (await call(service.url, 'GET', '/registry/agents', { headers: admin })).body as {
          agents: { name: string }[];
        }
      ).agents.map((agent) => agent.name);

    let dataDir: string;
    beforeAll(async () => {
      // Kept for the whole describe block (useTempDirs removes its dirs after each test).
      dir = mkdtempSync(path.join(os.tmpdir(), 'cli-files-'));
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'cli-data-'));
      service = await serveProcess(dataDir, {
        REGISTRY_ADMIN_TOKEN: ADMIN,
        REGISTRY_API_TOKEN: API,
        REGISTRY_READ_TOKEN: READ,
      });
      env = {
        REGISTRY_URL: service.url,
        REGISTRY_ADMIN_TOKEN: ADMIN,
        REGISTRY_API_TOKEN: API,
        REGISTRY_READ_TOKEN: READ,
      };
    }, 60_000);
    afterAll(async () => {
      await service?.kill('SIGTERM');
      for (const each of [dir, dataDir]) rmSync(each, { recursive: true, force: true });
    });

    it('prints --help for every command and subcommand, and exits 2 on usage errors', async () => {
      for (const args of [
        ['agents', '--help'],
        ['agents', 'ls', '--help'],
        ['agents', 'show', '--help'],
        ['agents', 'register', '--help'],
        ['agents', 'update-capabilities', '-h'],
        ['agents', 'enable', '--help'],
        ['agents', 'disable', '--help'],
        ['agents', 'rm', '--help'],
        ['import', '--help'],
        ['sessions', '--help'],
        ['sessions', 'ls', '--help'],
        ['sessions', 'show', '--help'],
        ['sessions', 'cleanup', '--help'],
        ['route', '--help'],
        ['route', 'replay', '--help'],
        ['changes', '--help'],
      ]) {
        const help = await run(...args);
        expect(help.code, args.join(' ')).toBe(0);
        expect(help.stdout, args.join(' ')).toMatch(/^Usage: agent-registry /);
      }
      const usage = [
        [['agents'], /Usage: agent-registry agents/],
        [['agents', 'frob'], /unknown agents subcommand "frob"/],
        [['agents', 'ls', '--frob'], /Unknown option '--frob'.*agents ls --help/],
        [['agents', 'show'], /agents show needs <name>/],
        [['agents', 'rm', 'a', 'b'], /unexpected "b"/],
        [['sessions', 'ls', '--status', 'asleep'], /--status must be active, completed or expired/],
        [['sessions', 'ls', '--limit', '0'], /--limit must be a whole number 1..1000/],
        [['sessions', 'ls', '--offset', '1', '--cursor', 'c'], /--offset or --cursor, not both/],
        [['sessions', 'cleanup', '--days', 'soon'], /--days must be a number of days >= 0/],
        [['route'], /route needs "<query>"/],
        [['route', 'q', '--query', 'q'], /not both/],
        [['route', 'hello', '--top-k', '0'], /--top-k must be a whole number 1..50/],
        [['route', 'replay'], /route needs <change.json>/],
        [['changes', '--since', '-1'], /./],
        [['frobnicate'], /unknown command "frobnicate"|Unknown command "frobnicate"/],
        [['agents', 'ls', '--url', 'not a url'], /is not a URL/],
        [['agents', 'ls', '--url', 'ftp://127.0.0.1/'], /must be http/],
      ] as const;
      for (const [args, message] of usage) {
        const result = await run(...args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(message);
      }
    });

    it('agents: ls, show, register, update-capabilities, disable, enable, rm; tables and --json', async () => {
      const ls = await run('agents', 'ls');
      expect(ls.code).toBe(0);
      expect(ls.stdout.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+STATUS\s+ENABLED\s+TAGS$/);
      expect(ls.stdout).toMatch(/^tickets_agent\s+tickets\s+available\s+yes\s+demo,it,support$/m);
      expect(ls.stdout).toMatch(/^3 agents$/m);
      const listed = JSON.parse((await run('agents', 'ls', '--json')).stdout);
      expect(listed.total).toBe(3);
      expect(listed.agents.map((agent: { name: string }) => agent.name).sort()).toEqual([
        'finops_agent',
        'oxygen_agent',
        'tickets_agent',
      ]);
      expect((await run('agents', 'ls', '--tags', 'finance', '--json')).stdout).toContain('finops_agent');
      expect(JSON.parse((await run('agents', 'ls', '--tags', 'finance', '--json')).stdout).total).toBe(1);

      const show = await run('agents', 'show', 'tickets_agent');
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(
        /^factory\s+jarvis_agent\.mcp_agents\.agent_factory\.create_tickets_agent$/m,
      );
      expect(show.stdout).toContain('"show my open tickets"');
      expect(JSON.parse((await run('agents', 'show', 'tickets_agent', '--json')).stdout).name).toBe(
        'tickets_agent',
      );

      const registration = file('echo.json', {
        ...ECHO,
        factory_params: { name: 'cli_echo' },
        tags: ['cli'],
      });
      const registered = await run('agents', 'register', registration);
      expect(registered).toMatchObject({ code: 0, stdout: 'registered cli_echo\n' });
      const again = await run('agents', 'register', registration);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/409 \w+: .*cli_echo/);

      const capabilities = { examples: ['echo this back'], domain: 'testing' };
      expect(
        (await run('agents', 'update-capabilities', 'cli_echo', file('caps.json', capabilities))).code,
      ).toBe(0);
      const wrapped = file('wrapped.json', { capabilities: { examples: ['say it again'] } });
      const updated = await run('agents', 'update-capabilities', 'cli_echo', wrapped, '--json');
      expect(JSON.parse(updated.stdout)).toEqual({ status: 'updated' });
      const record = JSON.parse((await run('agents', 'show', 'cli_echo', '--json')).stdout);
      expect(record.capabilities).toEqual({ examples: ['say it again'] });

      expect(await run('agents', 'disable', 'cli_echo')).toMatchObject({
        code: 0,
        stdout: 'disabled cli_echo\n',
      });
      expect((await run('agents', 'ls')).stdout).toMatch(/^cli_echo\s+echo\s+available\s+no\s+cli$/m);
      expect(JSON.parse((await run('agents', 'ls', '--enabled-only', '--json')).stdout).total).toBe(3);
      expect(JSON.parse((await run('agents', 'enable', 'cli_echo', '--json')).stdout)).toEqual({
        status: 'enabled',
      });
      expect(await run('agents', 'rm', 'cli_echo')).toMatchObject({ code: 0, stdout: 'deleted cli_echo\n' });
      expect(await agentNames()).not.toContain('cli_echo');

      const missing = await run('agents', 'show', 'cli_echo');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/404 agent_not_found: /);
      expect(missing.stderr).toContain('error code: agent_not_found');
      expect((await run('agents', 'rm', 'cli_echo')).code).toBe(1);
      expect((await run('agents', 'enable', 'cli_echo')).code).toBe(1);
    });

    it('exits 2 on an unreadable, invalid or wrongly shaped file, and changes nothing', async () => {
      for (const args of [
        ['agents', 'register', path.join(dir, 'nope.json')],
        ['agents', 'register', file('bad.json', '{"agent_type": ')],
        ['agents', 'register', file('list.json', [ECHO])],
        ['agents', 'update-capabilities', 'tickets_agent', file('bad-caps.json', '[1]')],
        ['import', file('bad-import.json', { agents: [] })],
        [
          'import',
          file('dup-import.json', [
            { ...ECHO, name: 'x' },
            { ...ECHO, name: 'x' },
          ]),
        ],
        ['import', path.join(dir, 'nope.json')],
        ['route', 'replay', file('bad-change.json', { move: 'x' })],
        ['route', 'replay', file('not-object.json', '"x"')],
      ]) {
        const result = await run(...args);
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr).toMatch(/cannot read|not valid JSON|must|expected|appears twice|not an object/);
      }
      expect(await agentNames()).toEqual(['finops_agent', 'oxygen_agent', 'tickets_agent']);
    });

    it('honours the tokens: a mutating call without the admin token is an API error (exit 1)', async () => {
      const withoutAdmin = { ...env, REGISTRY_ADMIN_TOKEN: '' };
      const result = await cli.run(['agents', 'disable', 'tickets_agent'], withoutAdmin);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/401 \w+/);
      const noRead = await cli.run(['agents', 'ls'], { REGISTRY_URL: service.url });
      expect(noRead.code).toBe(1);
      expect(noRead.stderr).toMatch(/401/);
      const noApi = await cli.run(['sessions', 'ls'], { ...env, REGISTRY_API_TOKEN: '' });
      expect(noApi.code).toBe(1);
      expect(
        (await cli.run(['agents', 'ls', '--url', service.url], { REGISTRY_READ_TOKEN: READ })).code,
      ).toBe(0);
    });

    it('exits 1 when the service cannot be reached', async () => {
      const port = await freePort();
      const result = await run('agents', 'ls', '--url', `http://127.0.0.1:${port}`);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/cannot connect/);
      const exported = await run('export', '--url', `http://127.0.0.1:${port}`);
      expect(exported.code).toBe(1);
      expect(exported.stderr).toMatch(/registry\.export\(\) failed.*cannot connect/);
    });

    it('export asks the service with REGISTRY_URL; import --dry-run prints the diff and changes nothing', async () => {
      const exported = await run('export');
      expect(exported.code).toBe(0);
      const document = JSON.parse(exported.stdout);
      expect(document).toEqual((await call(service.url, 'GET', '/registry/export', { headers: admin })).body);

      document.agents.tickets_agent.capabilities = { examples: ['only this example'] };
      document.agents.oxygen_agent.enabled = false;
      document.agents.finops_agent.tags = ['changed'];
      document.agents.imported_echo = {
        ...ECHO,
        name: 'imported_echo',
        factory_params: { name: 'imported_echo' },
        capabilities: { examples: ['echo imported'] },
        tags: ['imported'],
        enabled: false,
      };
      const source = file('import.json', document);
      const before = (await call(service.url, 'GET', '/registry/export', { headers: admin })).body;

      const dry = await run('import', source, '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('+ register imported_echo (disabled)');
      expect(dry.stdout).toContain('~ update tickets_agent\n');
      expect(dry.stdout).toMatch(/^ {4}- capabilities\.examples: \["show my open tickets",/m);
      expect(dry.stdout).toContain('    + capabilities.examples: ["only this example"]\n');
      expect(dry.stdout).toMatch(/^ {4}- capabilities\.domains: /m);
      expect(dry.stdout).toContain('~ update oxygen_agent\n    enabled: true -> false');
      expect(dry.stdout).toMatch(/= unchanged finops_agent\n {4}! tags differs: not applied/);
      expect(dry.stdout).toContain('dry run: 1 to register, 2 to update, 1 unchanged; nothing was changed');
      const dryJson = JSON.parse((await run('import', source, '--dry-run', '--json')).stdout);
      expect(dryJson.summary).toEqual({ register: 1, update: 2, unchanged: 1 });
      expect(dryJson.dry_run).toBe(true);
      expect((await call(service.url, 'GET', '/registry/export', { headers: admin })).body).toEqual(before);

      const applied = await run('import', source, '--json');
      expect(applied.code).toBe(0);
      expect(JSON.parse(applied.stdout)).toMatchObject({ dry_run: false, failed: [] });
      const after = (await call(service.url, 'GET', '/registry/export', { headers: admin })).body as {
        agents: Record<string, { capabilities: unknown; enabled: boolean; tags: string[] }>;
      };
      expect(after.agents.tickets_agent?.capabilities).toEqual({ examples: ['only this example'] });
      expect(after.agents.oxygen_agent?.enabled).toBe(false);
      expect(after.agents.finops_agent?.tags).toEqual(before.agents.finops_agent.tags);
      expect(after.agents.imported_echo).toMatchObject({ enabled: false, tags: ['imported'] });

      const second = await run('import', source);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('0 to register, 0 to update, 4 unchanged');

      // A plain array works too; a registration the service rejects is reported and exits 1.
      const array = file('array.json', [
        { ...ECHO, name: 'array_echo', factory_params: { name: 'array_echo' } },
        { ...ECHO, name: 'bad name!' },
        { name: 'oxygen_agent', enabled: true },
      ]);
      const mixed = await run('import', array);
      expect(mixed.code).toBe(1);
      expect(mixed.stderr).toMatch(/400 validation_error/);
      expect(mixed.stdout).toContain('1 failed');
      expect(await agentNames()).toContain('array_echo');
      expect(
        (
          (await call(service.url, 'GET', '/registry/agents/oxygen_agent', { headers: admin })).body as {
            enabled: boolean;
          }
        ).enabled,
      ).toBe(true);
      for (const name of ['array_echo', 'imported_echo']) {
        await call(service.url, 'DELETE', `/registry/agents/${name}`, { headers: admin });
      }
      await call(service.url, 'PUT', '/registry/agents/tickets_agent/capabilities', {
        headers: admin,
        body: { capabilities: before.agents.tickets_agent.capabilities },
      });
    });

    it('sessions: ls with filters, show with invocations inline, cleanup (--dry-run first)', async () => {
      const create = async (user: string) =>
        (
          (await call(service.url, 'POST', '/sessions', { headers: api, body: { user_id: user } })).body as {
            session_id: string;
          }
        ).session_id;
      const user = `cli-${cli.name.replace(/\W/g, '')}`;
      const first = await create(user);
      const second = await create(user);
      await call(service.url, 'POST', `/sessions/${first}/history`, {
        headers: api,
        body: { role: 'user', content: 'show my open tickets' },
      });
      await call(service.url, 'POST', `/sessions/${first}/invocations`, {
        headers: api,
        body: {
          agent_name: 'tickets_agent',
          query: 'show my open tickets',
          response: '2 open',
          success: true,
          duration_ms: 42,
        },
      });
      await call(service.url, 'POST', `/sessions/${first}/invocations`, {
        headers: api,
        body: {
          agent_name: 'finops_agent',
          query: 'costs',
          success: false,
          error_message: 'boom',
          duration_ms: 7,
        },
      });
      await call(service.url, 'PATCH', `/sessions/${second}/status`, {
        headers: api,
        body: { status: 'completed' },
      });

      const ls = await run('sessions', 'ls', '--user', user);
      expect(ls.code).toBe(0);
      expect(ls.stdout.split('\n')[0]).toMatch(
        /^ID\s+USER\s+STATUS\s+UPDATED\s+MESSAGES\s+INVOCATIONS\s+LAST AGENT$/,
      );
      expect(ls.stdout).toContain('2 of 2 sessions');
      expect(ls.stdout).toMatch(new RegExp(`^${first}\\s+${user}\\s+active\\s+\\S+.*tickets_agent$`, 'm'));
      const completed = JSON.parse(
        (await run('sessions', 'ls', '--user', user, '--status', 'completed', '--json')).stdout,
      );
      expect(completed.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([second]);
      const paged = JSON.parse(
        (await run('sessions', 'ls', '--user', user, '--limit', '1', '--offset', '1', '--json')).stdout,
      );
      expect(paged.sessions).toHaveLength(1);
      expect(paged.total).toBe(2);

      const show = await run('sessions', 'show', first);
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(/conversation \(1 messages, 2 invocations\):/);
      expect(show.stdout).toMatch(
        /user: show my open tickets\n.*-> tickets_agent ok 42 ms: show my open tickets\n.*-> finops_agent error 7 ms: costs \(boom\)/,
      );
      expect(JSON.parse((await run('sessions', 'show', first, '--json')).stdout).agents_invoked).toHaveLength(
        2,
      );
      const missing = await run('sessions', 'show', '00000000-0000-4000-8000-000000000000');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('error code: session_not_found');

      const dry = await run('sessions', 'cleanup', '--days', '0', '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`would delete ${second}`);
      expect(dry.stdout).toContain('(dry run: nothing was changed)');
      expect((await call(service.url, 'GET', `/sessions/${second}`, { headers: api })).status).toBe(200);
      const cleaned = JSON.parse((await run('sessions', 'cleanup', '--days', '0', '--json')).stdout);
      expect(cleaned.deleted_sessions).toContain(second);
      expect(cleaned.expired_sessions).not.toContain(first);
      expect((await call(service.url, 'GET', `/sessions/${second}`, { headers: api })).status).toBe(404);
      expect((await call(service.url, 'GET', `/sessions/${first}`, { headers: api })).status).toBe(200);
      // A session idle longer than --idle-minutes (0.0001 min: less than starting the command takes) expires.
      const expired = await run('sessions', 'cleanup', '--idle-minutes', '0.0001');
      expect(expired.stdout).toContain(`expired ${first}`);
      expect(
        ((await call(service.url, 'GET', `/sessions/${first}`, { headers: api })).body as { status: string })
          .status,
      ).toBe('expired');
    });

    it('route: the candidates with scores and the selection, within a session, --json', async () => {
      const routed = await run('route', 'show my open tickets');
      expect(routed.code).toBe(0);
      expect(routed.stdout).toMatch(/^selected: tickets_agent$/m);
      expect(routed.stdout).toMatch(/^follow-up: no$/m);
      expect(routed.stdout).toMatch(/^CANDIDATE\s+SCORE\s+SELECTED\ntickets_agent\s+\d\.\d{3}\s+yes$/m);
      const asJson = JSON.parse(
        (await run('route', '--query', 'show my open tickets', '--top-k', '2', '--json')).stdout,
      );
      expect(asJson.selected).toEqual(['tickets_agent']);
      expect(asJson.candidates).toHaveLength(2);
      const missing = await run('route', 'show details', '--session', '00000000-0000-4000-8000-000000000000');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/session_not_found/);
    });

    it('route replay: replays the logged decisions against the service; an unknown agent is an API error', async () => {
      const result = await run('route', 'replay', file('change.json', { delete: 'tickets_agent' }));
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^replayed \d+ decisions: \d+ would change/m);
      const unknown = await run('route', 'replay', file('unknown.json', { delete: 'no_such_agent' }));
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('error code: agent_not_found');
    });

    it('changes: prints the current revision; --follow streams a change made through the API until Ctrl-C', async () => {
      const once = await run('changes');
      expect(once.code).toBe(0);
      expect(once.stdout).toMatch(/^revision \d+\n$/);
      const revision = Number(/\d+/.exec(once.stdout)?.[0]);
      await call(service.url, 'PATCH', '/registry/agents/oxygen_agent/status', {
        headers: admin,
        body: { enabled: false },
      });
      const since = await run('changes', '--since', String(revision), '--json');
      expect(JSON.parse(since.stdout).changes).toEqual([
        expect.objectContaining({ type: 'updated', agent_name: 'oxygen_agent' }),
      ]);

      const expired = await run('changes', '--since', '1');
      expect(expired.code).toBe(1);
      expect(expired.stderr).toContain('error code: history_expired');

      const follow = cli.start(['changes', '--follow'], env);
      await follow.waitForStderr((text) => text.includes('following the registry'));
      await call(service.url, 'PATCH', '/registry/agents/oxygen_agent/status', {
        headers: admin,
        body: { enabled: true },
      });
      const seen = await follow.waitForStdout((text) => /updated\s+oxygen_agent/.test(text));
      expect(seen).toMatch(/^\S+Z {2}updated {5}oxygen_agent {2}\(revision \d+\)$/m);
      const stopped = await follow.interrupt();
      expect(stopped.code).toBe(0);

      // A revision older than the kept history (history_expired): reload, then follow on.
      const reloading = cli.start(['changes', '--follow', '--since', '1', '--json'], env);
      const reloaded = await reloading.waitForStdout((text) => text.includes('"type":"reload"'));
      const reload = JSON.parse(reloaded.trim().split('\n')[0] ?? '');
      expect(reload).toMatchObject({ type: 'reload', since: 1 });
      expect(reload.agents.map((agent: { name: string }) => agent.name)).toContain('tickets_agent');
      await call(service.url, 'PATCH', '/registry/agents/oxygen_agent/status', {
        headers: admin,
        body: { enabled: false },
      });
      const next = await reloading.waitForStdout((text) => text.includes('"agent_name":"oxygen_agent"'));
      expect(next).toContain('"type":"updated"');
      expect((await reloading.interrupt()).code).toBe(0);
      const readable = cli.start(['changes', '--follow', '--since', '1'], env);
      const line = await readable.waitForStdout((text) => text.includes('reload:'));
      expect(line).toMatch(
        /^reload: the service no longer has the changes after revision 1; at revision \d+ the agents are: .*tickets_agent/m,
      );
      expect((await readable.interrupt()).code).toBe(0);
      await call(service.url, 'PATCH', '/registry/agents/oxygen_agent/status', {
        headers: admin,
        body: { enabled: true },
      });
    });
  },
  180_000,
);

describe.each([builtCli, inProcessCli])(
  'agent-registry route replay, success path ($name)',
  (cli) => {
    // A small server that answers as the contract says records exactly what the command sends (the real
    // endpoint's answers depend on the decision log; see the client commands' tests above).
    it('sends the change (with --since and --limit) and prints the summary', async () => {
      const received: unknown[] = [];
      const server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk) => {
          body += String(chunk);
        });
        request.on('end', () => {
          received.push({
            method: request.method,
            url: request.url,
            body: JSON.parse(body),
            auth: request.headers.authorization,
          });
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({
              replayed: 3,
              changed: [{ query: 'show my open tickets', before: ['tickets_agent'], after: [] }],
              summary: { moved: { 'tickets_agent->finops_agent': 1 }, newly_none: 1, newly_routed: 0 },
            }),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const dir = tempDir();
        const change = path.join(dir, 'change.json');
        writeFileSync(change, JSON.stringify({ delete: 'tickets_agent' }));
        const env = { REGISTRY_URL: url, REGISTRY_READ_TOKEN: READ, REGISTRY_ADMIN_TOKEN: ADMIN };
        const result = await cli.run(
          ['route', 'replay', change, '--since', '2026-01-01T00:00:00Z', '--limit', '10'],
          env,
        );
        expect(result.code).toBe(0);
        expect(result.stdout).toContain('replayed 3 decisions: 1 would change; 1 newly none, 0 newly routed');
        expect(result.stdout).toContain('moved tickets_agent->finops_agent: 1');
        expect(result.stdout).toMatch(/^show my open tickets\s+tickets_agent\s+\(none\)$/m);
        expect(received).toEqual([
          {
            method: 'POST',
            url: '/registry/route/replay',
            body: { change: { delete: 'tickets_agent' }, since: '2026-01-01T00:00:00Z', limit: 10 },
            auth: `Bearer ${ADMIN}`,
          },
        ]);
        const wrapped = path.join(dir, 'request.json');
        writeFileSync(
          wrapped,
          JSON.stringify({ change: { update: { name: 'a', capabilities: {} } }, limit: 5 }),
        );
        const asJson = await cli.run(['route', 'replay', wrapped, '--json'], env);
        expect(JSON.parse(asJson.stdout).replayed).toBe(3);
        expect((received[1] as { body: unknown }).body).toEqual({
          change: { update: { name: 'a', capabilities: {} } },
          limit: 5,
        });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  },
  120_000,
);

describe('agent-registry export (the built command)', () => {
  it('reads the storage without a service URL or with --storage, and refuses both --url and --storage', async () => {
    const dataDir = tempDir();
    const service = await serveProcess(dataDir);
    try {
      const env = { DATA_DIR: dataDir, REGISTRY_URL: '' };
      const fromStorage = await builtCli.run(['export'], env);
      expect(fromStorage.code).toBe(0);
      expect(Object.keys(JSON.parse(fromStorage.stdout).agents)).toHaveLength(3);
      const forced = await builtCli.run(['export', '--storage'], {
        ...env,
        REGISTRY_URL: 'http://127.0.0.1:1',
      });
      expect(JSON.parse(forced.stdout)).toEqual(JSON.parse(fromStorage.stdout));
      const viaService = await builtCli.run(['export', '--url', service.url], env);
      expect(JSON.parse(viaService.stdout).agents).toEqual(JSON.parse(fromStorage.stdout).agents);
      const both = await builtCli.run(['export', '--url', service.url, '--storage'], env);
      expect(both.code).toBe(2);
      const help = await builtCli.run(['export', '--help'], env);
      expect(help.stdout).toMatch(/^Usage: agent-registry export/);
      const top = await builtCli.run(['--help'], env);
      expect(top.stdout).toContain('agents ls | show <name>');
    } finally {
      await service.kill('SIGTERM');
    }
  });
}, 120_000);

describe.each([builtCli, inProcessCli])(
  'agent-registry sessions paging by cursor ($name)',
  (cli) => {
    // The cursor API is built on another branch; a small server answering as the contract says stands in.
    it('sessions ls prints the next cursor and passes --cursor through; cleanup follows the cursors', async () => {
      const seen: string[] = [];
      const summary = (id: string, status: string) => ({
        session_id: id,
        user_id: 'u',
        created_at: '2020-01-01T00:00:00.000Z',
        updated_at: '2020-01-01T00:00:00.000Z',
        status,
        metadata: {},
        last_agent_called: null,
        message_count: 2,
        invocation_count: 1,
      });
      const server = createServer((request, response) => {
        seen.push(`${request.method} ${request.url}`);
        const url = new URL(request.url ?? '/', 'http://x');
        const status = url.searchParams.get('status') ?? 'active';
        const second = url.searchParams.get('cursor') === 'page2';
        const body =
          request.method === 'GET'
            ? {
                sessions: [summary(`${status}-${second ? 2 : 1}`, status)],
                total: 2,
                next_cursor: second ? null : 'page2',
              }
            : { status: request.method === 'DELETE' ? 'deleted' : 'updated' };
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const env = { REGISTRY_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
        const first = await cli.run(['sessions', 'ls'], env);
        expect(first.code).toBe(0);
        expect(first.stdout).toMatch(/^active-1\s+u\s+active\s+\S+\s+2\s+1$/m);
        expect(first.stdout).toContain('next page: --cursor page2');
        const next = await cli.run(['sessions', 'ls', '--cursor', 'page2'], env);
        expect(next.stdout).toContain('active-2');
        expect(next.stdout).not.toContain('next page');
        expect(seen).toContain('GET /sessions?cursor=page2');
        const cleanup = await cli.run(['sessions', 'cleanup'], { ...env, SESSION_RETENTION_DAYS: '1' });
        expect(cleanup.code).toBe(0);
        for (const id of ['completed-1', 'completed-2', 'expired-1', 'expired-2']) {
          expect(cleanup.stdout).toContain(`deleted ${id}\n`);
        }
        expect(cleanup.stdout).toContain('expired active-1\n');
        expect(cleanup.stdout).toContain('expired active-2\n');
        expect(seen).toContain('DELETE /sessions/completed-2');
        expect(seen).toContain('PATCH /sessions/active-2/status');
        const badEnv = await cli.run(['sessions', 'cleanup'], { ...env, SESSION_RETENTION_DAYS: 'x' });
        expect(badEnv.code).toBe(2);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  },
  120_000,
);
