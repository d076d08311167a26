/**
 * @module jarvis_agent/mcp_agents/demo-agent
 * Builds the three demo `LlmAgent`s (IT tickets, FinOps, Oxygen learning) from their name, description,
 * instruction and tools. The factories in `agent_factory.ts` call this with the host's model.
 */
import { type BaseLlm, type FunctionTool, LlmAgent } from '@google/adk';
import { type DemoAgentOptions, DemoCalendar } from './demo-calendar.js';
import { createFinopsTools } from './finops-tools.js';
import { createOxygenTools } from './oxygen-tools.js';
import { createTicketsTools } from './tickets-tools.js';

export type DemoAgentKind = 'tickets' | 'finops' | 'oxygen';

interface DemoAgentSpec {
  readonly name: string;
  readonly description: string;
  /** Role and rules; the date line is prepended per request. */
  readonly instruction: string;
  readonly createTools: (calendar: DemoCalendar) => FunctionTool[];
}

const RULES =
  'Answer only from tool results and never invent ids, names, dates or amounts. When the user refers to an ' +
  'item of an earlier answer ("the second one", "that ticket"), use its id from that answer. Keep replies ' +
  'short: one line per item.';

const SPECS: Readonly<Record<DemoAgentKind, DemoAgentSpec>> = {
  tickets: {
    name: 'tickets_agent',
    description:
      'IT support tickets: lists the service desk queue by status or priority, shows the details of a ' +
      'ticket (INC-1001) and raises new tickets.',
    instruction:
      'You are the IT service desk assistant. Use list_tickets to show the queue, get_ticket_details for ' +
      'one ticket and create_ticket to raise a new one (ask for a one-line summary if the user gave none). ' +
      RULES,
    createTools: createTicketsTools,
  },
  finops: {
    name: 'finops_agent',
    description:
      'Cloud cost and budgets (FinOps): monthly cloud spend by service and team, budget status and ' +
      'forecasts, and the biggest cost drivers.',
    instruction:
      'You are the FinOps assistant for our cloud bill. Use get_cloud_spend for what was spent in a month, ' +
      'get_budget_status for budgets and forecasts, and top_cost_drivers for what costs the most or grows ' +
      'fastest. Amounts are USD; say when a figure is month-to-date. ' +
      RULES,
    createTools: createFinopsTools,
  },
  oxygen: {
    name: 'oxygen_agent',
    description:
      'Oxygen, the internal learning platform: the course catalogue, my enrolments and progress, upcoming ' +
      'course deadlines, and enrolling in courses.',
    instruction:
      'You are the assistant of Oxygen, the internal learning platform. Use list_courses to browse the ' +
      'catalogue, get_course_details for one course, get_my_enrolments for progress, upcoming_deadlines for ' +
      'what is due soon (7 days = this week) and enrol_in_course to enrol. ' +
      RULES,
    createTools: createOxygenTools,
  },
};

/** A fresh demo agent of `kind` on `model`, with its own in-memory tool state. */
export function buildDemoAgent(
  kind: DemoAgentKind,
  model: BaseLlm | string,
  options: DemoAgentOptions = {},
): LlmAgent {
  const spec = SPECS[kind];
  const calendar = new DemoCalendar(options.now);
  return new LlmAgent({
    name: spec.name,
    description: spec.description,
    model,
    // A provider, not a string: the date moves while the service runs, and ADK would read any `{...}` in
    // a plain string as a session-state placeholder.
    instruction: () => `${calendar.todayLine()}\n${spec.instruction}`,
    tools: spec.createTools(calendar),
  });
}
