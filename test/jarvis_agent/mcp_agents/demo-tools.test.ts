import { describe, expect, it } from 'vitest';
import { buildDemoAgent, type DemoAgentKind } from '../../../jarvis_agent/mcp_agents/demo-agent.js';
import { DemoCalendar } from '../../../jarvis_agent/mcp_agents/demo-calendar.js';
import { OFFLINE_MODEL_MARKER, OfflineLlm } from '../../../jarvis_agent/offline-model/offline-llm.js';
import { type Chat, startChat } from '../offline-model/adk-chat.js';

/** Thursday 12 June 2025, 10:00 UTC: 12 of June's 30 days have (partly) elapsed. */
const NOW = () => new Date('2025-06-12T10:00:00Z');

/** The offline model's own clock is years off on purpose: it must take "today" from the agent. */
const chatWith = (kind: DemoAgentKind): Promise<Chat> =>
  startChat(
    buildDemoAgent(kind, new OfflineLlm({ now: () => new Date('2031-01-01T00:00:00Z') }), { now: NOW }),
  );

describe('DemoCalendar', () => {
  it('turns relative days and months into UTC calendar dates', () => {
    const calendar = new DemoCalendar(NOW);
    expect(calendar.today()).toBe('2025-06-12');
    expect(calendar.day(-12)).toBe('2025-05-31');
    expect(calendar.day(20)).toBe('2025-07-02');
    expect(calendar.daysUntil('2025-06-10')).toBe(-2);
    expect(calendar.month()).toBe('2025-06');
    expect(calendar.month(-6)).toBe('2024-12');
    expect(calendar.monthElapsed()).toBeCloseTo(12 / 30);
    expect(calendar.todayLine()).toBe('Today is 2025-06-12 (Thursday).');

    const newYear = new DemoCalendar(() => new Date('2025-01-31T23:59:59Z'));
    expect(newYear.month(-1)).toBe('2024-12');
    expect(newYear.monthElapsed()).toBe(1);
    expect(new DemoCalendar().today()).toBe(new Date().toISOString().slice(0, 10));
  });
});

describe('tickets tools', () => {
  it('create tickets in memory per agent instance; they show up first in that queue only', async () => {
    const chat = await chatWith('tickets');
    const created = await chat('raise a critical ticket: the badge reader at the main entrance is dead');
    expect(created.calls).toEqual([
      {
        name: 'create_ticket',
        args: { title: 'The badge reader at the main entrance is dead', priority: 'critical' },
      },
    ]);
    expect(created.responses[0]?.response).toMatchObject({
      created: true,
      ticket: {
        id: 'INC-1013',
        status: 'open',
        priority: 'critical',
        created: '2025-06-12',
        reporter: 'Alex Morgan',
      },
    });
    const second = await chat('create a ticket "Need a standing desk" for hardware');
    expect(second.responses[0]?.response).toMatchObject({ ticket: { id: 'INC-1014', category: 'hardware' } });

    const queue = await chat('list critical tickets');
    expect(queue.text.split('\n')[3]).toBe(
      '- INC-1013: The badge reader at the main entrance is dead (status: open, priority: critical, ' +
        'category: software, assignee: unassigned, created: 2025-06-12)',
    );

    const fresh = await chatWith('tickets');
    const other = await fresh('list critical tickets');
    expect(other.text).not.toContain('INC-1013');
    expect(other.text).toContain('INC-1002');
  });

  it('filter by category and explain unknown ticket ids', async () => {
    const chat = await chatWith('tickets');
    const network = await chat('show network tickets');
    expect(network.calls).toEqual([{ name: 'list_tickets', args: { category: 'network' } }]);
    expect(network.responses[0]?.response).toMatchObject({ count: 2 });
    const lower = await chat('details of inc-1003');
    expect(lower.calls).toEqual([{ name: 'get_ticket_details', args: { ticket_id: 'INC-1003' } }]);
    expect(lower.text).toContain('created: 2025-06-08');
    const unknown = await chat('what is the status of INC-4040?');
    expect(unknown.text).toContain('failed: There is no ticket INC-4040. Ticket ids look like INC-1001');
    expect(unknown.text).toContain(OFFLINE_MODEL_MARKER);
  });
});

describe('finops tools', () => {
  it('report budget status from the month-to-date spend and the run-rate forecast', async () => {
    const chat = await chatWith('finops');
    const turn = await chat('are we over budget?');
    expect(turn.responses[0]?.response).toEqual({
      period: '2025-06',
      as_of: '2025-06-12',
      teams: [
        {
          team: 'platform',
          status: 'on_track',
          budget_usd: 52_000,
          spent_usd: 16_080,
          forecast_usd: 40_200,
          forecast_pct_of_budget: 77.3,
        },
        {
          team: 'data',
          status: 'at_risk',
          budget_usd: 38_000,
          spent_usd: 14_420,
          forecast_usd: 36_050,
          forecast_pct_of_budget: 94.9,
        },
        {
          team: 'web',
          status: 'at_risk',
          budget_usd: 18_500,
          spent_usd: 7_360,
          forecast_usd: 18_400,
          forecast_pct_of_budget: 99.5,
        },
        {
          team: 'mobile',
          status: 'over_budget',
          budget_usd: 8_000,
          spent_usd: 3_300,
          forecast_usd: 8_250,
          forecast_pct_of_budget: 103.1,
        },
      ],
    });
    const mobile = await chat('budget status of the mobile team');
    expect(mobile.calls).toEqual([{ name: 'get_budget_status', args: { team: 'mobile' } }]);
    expect(mobile.text).toContain('- mobile (status: over_budget');
  });

  it('break spend down by month, service and team, with the month resolved against the agent date', async () => {
    const chat = await chatWith('finops');
    const may = await chat('how much did the data team spend on bigquery in May?');
    expect(may.calls).toEqual([
      { name: 'get_cloud_spend', args: { period: '2025-05', service: 'bigquery', team: 'data' } },
    ]);
    expect(may.responses[0]?.response).toEqual({
      period: '2025-05',
      total_usd: 17_400,
      by_service: [{ service: 'bigquery', amount_usd: 17_400 }],
      by_team: [{ team: 'data', amount_usd: 17_400 }],
    });
    const now = await chat('cloud costs this month');
    expect(now.responses[0]?.response).toMatchObject({
      period: '2025-06',
      note: 'month to date as of 2025-06-12',
      total_usd: 41_160,
    });
    const old = await chat('cloud spend in January');
    expect(old.text).toContain('No cost data for 2025-01: the sample bill covers 2025-04, 2025-05, 2025-06');
  });

  it('rank cost drivers by amount or by growth', async () => {
    const chat = await chatWith('finops');
    const growth = await chat('what is driving the increase in costs last month? top 2');
    expect(growth.calls).toEqual([
      { name: 'top_cost_drivers', args: { period: 'last_month', limit: 2, rank_by: 'growth' } },
    ]);
    expect(growth.responses[0]?.response).toEqual({
      period: '2025-05',
      ranked_by: 'growth',
      drivers: [
        { service: 'bigquery', team: 'data', amount_usd: 17_400, change_vs_previous_pct: 10.1 },
        { service: 'compute', team: 'platform', amount_usd: 19_250, change_vs_previous_pct: 4.6 },
      ],
    });
    const oldest = await chat('top cost drivers two months ago');
    expect(oldest.responses[0]?.response).toMatchObject({
      period: '2025-04',
      drivers: [
        { service: 'compute', team: 'platform', amount_usd: 18_400, change_vs_previous_pct: null },
        {},
        {},
      ],
    });
    const impossible = await chat('cost growth drivers two months ago');
    expect(impossible.text).toContain('Growth needs the month before 2025-04');
  });
});

describe('oxygen tools', () => {
  it('enrol in memory: mandatory courses are due in 14 days, others in 30, and only once', async () => {
    const chat = await chatWith('oxygen');
    const mandatory = await chat('enrol me in CRS-112');
    expect(mandatory.responses[0]?.response).toMatchObject({
      enrolled: true,
      enrolment: { course_id: 'CRS-112', status: 'not_started', deadline: '2025-06-26', days_left: 14 },
    });
    const optional = await chat('sign me up for crs-111');
    expect(optional.responses[0]?.response).toMatchObject({
      enrolment: { course_id: 'CRS-111', deadline: '2025-07-12' },
    });
    const again = await chat('enrol me in CRS-112');
    expect(again.responses[0]?.response).toMatchObject({ enrolled: false, reason: 'already enrolled' });
    const mine = await chat('my enrolments not started');
    expect(mine.responses[0]?.response).toMatchObject({ learner: 'Alex Morgan', count: 3 });
    const unknown = await chat('enrol me in CRS-999');
    expect(unknown.text).toContain('There is no course CRS-999');
  });

  it('show catalogue filters, course details and completed enrolments', async () => {
    const chat = await chatWith('oxygen');
    const optional = await chat('list courses that are not mandatory for advanced learners');
    expect(optional.calls).toEqual([{ name: 'list_courses', args: { level: 'advanced', mandatory: false } }]);
    expect(optional.responses[0]?.response).toMatchObject({ count: 2 });
    const details = await chat('tell me about course CRS-105');
    expect(details.responses[0]?.response).toMatchObject({
      course_id: 'CRS-105',
      my_enrolment: 'not enrolled',
    });
    const done = await chat('which courses have I completed?');
    expect(done.calls).toEqual([{ name: 'get_my_enrolments', args: { status: 'completed' } }]);
    expect(done.text).toContain(
      '- CRS-106: SQL for Analysts (status: completed, progress pct: 100, deadline: 2025-05-13, days left: none, completed on: 2025-05-03)',
    );
    const soon = await chat('deadlines in the next 3 days');
    expect(soon.calls).toEqual([{ name: 'upcoming_deadlines', args: { days: 3 } }]);
    expect(soon.responses[0]?.response).toMatchObject({ count: 2, window_days: 3 });
  });
});
