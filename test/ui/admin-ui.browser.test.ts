/**
 * The admin web UI in a real browser: Debian's Chromium driven by playwright-core against the real service
 * serving a fresh build of ui/. It registers, disables and deletes an agent, edits capabilities, routes
 * queries, runs a what-if replay of the logged queries, opens a session, and sees changes made through the
 * API appear without a reload, at 1280 and 800 px. Screenshots go to test-output/ui/. Without Chromium the suite is skipped with a notice, except
 * under CI=true, where a missing Chromium fails it (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchService, type RunningService, startService } from '../support/service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = path.join(ROOT, 'test-output', 'ui');
/** The flags the machine guide gives for headless Chromium here (no network beyond loopback). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const API_TOKEN = 'ui-test-api-token-0123456789';
/** The page's globals, as the functions run inside it see them (this file is type-checked without the DOM lib). */
interface PageGlobals {
  document: {
    activeElement: { id: string; textContent: string | null } | null;
    documentElement: { scrollWidth: number; clientWidth: number };
    querySelector(selector: string): { checked?: boolean } | null;
    querySelectorAll(selector: string): Iterable<{ scrollWidth: number; clientWidth: number }>;
  };
  sessionStorage: { getItem(key: string): string | null };
  notReloaded?: boolean;
}
/** Waiting for what the page shows (an event), never a fixed sleep. */
const WAIT = { timeout: 20_000 };

const available = existsSync(CHROMIUM);
if (!available && process.env.CI !== 'true') {
  console.warn(
    `NOTICE: ${CHROMIUM} not found: the browser test of the web UI is SKIPPED (apt-get install chromium).`,
  );
}

describe.skipIf(!available && process.env.CI !== 'true')('admin web UI in Chromium', () => {
  let service: RunningService;
  /** The fresh build of ui/ the services serve. */
  let uiDir: string;
  let context: BrowserContext;
  let page: Page;
  const scratch: string[] = [];
  const pageErrors: string[] = [];

  const api = (method: string, route: string, body?: unknown) =>
    service.call(method, route, {
      ...(body !== undefined && { body }),
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
  const shot = (name: string) =>
    page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run installs it`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    // A fresh build of the current ui/ source, served by the service under test.
    uiDir = mkdtempSync(path.join(os.tmpdir(), 'ui-build-'));
    scratch.push(uiDir);
    const { build } = await import('vite');
    await build({
      configFile: path.join(ROOT, 'ui', 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: uiDir, emptyOutDir: true },
    });

    // A registry holding the demo agents and one agent whose factory fails: it loads as unavailable.
    const seed = await startService();
    const exported = (await seed.call('GET', '/registry/export')).body;
    await seed.stop();
    const tickets = exported.agents.tickets_agent;
    exported.agents.broken_agent = {
      ...tickets,
      name: 'broken_agent',
      agent_type: 'broken',
      factory_module: 'test_factories',
      factory_function: 'create_failing_agent',
      description: 'Reticulates splines (its backing service is down)',
      capabilities: { examples: ['reticulate the splines', 'spline reticulation status'] },
      tags: ['test'],
    };
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ui-browser-data-'));
    scratch.push(dataDir);
    writeFileSync(path.join(dataDir, 'registry_config.json'), JSON.stringify(exported, null, 2));
    service = await launchService({ REGISTRY_API_TOKEN: API_TOKEN }, dataDir, { uiDir });

    const profile = mkdtempSync(path.join(os.tmpdir(), 'ui-chromium-profile-'));
    scratch.push(profile);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text()))
        pageErrors.push(message.text());
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await service?.stop();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the agents, with the one that failed to load and its error', async () => {
    await page.goto(`${service.url}/ui`);
    await page.locator('tr[data-agent="tickets_agent"]').waitFor(WAIT);
    const broken = page.locator('tr[data-agent="broken_agent"]');
    await broken.getByText('unavailable', { exact: true }).waitFor(WAIT);
    await broken.getByText('the backing service is down').waitFor(WAIT);
    await page
      .getByRole('region', { name: 'Agents that failed to load' })
      .getByText('broken_agent')
      .waitFor(WAIT);
    await page.getByText('Live: following registry changes').waitFor(WAIT);
    // Filter and sort.
    await page.getByLabel('Filter').fill('finance');
    await page.getByText('1 of 4 agents').waitFor(WAIT);
    await page.getByLabel('Filter').fill('');
    await page.getByRole('button', { name: /^Name/ }).click();
    const names = await page
      .locator('tbody tr[data-agent]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-agent')));
    expect(names).toEqual(['tickets_agent', 'oxygen_agent', 'finops_agent', 'broken_agent']);
    await shot('agents-1280');
  });

  it('registers an agent (refusing bad JSON first), edits its capabilities, disables and deletes it', async () => {
    await page.getByRole('button', { name: 'Register an agent' }).click();
    await page.getByLabel('Name', { exact: true }).fill('ui_echo_agent');
    await page.getByLabel('Agent type (required)').fill('echo');
    await page.getByLabel('Factory module (required)').fill('test_factories');
    await page.getByLabel('Factory function (required)').fill('create_echo_agent');
    await page.getByLabel('Tags').fill('ui, weather');
    await page
      .getByLabel('Factory params (JSON object, optional)')
      .fill('{"name": "ui_echo_agent", "topic": "weather"}');
    await page.getByLabel('Capabilities (JSON object, optional)').fill('{"examples": ["weather tomorrow"');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByText(/Not registered:.*Capabilities is not valid JSON/).waitFor(WAIT);
    expect((await api('GET', '/registry/agents/ui_echo_agent')).status).toBe(404);

    await page
      .getByLabel('Capabilities (JSON object, optional)')
      .fill('{"examples": ["what is the weather tomorrow", "will it rain in Paris"]}');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.locator('tr[data-agent="ui_echo_agent"]').waitFor(WAIT);
    const registered = (await api('GET', '/registry/agents/ui_echo_agent')).body;
    expect(registered).toMatchObject({ enabled: true, tags: ['ui', 'weather'], agent_type: 'echo' });
    await page.getByRole('button', { name: 'Close the register form' }).click();

    // The capabilities editor validates before it saves.
    await page.getByRole('button', { name: 'Edit the capabilities of ui_echo_agent' }).click();
    const editor = page.getByLabel(/^Capabilities \(JSON object; "examples"/);
    await editor.fill('{"examples": "not a list"}');
    await page.getByText('Capabilities: "examples" must be a list of sample queries').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Save capabilities' }).isDisabled()).toBe(true);
    await editor.fill('[1, 2]');
    await page.getByText(/must be a JSON object/).waitFor(WAIT);
    await editor.fill('{"examples": ["weather forecast for tomorrow"], "domains": ["weather"]}');
    await page.getByText('Valid JSON object.').waitFor(WAIT);
    await shot('capabilities-editor-1280');
    await page.getByRole('button', { name: 'Save capabilities' }).click();
    await page.getByText('Saved the capabilities of ui_echo_agent').waitFor(WAIT);
    expect((await api('GET', '/registry/agents/ui_echo_agent')).body.capabilities).toEqual({
      examples: ['weather forecast for tomorrow'],
      domains: ['weather'],
    });

    // Disable with the toggle.
    const toggle = page.getByLabel('Enabled: ui_echo_agent');
    // A click, not uncheck(): the box follows the service's answer, not the click.
    await toggle.click();
    await page.getByText('Agent ui_echo_agent disabled').waitFor(WAIT);
    expect((await api('GET', '/registry/agents/ui_echo_agent')).body.enabled).toBe(false);

    // Delete, after confirming in a modal dialog (Escape cancels it first).
    await page.getByRole('button', { name: 'Delete ui_echo_agent' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete ui_echo_agent?' });
    await dialog.waitFor(WAIT);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ ...WAIT, state: 'hidden' });
    expect((await api('GET', '/registry/agents/ui_echo_agent')).status).toBe(200);
    await page.getByRole('button', { name: 'Delete ui_echo_agent' }).click();
    await dialog.getByRole('button', { name: 'Delete ui_echo_agent' }).click();
    await page.locator('tr[data-agent="ui_echo_agent"]').waitFor({ ...WAIT, state: 'detached' });
    expect((await api('GET', '/registry/agents/ui_echo_agent')).status).toBe(404);
  });

  it('shows changes made through the API in the open page, without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).notReloaded = true;
    });
    const registered = await api('POST', '/registry/agents', {
      name: 'api_made_agent',
      agent_type: 'echo',
      factory_module: 'test_factories',
      factory_function: 'create_echo_agent',
      factory_params: { name: 'api_made_agent', topic: 'gardening' },
      tags: ['from-api'],
    });
    expect(registered.status).toBe(201);
    const row = page.locator('tr[data-agent="api_made_agent"]');
    await row.waitFor(WAIT);
    await page.getByText('Live: following registry changes; last: api_made_agent registered').waitFor(WAIT);
    expect(await page.getByLabel('Enabled: api_made_agent').isChecked()).toBe(true);
    await api('PATCH', '/registry/agents/api_made_agent/status', { enabled: false });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).document.querySelector(
          'input[aria-label="Enabled: api_made_agent"]',
        )?.checked === false,
      undefined,
      WAIT,
    );
    await api('DELETE', '/registry/agents/api_made_agent');
    await row.waitFor({ ...WAIT, state: 'detached' });
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).notReloaded)).toBe(true);
  });

  it('routes a query in the playground and says why, as the API does', async () => {
    await page.getByRole('link', { name: 'Routing playground' }).click();
    await page.getByRole('heading', { name: 'Routing playground' }).waitFor(WAIT);
    // The routing page lists recent sessions; without the sessions token the service's 401 is shown.
    await page.getByText(/Recent sessions unavailable: 401 unauthorized/).waitFor(WAIT);

    await page.getByLabel('Query', { exact: true }).fill('show my open tickets');
    await page.getByRole('button', { name: 'Route' }).click();
    await page.locator('tr[data-candidate="tickets_agent"]').waitFor(WAIT);
    const expected = (await api('POST', '/registry/route', { query: 'show my open tickets', top_k: 5 })).body;
    expect(expected.selected).toEqual(['tickets_agent']);
    await page.locator('.selected').getByText('tickets_agent').waitFor(WAIT);
    await page
      .getByText('Best match: the top candidate scored above the confidence threshold.')
      .waitFor(WAIT);
    const shown = await page
      .locator('tr[data-candidate]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-candidate')));
    expect(shown).toEqual(expected.candidates.map((c: { name: string }) => c.name));
    await shot('routing-1280');

    // A query nothing fits.
    const nonsense = 'zqxj vvkw plorf';
    const none = (await api('POST', '/registry/route', { query: nonsense, top_k: 5 })).body;
    expect(none.selected).toEqual([]);
    await page.getByLabel('Query', { exact: true }).fill(nonsense);
    await page.getByLabel('Query', { exact: true }).press('Enter');
    await page.getByText(/None fits: no candidate scored above the confidence threshold/).waitFor(WAIT);

    // Within a session whose last agent was tickets_agent, a follow-up keeps it.
    const sessionId = (await api('POST', '/sessions', { user_id: 'router-user' })).body.session_id;
    await api('POST', `/sessions/${sessionId}/invocations`, {
      agent_name: 'tickets_agent',
      query: 'show my open tickets',
      response: 'INC-1001, INC-1004',
      success: true,
      duration_ms: 12,
    });
    const followUp = 'show me more details about the first one';
    const expectedFollowUp = (
      await api('POST', '/registry/route', { query: followUp, session_id: sessionId, top_k: 5 })
    ).body;
    await page.getByLabel(/^Session id/).fill(sessionId);
    await page.getByLabel('Query', { exact: true }).fill(followUp);
    await page.getByRole('button', { name: 'Route' }).click();
    await page.getByText(`in session ${sessionId}`).waitFor(WAIT);
    if (expectedFollowUp.follow_up) {
      await page.getByText(/Follow-up: the query continues the session's conversation/).waitFor(WAIT);
      await page.locator('.selected .badge', { hasText: 'follow-up' }).waitFor(WAIT);
    } else {
      expect(await page.locator('.selected .badge', { hasText: 'follow-up' }).count()).toBe(0);
    }
  });

  it('shows a plain 401 for sessions until the token is given, then filters and opens a session', async () => {
    const id = (await api('POST', '/sessions', { user_id: 'ui-user', metadata: { channel: 'web' } })).body
      .session_id;
    await api('POST', `/sessions/${id}/history`, { role: 'user', content: 'show my tickets and my spend' });
    await api('POST', `/sessions/${id}/invocations`, {
      agent_name: 'tickets_agent',
      query: 'show my tickets',
      response: 'You have 2 open tickets',
      success: true,
      duration_ms: 420,
    });
    await api('POST', `/sessions/${id}/invocations`, {
      agent_name: 'finops_agent',
      query: 'my spend',
      success: false,
      error_message: 'cost API timed out',
      duration_ms: 5000,
    });
    await api('POST', `/sessions/${id}/history`, { role: 'assistant', content: 'You have 2 open tickets' });
    await api('POST', '/sessions', { user_id: 'someone-else' });

    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByText(/Could not list the sessions:.*401 unauthorized/).waitFor(WAIT);
    await page.locator('summary', { hasText: 'Tokens' }).click();
    await page.getByLabel('Sessions token').fill(API_TOKEN);
    await page.getByRole('button', { name: 'Save tokens' }).click();
    await page.getByText('Saved for this tab.').waitFor(WAIT);
    await page.locator(`tr[data-session="${id}"]`).waitFor(WAIT);
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).sessionStorage.getItem('agent-registry-ui:tokens'),
      ),
    ).toContain(API_TOKEN);
    await page.locator('summary', { hasText: 'Tokens' }).click();

    await page.getByLabel('User').fill('ui-user');
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('1 of 1 sessions, most recently updated first').waitFor(WAIT);
    const row = page.locator(`tr[data-session="${id}"]`);
    expect(await row.locator('td').allInnerTexts()).toEqual([
      'ui-user',
      'active',
      expect.any(String),
      '2',
      '2',
      'tickets_agent',
    ]);
    await shot('sessions-1280');

    await row.getByRole('link').click();
    await page.getByRole('heading', { name: `Session ${id}` }).waitFor(WAIT);
    const items = page.locator('.timeline > li');
    await items.nth(3).waitFor(WAIT);
    const texts = await items.allInnerTexts();
    expect(texts[0]).toContain('show my tickets and my spend');
    expect(texts[1]).toMatch(/Agent tickets_agent[\s\S]*420 ms[\s\S]*success[\s\S]*You have 2 open tickets/);
    expect(texts[2]).toMatch(/Agent finops_agent[\s\S]*5000 ms[\s\S]*error[\s\S]*cost API timed out/);
    expect(texts[3]).toContain('assistant');
    await shot('session-1280');

    // A message added through the API appears in the open session without a reload.
    await api('POST', `/sessions/${id}/history`, { role: 'user', content: 'thanks, that is all' });
    await page.locator('.timeline > li', { hasText: 'thanks, that is all' }).waitFor(WAIT);
  });

  it('replays the logged queries against a proposed change, shows what would move, and the service’s refusals', async () => {
    for (const query of ['when is payday', 'show me my payslip for last month', 'show my open tickets']) {
      expect((await api('POST', '/registry/route', { query })).status).toBe(200);
    }
    // Decisions are written a moment after routing answers: all of them are in the log before the replay.
    await service.service.decisionLog.flush();
    const registration = {
      name: 'payroll_agent',
      agent_type: 'echo',
      factory_module: 'test_factories',
      factory_function: 'create_echo_agent',
      factory_params: { name: 'payroll_agent', topic: 'payroll' },
      capabilities: {
        examples: [
          'when is payday this month',
          'show my last payslip',
          'why is my salary lower this month',
          'how much tax was deducted from my paycheck',
          'download my payslip for march',
        ],
      },
    };
    const replay = async (change: unknown) => {
      const answer = await api('POST', '/registry/route/replay', { change });
      expect(answer.status).toBe(200);
      return answer.body as {
        replayed: number;
        changed: { query: string; before: string[]; after: string[] }[];
        summary: { moved: Record<string, number>; newly_none: number; newly_routed: number };
      };
    };
    const rendered = async () => ({
      replayed: Number(await page.locator('[data-replayed]').innerText()),
      moved: (
        await page
          .locator('tr[data-moved]')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-moved')))
      ).sort(),
      movedTotal: Number(await page.locator('[data-summary="moved"]').innerText()),
      newlyNone: Number(await page.locator('[data-summary="newly_none"]').innerText()),
      newlyRouted: Number(await page.locator('[data-summary="newly_routed"]').innerText()),
      changed: await page
        .locator('tr[data-changed]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-changed'))),
    });
    const expectRendered = async (expected: Awaited<ReturnType<typeof replay>>) => {
      expect(await rendered()).toEqual({
        replayed: expected.replayed,
        moved: Object.keys(expected.summary.moved).sort(),
        movedTotal: Object.values(expected.summary.moved).reduce((a, b) => a + b, 0),
        newlyNone: expected.summary.newly_none,
        newlyRouted: expected.summary.newly_routed,
        changed: expected.changed.map((q) => q.query),
      });
    };

    // A new agent: the payroll queries move to it (or find an agent at last); what the API answers is shown.
    const registered = await replay({ register: registration });
    expect(registered.replayed).toBeGreaterThanOrEqual(3);
    const payday = registered.changed.find((q) => q.query === 'when is payday');
    expect(payday?.after).toEqual(['payroll_agent']);
    await page.getByRole('link', { name: 'What-if replay' }).click();
    await page.getByRole('heading', { name: 'What-if replay' }).waitFor(WAIT);
    await page.getByLabel(/^Registration/).fill(JSON.stringify(registration, null, 2));
    await page.getByRole('button', { name: 'Run replay' }).click();
    await page.getByRole('heading', { name: 'Result of registering payroll_agent' }).waitFor(WAIT);
    await expectRendered(registered);
    const paydayRow = await page.locator('tr[data-changed="when is payday"] > *').allInnerTexts();
    expect(paydayRow.slice(0, 3)).toEqual([
      'when is payday',
      payday!.before.length === 0 ? 'none' : payday!.before.join(', '),
      '→ payroll_agent',
    ]);
    await shot('replay-1280');
    // Nothing was saved.
    expect((await api('GET', '/registry/agents/payroll_agent')).status).toBe(404);

    // A registration the service refuses (the name is taken): its 409, word for word, and what to do.
    await page.getByLabel(/^Registration/).fill(JSON.stringify({ ...registration, name: 'tickets_agent' }));
    await page.getByRole('button', { name: 'Run replay' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'Replay failed:' });
    await refusal.getByText(/409 agent_exists: .*tickets_agent/).waitFor(WAIT);
    await refusal.getByText('An agent with that name is already registered').waitFor(WAIT);
    await shot('replay-refused-1280');

    // The keyboard moves between the kinds of change (arrow keys in the radio group).
    await page.getByLabel('Register an agent').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel("Update an agent's capabilities").isChecked()).toBe(true);
    // An update starts from the agent's current capabilities and is checked before it is sent.
    await page.getByLabel('Agent to update').selectOption('oxygen_agent');
    const editor = page.getByLabel(/^Capabilities \(JSON object; "examples" are what the router learns/);
    const current = (await api('GET', '/registry/agents/oxygen_agent')).body.capabilities;
    expect(JSON.parse(await editor.inputValue())).toEqual(current);
    await editor.fill('{"examples": "not a list"}');
    await page.getByText('Capabilities: "examples" must be a list of sample queries').first().waitFor(WAIT);
    await page.getByRole('button', { name: 'Run replay' }).click();
    await refusal.getByText(/Capabilities: "examples" must be a list/).waitFor(WAIT);
    const capabilities = { examples: ['when is payday', 'show me my payslip for last month'] };
    await editor.fill(JSON.stringify(capabilities));
    await page.getByRole('button', { name: 'Run replay' }).click();
    await page.getByRole('heading', { name: 'Result of new capabilities for oxygen_agent' }).waitFor(WAIT);
    await expectRendered(await replay({ update: { name: 'oxygen_agent', capabilities } }));

    // Deleting an agent picked from the list, with a limit.
    await page.getByLabel('Delete an agent').check();
    await page.getByLabel('Agent to delete').selectOption('tickets_agent');
    await page.getByLabel(/^Limit/).fill('2');
    await page.getByRole('button', { name: 'Run replay' }).click();
    await page.getByRole('heading', { name: 'Result of deleting tickets_agent' }).waitFor(WAIT);
    const deleted = (
      await api('POST', '/registry/route/replay', { change: { delete: 'tickets_agent' }, limit: 2 })
    ).body;
    expect(deleted.replayed).toBe(2);
    await expectRendered(deleted);
    expect((await api('GET', '/registry/agents/tickets_agent')).status).toBe(200);
  });

  it('asks for the admin token when the service needs one for a replay, and replays once it is given', async () => {
    const ADMIN_TOKEN = 'ui-test-admin-token-0123456789';
    const guarded = await launchService({ REGISTRY_ADMIN_TOKEN: ADMIN_TOKEN }, undefined, { uiDir });
    try {
      await page.goto(`${guarded.url}/ui#/replay`);
      await page.getByRole('heading', { name: 'What-if replay' }).waitFor(WAIT);
      // The registration it starts from is valid as it stands: only the token is missing.
      await page.getByRole('button', { name: 'Run replay' }).click();
      const refusal = page.getByRole('alert').filter({ hasText: 'Replay failed:' });
      await refusal.getByText(/401 unauthorized/).waitFor(WAIT);
      await refusal
        .getByText('A replay needs the admin token (REGISTRY_ADMIN_TOKEN): set it under Tokens.')
        .waitFor(WAIT);
      await page.locator('summary', { hasText: 'Tokens' }).click();
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Save tokens' }).click();
      await page.locator('summary', { hasText: 'Tokens' }).click();
      await page.getByRole('button', { name: 'Run replay' }).click();
      await page.getByRole('heading', { name: 'Result of registering payroll_agent' }).waitFor(WAIT);
      // A new service has logged nothing yet: nothing to replay, nothing would change.
      expect(await page.locator('[data-replayed]').innerText()).toBe('0');
      await page.getByText('Nothing would change for the replayed decisions.').waitFor(WAIT);
      expect(await refusal.count()).toBe(0);
    } finally {
      await guarded.stop();
    }
  });

  it('works from the keyboard: Tab reaches the views, Enter opens one and focus moves to its heading', async () => {
    // A fresh load: focus starts at the top of the page.
    await page.goto('about:blank');
    await page.goto(`${service.url}/ui#/agents`);
    await page.locator('tr[data-agent="tickets_agent"]').waitFor(WAIT);
    let reached = false;
    for (let i = 0; i < 6 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(
        () =>
          (globalThis as unknown as PageGlobals).document.activeElement?.textContent === 'Routing playground',
      );
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => (globalThis as unknown as PageGlobals).document.activeElement?.id === 'route-heading',
      undefined,
      WAIT,
    );
    expect(new URL(page.url()).hash).toBe('#/route');
  });

  it('lays out without horizontal scrolling at 800 px as at 1280 px', async () => {
    for (const width of [1280, 800]) {
      await page.setViewportSize({ width, height: 900 });
      for (const view of ['agents', 'sessions', 'route', 'replay']) {
        await page.goto(`${service.url}/ui#/${view}`);
        await page.locator('main h1').waitFor(WAIT);
        if (view === 'agents') await page.locator('tr[data-agent="tickets_agent"]').waitFor(WAIT);
        // Neither the page nor a table scrolls sideways.
        const overflow = await page.evaluate(() => {
          const { document } = globalThis as unknown as PageGlobals;
          return [document.documentElement, ...document.querySelectorAll('.table-wrap')].map(
            (element) => element.scrollWidth - element.clientWidth,
          );
        });
        expect(Math.max(...overflow), `${view} at ${width} px`).toBeLessThanOrEqual(0);
        if (width === 800) await shot(`${view}-800`);
      }
    }
    expect(pageErrors).toEqual([]);
  });
});
