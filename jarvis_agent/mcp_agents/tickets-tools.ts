/**
 * @module jarvis_agent/mcp_agents/tickets-tools
 * Function tools of the IT support tickets agent over the sample service-desk queue. Tickets created
 * through `create_ticket` live in memory in this set of tools only (one per agent instance).
 */
import { FunctionTool } from '@google/adk';
import { z } from 'zod';
import type { DemoCalendar } from './demo-calendar.js';
import {
  DEMO_REQUESTER,
  SAMPLE_TICKETS,
  type SampleTicket,
  TICKET_CATEGORIES,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
} from './sample-data/tickets-data.js';

/** A ticket as the tools show it: a sample ticket with its dates resolved against today. */
export type Ticket = Omit<SampleTicket, 'createdDaysAgo' | 'updatedDaysAgo'> & {
  readonly created: string;
  readonly updated: string;
};

const TICKET_ID = /^INC-(\d+)$/;

/** The tickets agent's tools; each call creates an independent in-memory queue. */
export function createTicketsTools(calendar: DemoCalendar): FunctionTool[] {
  const created: Ticket[] = [];

  /** Sample tickets dated against today, plus the ones created in this session, newest first. */
  const queue = (): Ticket[] =>
    [
      ...SAMPLE_TICKETS.map(({ createdDaysAgo, updatedDaysAgo, ...ticket }) => ({
        ...ticket,
        created: calendar.day(-createdDaysAgo),
        updated: calendar.day(-updatedDaysAgo),
      })),
      ...created,
    ].sort((a, b) => b.created.localeCompare(a.created) || b.id.localeCompare(a.id, 'en', { numeric: true }));

  const listTickets = new FunctionTool({
    name: 'list_tickets',
    description:
      'List IT support tickets in the service desk queue, newest first, optionally filtered by status, ' +
      'priority and category. Use it to show, browse or count tickets.',
    parameters: z.object({
      status: z.enum(TICKET_STATUSES).optional().describe('Only tickets with this status'),
      priority: z.enum(TICKET_PRIORITIES).optional().describe('Only tickets with this priority'),
      category: z.enum(TICKET_CATEGORIES).optional().describe('Only tickets of this kind'),
    }),
    execute: ({ status, priority, category }) => {
      const tickets = queue()
        .filter(
          (t) =>
            (status === undefined || t.status === status) &&
            (priority === undefined || t.priority === priority) &&
            (category === undefined || t.category === category),
        )
        .map(({ id, title, status: s, priority: p, category: k, assignee, created: c }) => ({
          id,
          title,
          status: s,
          priority: p,
          category: k,
          assignee,
          created: c,
        }));
      return { count: tickets.length, tickets };
    },
  });

  const getTicketDetails = new FunctionTool({
    name: 'get_ticket_details',
    description:
      'Get the full details of one IT support ticket by its id: description, status, priority, assignee, ' +
      'reporter, category and dates.',
    parameters: z.object({
      ticket_id: z.string().min(1).describe('The ticket id, e.g. INC-1001'),
    }),
    execute: ({ ticket_id }) => {
      const id = ticket_id.trim().toUpperCase();
      const ticket = queue().find((t) => t.id === id);
      if (ticket === undefined) {
        throw new Error(
          `There is no ticket ${id}. Ticket ids look like INC-1001; list_tickets shows the queue.`,
        );
      }
      return ticket;
    },
  });

  const createTicket = new FunctionTool({
    name: 'create_ticket',
    description:
      'Create (open, raise, file, log or report) a new IT support ticket for a problem or request. ' +
      'Demo: the ticket is kept in memory by this agent instance only and is gone after a restart.',
    parameters: z.object({
      title: z.string().trim().min(3).max(200).describe('One-line summary of the problem or request'),
      priority: z.enum(TICKET_PRIORITIES).optional().describe('How urgent it is (default medium)'),
      category: z.enum(TICKET_CATEGORIES).optional().describe('Kind of problem (default software)'),
    }),
    execute: ({ title, priority = 'medium', category = 'software' }) => {
      const highest = Math.max(...queue().map((t) => Number(TICKET_ID.exec(t.id)?.[1] ?? 0)));
      const ticket: Ticket = {
        id: `INC-${highest + 1}`,
        title,
        description: title,
        status: 'open',
        priority,
        category,
        assignee: 'unassigned',
        reporter: DEMO_REQUESTER,
        created: calendar.today(),
        updated: calendar.today(),
      };
      created.push(ticket);
      return {
        created: true,
        ticket,
        note: 'Demo data: this ticket is kept in memory by this agent instance only.',
      };
    },
  });

  return [listTickets, getTicketDetails, createTicket];
}
