/**
 * @module jarvis_agent/mcp_agents/sample-data/finops-data
 * Sample cloud bill for the FinOps demo agent: a dozen service/team cost lines over three months (two
 * months ago, last month, this month) plus each team's monthly budget, in USD. Months are relative to
 * the agent's clock (see `demo-calendar.ts`); this month's figure is the full-month run rate, of which
 * the elapsed share counts as spent so far.
 */

export const CLOUD_SERVICES = [
  'compute',
  'kubernetes',
  'bigquery',
  'cloud_sql',
  'storage',
  'networking',
] as const;
export const FINOPS_TEAMS = ['platform', 'data', 'web', 'mobile'] as const;

export type CloudService = (typeof CLOUD_SERVICES)[number];
export type FinopsTeam = (typeof FINOPS_TEAMS)[number];

export interface SpendLine {
  readonly service: CloudService;
  readonly team: FinopsTeam;
  /** USD for [two months ago, last month, this month's full-month run rate]. */
  readonly monthly: readonly [number, number, number];
}

/** How many months of history the sample covers, ending with the current month. */
export const SPEND_MONTHS = 3;

export const SPEND_LINES: readonly SpendLine[] = [
  { service: 'compute', team: 'platform', monthly: [18_400, 19_250, 21_800] },
  { service: 'kubernetes', team: 'platform', monthly: [12_600, 13_100, 13_900] },
  { service: 'networking', team: 'platform', monthly: [4_200, 4_350, 4_500] },
  { service: 'bigquery', team: 'data', monthly: [15_800, 17_400, 22_600] },
  { service: 'storage', team: 'data', monthly: [6_100, 6_300, 6_550] },
  { service: 'compute', team: 'data', monthly: [7_300, 7_000, 6_900] },
  { service: 'cloud_sql', team: 'web', monthly: [5_400, 5_600, 5_750] },
  { service: 'kubernetes', team: 'web', monthly: [8_800, 9_100, 9_300] },
  { service: 'networking', team: 'web', monthly: [2_900, 3_100, 3_350] },
  { service: 'compute', team: 'mobile', monthly: [3_600, 3_900, 4_100] },
  { service: 'storage', team: 'mobile', monthly: [1_500, 1_650, 1_700] },
  { service: 'cloud_sql', team: 'mobile', monthly: [2_300, 2_400, 2_450] },
];

/** Monthly budget per team, USD. */
export const TEAM_BUDGETS: Readonly<Record<FinopsTeam, number>> = {
  platform: 52_000,
  data: 38_000,
  web: 18_500,
  mobile: 8_000,
};
