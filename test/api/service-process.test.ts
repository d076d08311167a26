import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { exited, lines, spawnTs } from '../support/child-process.js';
import { call } from '../support/service.js';
import { CLI, freePort, serveProcess } from '../support/service-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('service-process-');
const serve = serveProcess;

describe('agent-registry serve (a real process)', () => {
  it('keeps agents and sessions across SIGKILL and a restart on the same data dir', async () => {
    const dataDir = tempDir();
    const first = await serve(dataDir);
    expect(first.summary.msg).toMatch(
      new RegExp(`listening on ${first.url} \\(data ${dataDir}, 3 agents; docs ${first.url}/docs\\)`),
    );
    expect(first.summary).toMatchObject({
      address: first.url,
      data_dir: dataDir,
      agents: 3,
      docs: `${first.url}/docs`,
    });

    const registered = await call(first.url, 'POST', '/registry/agents', {
      body: {
        agent_type: 'echo',
        factory_module: 'test_factories',
        factory_function: 'create_echo_agent',
        factory_params: { name: 'survivor' },
      },
    });
    expect(registered.status).toBe(201);
    await call(first.url, 'PATCH', '/registry/agents/oxygen_agent/status', { body: { enabled: false } });
    const sessionId = (await call(first.url, 'POST', '/sessions', { body: { user_id: 'alice' } })).body
      .session_id;
    await call(first.url, 'POST', `/sessions/${sessionId}/history`, {
      body: { role: 'user', content: 'remember me' },
    });

    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await serve(dataDir);
    try {
      expect(second.summary.agents).toBe(4);
      const agents = (await call(second.url, 'GET', '/registry/agents')).body.agents;
      expect(agents.map((agent: { name: string }) => agent.name)).toEqual([
        'finops_agent',
        'oxygen_agent',
        'survivor',
        'tickets_agent',
      ]);
      expect(agents.find((agent: { name: string }) => agent.name === 'oxygen_agent').enabled).toBe(false);
      expect(agents.every((agent: { status: string }) => agent.status === 'available')).toBe(true);
      const session = (await call(second.url, 'GET', `/sessions/${sessionId}`)).body;
      expect(session.conversation_history.map((m: { content: string }) => m.content)).toEqual([
        'remember me',
      ]);
    } finally {
      second.child.kill('SIGKILL');
      await exited(second.child);
    }
  }, 90_000);

  it('on SIGTERM turns not ready, refuses new requests, finishes the one in flight, then exits 0', async () => {
    const dataDir = tempDir();
    const { child, url, output } = await serve(dataDir);
    const sessionId = (await call(url, 'POST', '/sessions', { body: { user_id: 'alice' } })).body.session_id;
    expect((await call(url, 'GET', '/health/ready')).body).toEqual({ status: 'ready' });

    // A request whose body is still coming in when the signal arrives; each step waits for an event.
    const body = JSON.stringify({ role: 'user', content: 'sent while the service was stopping' });
    const held = request(`${url}/sessions/${sessionId}/history`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': 'held-through-shutdown',
      },
    });
    const answered = new Promise<number>((resolve, reject) => {
      held.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      held.on('error', reject);
    });
    held.write(body.slice(0, 10));
    await output.waitFor(
      (line) => line.includes('"msg":"incoming request"') && line.includes('held-through-shutdown'),
    );
    child.kill('SIGTERM');
    await output.waitFor((line) => line.includes('"msg":"shutting down"'));

    const ready = await call(url, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'not_ready', reasons: ['the service is shutting down'] });
    const refused = await call(url, 'GET', '/registry/agents');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toEqual({
      code: 'shutting_down',
      message:
        'The service is shutting down: send the request to another replica, or again once it has restarted',
    });
    expect(refused.headers.get('connection')).toBe('close');
    // Still draining: the held request keeps the process alive until it is answered.
    expect(child.exitCode).toBeNull();

    held.end(body.slice(10));
    expect(await answered).toBe(201);
    const { code } = await exited(child);
    expect(code).toBe(0);
    expect(output.all.some((line) => line.includes('"msg":"stopped"'))).toBe(true);

    const again = await serve(dataDir);
    try {
      const session = (await call(again.url, 'GET', `/sessions/${sessionId}`)).body;
      expect(session.conversation_history.map((m: { content: string }) => m.content)).toEqual([
        'sent while the service was stopping',
      ]);
    } finally {
      again.child.kill('SIGKILL');
      await exited(again.child);
    }
  }, 90_000);

  it('names the port when it is taken', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const child = spawnTs(CLI, ['serve'], { DATA_DIR: tempDir(), PORT: String(port) });
      let stderr = '';
      child.stderr?.on('data', (chunk) => {
        stderr += String(chunk);
      });
      expect((await exited(child)).code).toBe(1);
      expect(stderr).toContain(
        `agent-registry: Port ${port} on 127.0.0.1 is already in use by another process: stop it (find it with ` +
          `\`lsof -i :${port}\``,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);

  it('refuses to start with a message naming the problem', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { HOST: '0.0.0.0' },
        /HOST=0\.0\.0\.0 is not a loopback address: set REGISTRY_ADMIN_TOKEN and REGISTRY_API_TOKEN/,
      ],
      [{ PORT: 'eighty' }, /PORT="eighty" must be a port number/],
      [
        { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/registry' },
        /PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/registry is unavailable: the server refused the connection/,
      ],
    ];
    for (const [env, message] of cases) {
      const child = spawnTs(CLI, ['serve'], { DATA_DIR: tempDir(), ...env });
      let stderr = '';
      child.stderr?.on('data', (chunk) => {
        stderr += String(chunk);
      });
      const { code } = await exited(child);
      expect(code).toBe(1);
      expect(stderr).toMatch(message);
    }
  }, 60_000);

  it('refuses a second process on the same data dir, naming the first', async () => {
    const dataDir = tempDir();
    const first = await serve(dataDir);
    try {
      const second = spawnTs(CLI, ['serve'], { DATA_DIR: dataDir, PORT: String(await freePort()) });
      let stderr = '';
      second.stderr?.on('data', (chunk) => {
        stderr += String(chunk);
      });
      expect((await exited(second)).code).toBe(1);
      expect(stderr).toContain(`is in use by process ${first.child.pid} `);
      expect(stderr).toContain('DATABASE_URL=postgres://');
    } finally {
      first.child.kill('SIGKILL');
      await exited(first.child);
    }
  }, 60_000);

  it('prints its usage and version', async () => {
    for (const [args, expected] of [
      [['--version'], /^1\.0\.0\n$/],
      [['--help'], /Usage: agent-registry \[command\]/],
    ] as const) {
      const child = spawnTs(CLI, [...args]);
      const output = lines(child);
      expect((await exited(child)).code).toBe(0);
      expect(`${output.all.join('\n')}\n`).toMatch(expected);
    }
    const unknown = spawnTs(CLI, ['frobnicate']);
    expect((await exited(unknown)).code).toBe(2);
  }, 60_000);
});
