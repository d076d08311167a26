/**
 * @module test/routing/demo-agents
 * A small registry like the product's demo: IT tickets, FinOps cloud costs, the Oxygen learning platform.
 */
import type { RoutableAgent } from '../../src/routing/routable-agent.js';

export function demoAgent(overrides: Partial<RoutableAgent> & { name: string }): RoutableAgent {
  return { description: '', tags: [], capabilities: {}, enabled: true, available: true, ...overrides };
}

export const TICKETS = demoAgent({
  name: 'tickets_agent',
  description: 'Handles IT support tickets: list, create, update and close tickets',
  tags: ['it-support'],
  capabilities: {
    domains: ['it_support'],
    operations: ['list_tickets', 'create_ticket', 'update_ticket', 'close_ticket'],
    examples: [
      'show my open tickets',
      'open a ticket for a broken laptop',
      'what is the status of my ticket',
      'close ticket 4521',
      'my vpn is not working, please create an incident',
      'list the tickets assigned to me',
    ],
  },
});

export const FINOPS = demoAgent({
  name: 'finops_agent',
  description: 'FinOps assistant for cloud costs, budgets and spending reports',
  tags: ['finops'],
  capabilities: {
    domains: ['cloud_costs'],
    operations: ['get_costs', 'cost_breakdown', 'budget_alerts'],
    examples: [
      'how much did we spend on AWS last month',
      'show the cloud cost breakdown by service',
      'which project has the highest cloud bill',
      'are we over budget this quarter',
      'compare compute spending with the previous month',
    ],
  },
});

export const OXYGEN = demoAgent({
  name: 'oxygen_agent',
  description: 'Oxygen learning platform: courses, enrolments and training progress',
  tags: ['learning'],
  capabilities: {
    domains: ['learning'],
    operations: ['list_courses', 'enroll', 'progress'],
    examples: [
      'which courses am I enrolled in',
      'enroll me in the python course',
      'show my training progress',
      'recommend a course about machine learning',
    ],
  },
});

export const DEMO_AGENTS: readonly RoutableAgent[] = [TICKETS, FINOPS, OXYGEN];
