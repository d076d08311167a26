import { describe, expect, it } from 'vitest';
import { moveToPostgres } from '../../src/move-to-postgres.js';
import { POSTGRES_MIGRATIONS } from '../../src/postgres/migrations.js';
import { FileStore } from '../../src/registry/file-store.js';
import { exited, spawnTs } from '../support/child-process.js';
import { useTestPostgres } from '../support/postgres.js';
import { type RunningService, startService } from '../support/service.js';
import { CLI } from '../support/service-process.js';
import { useTempDirs } from '../support/temp-dir.js';

const postgres = await useTestPostgres('move-to-postgres');
const tempDir = useTempDirs('move-to-postgres-');

/** An installation on the file and SQLite backends with a bit of everything in it; the service stopped. */
async function installation(): Promise<{ dir: string; exported: string; sessions: unknown[] }> {
  const dir = tempDir();
  const service = await startService({}, dir);
  await service.call('POST', '/registry/agents', {
    body: {
      agent_type: 'generic',
      factory_module: 'jarvis_agent.mcp_agents.agent_factory',
      factory_function: 'create_generic_agent',
      factory_params: { name: 'hr_agent', description: 'Answers HR policy questions' },
      capabilities: { examples: ['how many vacation days do I have left'], nested: { nul: 'a\u0000b' } },
      tags: ['hr'],
    },
  });
  await service.call('PATCH', '/registry/agents/oxygen_agent/status', { body: { enabled: false } });
  const ids: string[] = [];
  for (const user of ['alice', 'bob']) {
    const id = (
      await service.call('POST', '/sessions', { body: { user_id: user, metadata: { channel: 'web' } } })
    ).body.session_id;
    ids.push(id);
    await service.call('POST', `/sessions/${id}/history`, {
      body: { role: 'user', content: `hi from ${user} \u0000 ✓` },
    });
    await service.call('POST', `/sessions/${id}/invocations`, {
      body: {
        agent_name: 'tickets_agent',
        query: 'show my tickets',
        response: '2 open',
        success: true,
        duration_ms: 12,
      },
    });
    await service.call('POST', `/sessions/${id}/invocations`, {
      body: {
        agent_name: 'finops_agent',
        query: 'cost?',
        success: false,
        error_message: 'down',
        duration_ms: 3,
      },
    });
    await service.call('POST', `/sessions/${id}/history`, { body: { role: 'assistant', content: 'done' } });
  }
  await service.call('PATCH', `/sessions/${ids[1]}/status`, { body: { status: 'completed' } });
  await service.call('POST', '/sessions', { body: { user_id: 'carol' } });
  const exported = await exportText(service);
  const listed = (await service.call('GET', '/sessions?limit=1000')).body.sessions as {
    session_id: string;
  }[];
  const sessions = [];
  for (const { session_id } of listed)
    sessions.push((await service.call('GET', `/sessions/${session_id}`)).body);
  await service.stop();
  return { dir, exported, sessions };
}

const exportText = async (service: RunningService) => (await fetch(`${service.url}/registry/export`)).text();
const agentsOf = (text: string) => JSON.parse(text).agents;

describe.skipIf(!postgres.available)('move-to-postgres', () => {
  it('copies the registry and every session exactly, and a second run skips what is there', async () => {
    const { dir, exported, sessions } = await installation();
    const url = await postgres.createDatabase();
    const report = await moveToPostgres({ dataDir: dir, sessionsFile: 'sessions.db', url });
    expect(report.agents.copied.sort()).toEqual([
      'finops_agent',
      'hr_agent',
      'oxygen_agent',
      'tickets_agent',
    ]);
    expect(report.sessions).toEqual({ copied: 3, already_there: 0, messages: 4, invocations: 4 });

    const moved = await startService({ DATABASE_URL: url });
    expect(agentsOf(await exportText(moved))).toEqual(agentsOf(exported));
    const listed = (await moved.call('GET', '/sessions?limit=1000')).body.sessions as {
      session_id: string;
    }[];
    expect(listed.map((session) => session.session_id)).toEqual(
      (sessions as { session_id: string }[]).map((session) => session.session_id),
    );
    for (const session of sessions as { session_id: string }[]) {
      expect((await moved.call('GET', `/sessions/${session.session_id}`)).body).toEqual(session);
    }
    await moved.stop();

    const again = await moveToPostgres({ dataDir: dir, sessionsFile: 'sessions.db', url });
    expect(again.agents.copied).toEqual([]);
    expect(again.agents.already_there).toHaveLength(4);
    expect(again.sessions).toMatchObject({ copied: 0, already_there: 3 });
  });

  it('is a command: refuses while a service holds DATA_DIR, then moves once it is stopped', async () => {
    const { dir } = await installation();
    const url = await postgres.createDatabase();
    const run = async (...args: string[]) => {
      const child = spawnTs(CLI, args, { DATA_DIR: dir, LOG_LEVEL: 'silent' });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk) => {
        stdout += String(chunk);
      });
      child.stderr?.on('data', (chunk) => {
        stderr += String(chunk);
      });
      return { code: (await exited(child)).code, stdout, stderr };
    };

    const holder = new FileStore({ dataDir: dir });
    await holder.open();
    const refused = await run('move-to-postgres', '--to', url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is in use by process/);
    const dbInit = await run('db-init');
    expect(dbInit.code).toBe(1);
    expect(dbInit.stderr).toMatch(/is in use by process/);
    // Reading is safe while the service runs.
    const exported = await run('export');
    expect(exported.code).toBe(0);
    expect(Object.keys(JSON.parse(exported.stdout).agents)).toHaveLength(4);
    await holder.close();

    const moved = await run('move-to-postgres', '--to', url);
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.stdout).sessions.copied).toBe(3);
    expect((await run('move-to-postgres')).code).toBe(2);
  }, 120_000);

  it('db-init, export and repair work against PostgreSQL too', async () => {
    const url = await postgres.createDatabase();
    const run = async (...args: string[]) => {
      const child = spawnTs(CLI, args, { DATABASE_URL: url, DATA_DIR: tempDir(), LOG_LEVEL: 'silent' });
      let stdout = '';
      child.stdout?.on('data', (chunk) => {
        stdout += String(chunk);
      });
      return { code: (await exited(child)).code, stdout };
    };
    const init = await run('db-init');
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({
      schema_version: POSTGRES_MIGRATIONS.at(-1)!.version,
      applied_migrations: POSTGRES_MIGRATIONS.map(({ version }) => ({ version })),
    });
    const service = await startService({ DATABASE_URL: url });
    const expected = await exportText(service);
    await service.stop();
    const exported = await run('export');
    expect(JSON.parse(exported.stdout)).toEqual(JSON.parse(expected));
    const repair = await run('repair');
    expect(repair.stdout).toMatch(/on PostgreSQL .*no files to repair/);
  }, 120_000);
});
