/**
 * @module test/integration/scenarios
 * The seed's six integration scenarios (Task 5.1), against real service and Jarvis processes, as one suite
 * every backend runs (`runScenarios(backend)`): start-up, the agent lifecycle across a restart, the session
 * lifecycle, routing with session context, 10 concurrent sessions x 5 queries through Jarvis, and recovery
 * from a corrupt registry file and a corrupt database.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Backend, chat, newStack } from './stack.js';

const DEMO_AGENTS = ['finops_agent', 'oxygen_agent', 'tickets_agent'];
const CANNED = {
  agent_type: 'canned',
  factory_module: 'integration_factories',
  factory_function: 'create_canned_agent',
};
const FORECAST = {
  ...CANNED,
  factory_params: { name: 'forecast_agent', description: 'Weather forecasts for any city' },
  capabilities: {
    examples: [
      'what is the weather forecast for tomorrow',
      'will it rain in Paris this weekend',
      'weather forecast for Berlin',
      'how hot will it be on Friday',
      'is it going to snow tonight',
    ],
  },
};
const PLANNER = {
  ...CANNED,
  factory_params: { name: 'planner_agent', description: 'Meetings and calendar planning' },
  capabilities: {
    examples: [
      'schedule a meeting with the design team',
      'book a meeting room for Monday',
      'move my one on one to Thursday',
      'what meetings do I have tomorrow',
      'cancel the planning meeting',
    ],
  },
};

/** Sorted agent names of a listing. */
const names = (agents: readonly { name: string }[]) => agents.map((agent) => agent.name).sort();

export function runScenarios(backend: Backend): void {
  const embedded = backend.name === 'sqlite';

  describe(`the seed's integration scenarios (${backend.name})`, () => {
    it('1. the full start-up flow: demo agents registered, database initialised, ready, Jarvis connected', async () => {
      const stack = await newStack(backend);
      const service = await stack.start();
      expect(service.summary.agents).toBe(3);
      expect(service.summary.loaded_from).toBe(embedded ? 'empty' : 'database');

      const { registry } = stack.clients();
      const listing = await registry.listAgents();
      expect(listing.notModified).toBe(false);
      if (listing.notModified) return;
      expect(names(listing.agents)).toEqual(DEMO_AGENTS);
      expect(listing.agents.every((agent) => agent.status === 'available' && agent.enabled)).toBe(true);

      const health = await stack.call('GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('ok');
      expect(health.body.stores.sessions).toMatchObject({ status: 'ok', backend: backend.sessionBackend });
      if (embedded) {
        expect(health.body.stores.sessions.schema_version).toBeGreaterThanOrEqual(1);
        expect(existsSync(path.join(stack.dataDir, 'sessions.db'))).toBe(true);
        expect(existsSync(path.join(stack.dataDir, 'registry_config.json'))).toBe(true);
      }
      expect((await stack.call('GET', '/health/ready')).body).toEqual({ status: 'ready' });

      const jarvis = await stack.startJarvis();
      const fromJarvis = await fetch(`${jarvis}/health`).then((response) => response.json());
      expect(fromJarvis).toMatchObject({ status: 'ok', registry: { reachable: true, agents: 3 } });

      // A second start finds everything in place and seeds nothing.
      await stack.stop('SIGTERM');
      const again = await stack.start();
      expect(again.summary).toMatchObject({
        agents: 3,
        loaded_from: embedded ? 'file' : 'database',
      });
    }, 120_000);

    it('2. the agent lifecycle: register, update, disable, re-enable, delete, all kept across a restart', async () => {
      const stack = await newStack(backend);
      await stack.start();
      const { admin } = stack.clients();
      expect(await admin.registerAgent(FORECAST)).toEqual({
        status: 'registered',
        agent_name: 'forecast_agent',
        overlaps: expect.any(Array),
      });
      expect(await admin.registerAgent(PLANNER)).toEqual({
        status: 'registered',
        agent_name: 'planner_agent',
        overlaps: expect.any(Array),
      });
      const capabilities = { examples: ['what is the forecast for Rome'], regions: ['eu'] };
      expect(await admin.updateCapabilities('forecast_agent', capabilities)).toEqual({ status: 'updated' });
      expect(await admin.setEnabled('forecast_agent', false)).toEqual({ status: 'disabled' });
      expect(await admin.setEnabled('forecast_agent', true)).toEqual({ status: 'enabled' });
      expect(await admin.setEnabled('planner_agent', false)).toEqual({ status: 'disabled' });
      expect(await admin.deleteAgent('oxygen_agent')).toEqual({ status: 'deleted' });

      // Crash, then restart on the same data.
      await stack.stop('SIGKILL');
      const restarted = await stack.start();
      expect(restarted.summary.agents).toBe(4);
      const { registry } = stack.clients();
      const forecast = await registry.getAgent('forecast_agent');
      expect(forecast).toMatchObject({ enabled: true, status: 'available', capabilities });
      expect(await registry.getAgent('planner_agent')).toMatchObject({ enabled: false, status: 'available' });
      await expect(registry.getAgent('oxygen_agent')).rejects.toMatchObject({ code: 'agent_not_found' });
      const listing = await registry.listAgents();
      if (listing.notModified) throw new Error('expected a listing');
      expect(names(listing.agents)).toEqual([
        'finops_agent',
        'forecast_agent',
        'planner_agent',
        'tickets_agent',
      ]);
      // The updated capabilities are what the restarted router learned from.
      const routed = await registry.route({ query: 'what is the forecast for Rome' });
      expect(routed.selected).toEqual(['forecast_agent']);
    }, 120_000);

    it('3. the session lifecycle: history, several invocations, read back, all kept across a restart', async () => {
      const stack = await newStack(backend);
      await stack.start();
      const { sessions } = stack.clients();
      const sessionId = await sessions.createSession('alice', { channel: 'web' });
      await sessions.addHistory(sessionId, { role: 'user', content: 'show my tickets and cloud spend' });
      await sessions.trackInvocation(sessionId, {
        agent_name: 'tickets_agent',
        query: 'show my tickets',
        response: '2 open tickets',
        success: true,
        duration_ms: 42,
      });
      await sessions.trackInvocation(sessionId, {
        agent_name: 'finops_agent',
        query: 'cloud spend',
        success: false,
        error_message: 'the cost API timed out',
        duration_ms: 5000,
      });
      await sessions.addHistory(sessionId, { role: 'assistant', content: '2 open tickets; finops failed' });
      const expected = {
        session_id: sessionId,
        user_id: 'alice',
        status: 'active',
        metadata: { channel: 'web' },
        conversation_history: [
          { role: 'user', content: 'show my tickets and cloud spend' },
          { role: 'assistant', content: '2 open tickets; finops failed' },
        ],
        agents_invoked: [
          { agent_name: 'tickets_agent', success: true, response: '2 open tickets', duration_ms: 42 },
          {
            agent_name: 'finops_agent',
            success: false,
            error_message: 'the cost API timed out',
            response: null,
          },
        ],
        // Only a successful invocation becomes the context (and the session's last agent).
        last_agent_called: 'tickets_agent',
        context: {
          last_agent_called: 'tickets_agent',
          last_query: 'show my tickets',
          last_response: '2 open tickets',
        },
      };
      expect(await sessions.getSession(sessionId)).toMatchObject(expected);
      await sessions.setStatus(sessionId, 'completed');

      await stack.stop('SIGKILL');
      await stack.start();
      const after = stack.clients().sessions;
      expect(await after.getSession(sessionId)).toMatchObject({ ...expected, status: 'completed' });
      expect((await after.listSessions({ user_id: 'alice' })).sessions.map((s) => s.session_id)).toEqual([
        sessionId,
      ]);
      // Without the API token the session cannot be read at all.
      expect((await stack.call('GET', `/sessions/${sessionId}`)).status).toBe(401);
    }, 120_000);

    it('4. routing with session context: "show details" follows the agent that answered last', async () => {
      const stack = await newStack(backend);
      await stack.start();
      const { registry, sessions } = stack.clients();
      const sessionId = await sessions.createSession('alice');
      const first = await registry.route({ query: 'show my tickets', session_id: sessionId });
      expect(first).toMatchObject({ selected: ['tickets_agent'], follow_up: false });
      // Without context the follow-up fits nobody on its own...
      expect(await registry.route({ query: 'show details' })).toMatchObject({ follow_up: false });
      await sessions.trackInvocation(sessionId, {
        agent_name: 'tickets_agent',
        query: 'show my tickets',
        response: 'INC-1001, INC-1004',
        success: true,
        duration_ms: 30,
      });
      // ...with the session's context it goes to the session's last agent.
      expect(await registry.route({ query: 'show details', session_id: sessionId })).toMatchObject({
        selected: ['tickets_agent'],
        follow_up: true,
      });
      // A clear new topic is routed on its own merits, context or not.
      expect(
        (await registry.route({ query: 'what did we spend on cloud last month', session_id: sessionId }))
          .selected,
      ).toEqual(['finops_agent']);
    }, 120_000);

    it('5. 10 concurrent sessions x 5 queries through Jarvis: no corruption, each session sees only its own', async () => {
      const stack = await newStack(backend);
      await stack.start();
      const { admin } = stack.clients();
      await admin.registerAgent(FORECAST);
      await admin.registerAgent(PLANNER);
      // Only the canned agents answer: the LLM is the one thing faked.
      for (const demo of DEMO_AGENTS) await admin.setEnabled(demo, false);
      const jarvis = await stack.startJarvis();

      const questions = [
        (tag: string) => `will it rain in Paris this weekend ${tag}`,
        (tag: string) => `schedule a meeting with the design team ${tag}`,
        (tag: string) => `weather forecast for Berlin ${tag}`,
        (tag: string) => `book a meeting room for Monday ${tag}`,
        (tag: string) => `is it going to snow tonight ${tag}`,
      ];
      const expectedAgent = [
        'forecast_agent',
        'planner_agent',
        'forecast_agent',
        'planner_agent',
        'forecast_agent',
      ];
      const users = Array.from({ length: 10 }, (_, i) => `user${i}`);
      const conversations = await Promise.all(
        users.map(async (user) => {
          let sessionId: string | undefined;
          const replies: {
            message: string;
            body: { session_id: string; response: string; agents: string[] };
          }[] = [];
          for (const [q, question] of questions.entries()) {
            const message = question(`ref-${user}-q${q}`);
            const answer = await chat(jarvis, {
              user_id: user,
              message,
              ...(sessionId && { session_id: sessionId }),
            });
            expect(answer.status, JSON.stringify(answer.body)).toBe(200);
            sessionId ??= answer.body.session_id;
            expect(answer.body.session_id).toBe(sessionId);
            replies.push({ message, body: answer.body });
          }
          return { user, sessionId: sessionId!, replies };
        }),
      );

      expect(new Set(conversations.map((c) => c.sessionId)).size).toBe(10);
      const { sessions } = stack.clients();
      for (const { user, sessionId, replies } of conversations) {
        replies.forEach(({ message, body }, q) => {
          expect(body.agents).toEqual([expectedAgent[q]]);
          expect(body.response).toBe(`${expectedAgent[q]}: ${message}`);
        });
        const session = await sessions.getSession(sessionId);
        expect(session.user_id).toBe(user);
        expect(session.conversation_history.map((m) => [m.role, m.content])).toEqual(
          replies.flatMap(({ message, body }) => [
            ['user', message],
            ['assistant', body.response],
          ]),
        );
        expect(session.agents_invoked.map((i) => [i.agent_name, i.query, i.success])).toEqual(
          replies.map(({ message }, q) => [expectedAgent[q], message, true]),
        );
        // Nothing of any other user's conversation is in this session.
        const text = JSON.stringify(session);
        for (const other of users) if (other !== user) expect(text).not.toContain(`ref-${other}-`);
      }
      // Another user cannot resume someone else's session.
      const probe = await chat(jarvis, {
        user_id: 'user1',
        message: 'weather forecast for Berlin',
        session_id: conversations[0]!.sessionId,
      });
      expect(probe.status).toBe(404);
      expect((await sessions.getSession(conversations[0]!.sessionId)).conversation_history).toHaveLength(10);
    }, 180_000);

    it.runIf(embedded)(
      '6. failure recovery: a corrupt registry file falls back to the backup; a corrupt database is quarantined and recreated',
      async () => {
        const stack = await newStack(backend);
        await stack.start();
        const { admin, sessions } = stack.clients();
        await admin.registerAgent(FORECAST);
        await admin.registerAgent(PLANNER); // the backup now holds the registry with forecast_agent only
        const lost = await sessions.createSession('alice');
        await stack.stop('SIGTERM');

        const registryFile = path.join(stack.dataDir, 'registry_config.json');
        writeFileSync(registryFile, '{"version": "1.0.0", "agents": {"half-writ');
        const database = path.join(stack.dataDir, 'sessions.db');
        writeFileSync(database, 'this is not a SQLite database'.repeat(200));

        const restarted = await stack.start();
        expect(restarted.summary.loaded_from).toBe('backup');
        const health = await stack.call('GET', '/health');
        expect(health.status).toBe(200);
        expect(health.body.status).toBe('degraded');
        expect(health.body.registry.loaded_from).toBe('backup');
        const quarantined = health.body.stores.registry.recovery.find(
          (event: { action: string }) => event.action === 'quarantined',
        );
        expect(readFileSync(quarantined.moved_to, 'utf8')).toBe('{"version": "1.0.0", "agents": {"half-writ');
        expect(health.body.warnings.join('\n')).toContain('the last change may be lost');

        const { registry } = stack.clients();
        const listing = await registry.listAgents();
        if (listing.notModified) throw new Error('expected a listing');
        expect(names(listing.agents)).toEqual([...DEMO_AGENTS, 'forecast_agent'].sort());

        // The database: moved aside whole, a new one created and in use.
        const moved = health.body.stores.sessions.quarantined;
        expect(moved.folder.startsWith(path.join(stack.dataDir, 'quarantine'))).toBe(true);
        expect(readdirSync(moved.folder)).toContain('sessions.db');
        expect(readFileSync(path.join(moved.folder, 'sessions.db'), 'utf8')).toContain(
          'this is not a SQLite database',
        );
        await expect(stack.clients().sessions.getSession(lost)).rejects.toMatchObject({
          code: 'session_not_found',
        });
        const fresh = await stack.clients().sessions.createSession('bob');
        expect((await stack.clients().sessions.getSession(fresh)).user_id).toBe('bob');
        expect((await stack.call('GET', '/health/ready')).body).toEqual({ status: 'ready' });
      },
      120_000,
    );
  });
}
