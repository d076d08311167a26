/**
 * @module jarvis_agent/mcp_agents/finops-tools
 * Function tools of the FinOps agent: cloud spend by month, service and team, budget status, and the
 * biggest cost drivers, over the sample bill in `sample-data/finops-data.ts`.
 */
import { FunctionTool } from '@google/adk';
import { z } from 'zod';
import type { DemoCalendar } from './demo-calendar.js';
import {
  CLOUD_SERVICES,
  type CloudService,
  FINOPS_TEAMS,
  type FinopsTeam,
  SPEND_LINES,
  SPEND_MONTHS,
  TEAM_BUDGETS,
} from './sample-data/finops-data.js';

const PERIOD = z
  .union([z.enum(['this_month', 'last_month']), z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/)])
  .optional()
  .describe('Which month: this_month, last_month, or a calendar month as YYYY-MM (default this_month)');

/** At or below this share of the budget a team's forecast is on track; above 100% it is over budget. */
const AT_RISK_FROM = 0.9;

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function percent(part: number, whole: number): number {
  return Math.round((part / whole) * 1000) / 10;
}

interface MonthSpend {
  readonly service: CloudService;
  readonly team: FinopsTeam;
  readonly amount_usd: number;
  /** Same line in the month before, when the sample covers it. */
  readonly previous_usd: number | null;
}

export function createFinopsTools(calendar: DemoCalendar): FunctionTool[] {
  const months = Array.from({ length: SPEND_MONTHS }, (_, i) => calendar.month(i - (SPEND_MONTHS - 1)));

  /** Index into `SpendLine.monthly` for a period; throws a message listing the months we have. */
  const monthIndex = (period: string | undefined): number => {
    const key =
      period === undefined || period === 'this_month'
        ? calendar.month(0)
        : period === 'last_month'
          ? calendar.month(-1)
          : period;
    const index = months.indexOf(key);
    if (index < 0) {
      throw new Error(
        `No cost data for ${key}: the sample bill covers ${months.join(', ')} (this month is month-to-date).`,
      );
    }
    return index;
  };

  /** Spend of every line in a month; the current month counts only its elapsed share. */
  const spendIn = (index: number): MonthSpend[] => {
    const share = index === SPEND_MONTHS - 1 ? calendar.monthElapsed() : 1;
    return SPEND_LINES.map((line) => {
      const previous = line.monthly[index - 1];
      return {
        service: line.service,
        team: line.team,
        amount_usd: round2((line.monthly[index] as number) * share),
        previous_usd:
          previous === undefined ? null : round2(previous * (index === SPEND_MONTHS - 1 ? share : 1)),
      };
    });
  };

  const periodNote = (index: number): string | undefined =>
    index === SPEND_MONTHS - 1 ? `month to date as of ${calendar.today()}` : undefined;

  const sumBy = <K extends 'service' | 'team'>(lines: readonly MonthSpend[], key: K) => {
    const totals = new Map<MonthSpend[K], number>();
    for (const line of lines) totals.set(line[key], (totals.get(line[key]) ?? 0) + line.amount_usd);
    return [...totals]
      .sort((a, b) => b[1] - a[1])
      .map(
        ([name, amount]) =>
          ({ [key]: name, amount_usd: round2(amount) }) as { [P in K]: MonthSpend[K] } & {
            amount_usd: number;
          },
      );
  };

  const getCloudSpend = new FunctionTool({
    name: 'get_cloud_spend',
    description:
      'Cloud spend (costs, what we spent) for one month in USD, broken down by service and by team; ' +
      'optionally only one service or one team. The current month is month-to-date.',
    parameters: z.object({
      period: PERIOD,
      service: z.enum(CLOUD_SERVICES).optional().describe('Only this cloud service'),
      team: z.enum(FINOPS_TEAMS).optional().describe('Only this team'),
    }),
    execute: ({ period, service, team }) => {
      const index = monthIndex(period);
      const lines = spendIn(index).filter(
        (line) =>
          (service === undefined || line.service === service) && (team === undefined || line.team === team),
      );
      const total = round2(lines.reduce((sum, line) => sum + line.amount_usd, 0));
      return {
        period: months[index],
        ...(periodNote(index) === undefined ? {} : { note: periodNote(index) }),
        total_usd: total,
        by_service: sumBy(lines, 'service'),
        by_team: sumBy(lines, 'team'),
      };
    },
  });

  const getBudgetStatus = new FunctionTool({
    name: 'get_budget_status',
    description:
      "Budget status for the current month per team: the team's monthly budget, spend so far, forecast " +
      'for the whole month, and whether it is on track, at risk or over budget.',
    parameters: z.object({
      team: z.enum(FINOPS_TEAMS).optional().describe('Only this team (default all teams)'),
    }),
    execute: ({ team }) => {
      const index = SPEND_MONTHS - 1;
      const spent = spendIn(index);
      const teams = FINOPS_TEAMS.filter((t) => team === undefined || t === team).map((t) => {
        const budget = TEAM_BUDGETS[t];
        const lines = SPEND_LINES.filter((line) => line.team === t);
        const forecast = lines.reduce((sum, line) => sum + (line.monthly[index] as number), 0);
        const ratio = forecast / budget;
        return {
          team: t,
          status: ratio > 1 ? 'over_budget' : ratio > AT_RISK_FROM ? 'at_risk' : 'on_track',
          budget_usd: budget,
          spent_usd: round2(
            spent.filter((line) => line.team === t).reduce((sum, line) => sum + line.amount_usd, 0),
          ),
          forecast_usd: forecast,
          forecast_pct_of_budget: percent(forecast, budget),
        };
      });
      return { period: months[index], as_of: calendar.today(), teams };
    },
  });

  const topCostDrivers = new FunctionTool({
    name: 'top_cost_drivers',
    description:
      'The biggest cost drivers: service and team combinations ranked by spend in a month, or by growth ' +
      '(increase) versus the previous month: what is driving costs up.',
    parameters: z.object({
      period: PERIOD,
      limit: z.number().int().min(1).max(10).optional().describe('How many drivers to return (default 3)'),
      rank_by: z
        .enum(['amount', 'growth'])
        .optional()
        .describe('Rank by amount spent or by growth (default amount)'),
    }),
    execute: ({ period, limit = 3, rank_by = 'amount' }) => {
      const index = monthIndex(period);
      if (rank_by === 'growth' && index === 0) {
        throw new Error(`Growth needs the month before ${months[0]}, which the sample bill does not cover.`);
      }
      const growth = (line: MonthSpend): number => line.amount_usd - (line.previous_usd ?? 0);
      const drivers = spendIn(index)
        .sort((a, b) => (rank_by === 'growth' ? growth(b) - growth(a) : b.amount_usd - a.amount_usd))
        .slice(0, limit)
        .map((line) => ({
          service: line.service,
          team: line.team,
          amount_usd: line.amount_usd,
          change_vs_previous_pct:
            line.previous_usd === null ? null : percent(growth(line), line.previous_usd),
        }));
      return { period: months[index], ranked_by: rank_by, drivers };
    },
  });

  return [getCloudSpend, getBudgetStatus, topCostDrivers];
}
