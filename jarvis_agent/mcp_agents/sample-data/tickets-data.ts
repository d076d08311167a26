/**
 * @module jarvis_agent/mcp_agents/sample-data/tickets-data
 * Sample IT service-desk queue for the tickets demo agent. Dates are relative ("created 2 days ago")
 * and turned into calendar dates against the agent's clock (see `demo-calendar.ts`), so "today" is
 * whatever day the demo runs; tests fix it with a clock.
 */

export const TICKET_STATUSES = ['open', 'in_progress', 'resolved', 'closed'] as const;
export const TICKET_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export const TICKET_CATEGORIES = ['hardware', 'software', 'network', 'access', 'email'] as const;

export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export type TicketCategory = (typeof TICKET_CATEGORIES)[number];

export interface SampleTicket {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly status: TicketStatus;
  readonly priority: TicketPriority;
  readonly category: TicketCategory;
  readonly assignee: string;
  readonly reporter: string;
  readonly createdDaysAgo: number;
  readonly updatedDaysAgo: number;
}

/** The person the demo acts for ("my tickets" are the ones they reported). */
export const DEMO_REQUESTER = 'Alex Morgan';

export const SAMPLE_TICKETS: readonly SampleTicket[] = [
  {
    id: 'INC-1001',
    title: 'VPN disconnects every few minutes on home Wi-Fi',
    description: 'GlobalProtect drops the tunnel roughly every 5 minutes since the client update on Monday.',
    status: 'open',
    priority: 'high',
    category: 'network',
    assignee: 'Priya Shah',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 2,
    updatedDaysAgo: 1,
  },
  {
    id: 'INC-1002',
    title: 'Laptop battery swelling, trackpad lifting',
    description:
      'MacBook Pro 14" battery is visibly swollen; the trackpad no longer clicks. Device asset LT-4471.',
    status: 'open',
    priority: 'critical',
    category: 'hardware',
    assignee: 'Marcus Lee',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 1,
    updatedDaysAgo: 1,
  },
  {
    id: 'INC-1003',
    title: 'No access to the Finance shared drive after team move',
    description: 'Moved from Sales to Finance Ops; the Finance-Shared drive still returns "access denied".',
    status: 'in_progress',
    priority: 'medium',
    category: 'access',
    assignee: 'Priya Shah',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 4,
    updatedDaysAgo: 2,
  },
  {
    id: 'INC-1004',
    title: 'Outlook keeps prompting for password',
    description: 'Outlook desktop asks for credentials every hour; webmail works fine.',
    status: 'open',
    priority: 'medium',
    category: 'email',
    assignee: 'unassigned',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 0,
    updatedDaysAgo: 0,
  },
  {
    id: 'INC-1005',
    title: 'Install Docker Desktop on developer laptop',
    description: 'Software request: Docker Desktop with a business licence for local integration tests.',
    status: 'in_progress',
    priority: 'low',
    category: 'software',
    assignee: 'Jonas Weber',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 6,
    updatedDaysAgo: 3,
  },
  {
    id: 'INC-1006',
    title: 'Printer on floor 3 jams on double-sided jobs',
    description: 'The HP LaserJet by the kitchen jams whenever duplex printing is selected.',
    status: 'resolved',
    priority: 'low',
    category: 'hardware',
    assignee: 'Marcus Lee',
    reporter: 'Dana Kim',
    createdDaysAgo: 9,
    updatedDaysAgo: 5,
  },
  {
    id: 'INC-1007',
    title: 'Jira single sign-on loops back to the login page',
    description: 'After the SSO certificate rotation, Chrome loops between Okta and Jira; Firefox works.',
    status: 'in_progress',
    priority: 'high',
    category: 'access',
    assignee: 'Jonas Weber',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 3,
    updatedDaysAgo: 1,
  },
  {
    id: 'INC-1008',
    title: 'Accounts and laptop for new starter Dana Kim',
    description:
      'Onboarding: email, Slack, Jira and a standard developer laptop for a start date next Monday.',
    status: 'resolved',
    priority: 'medium',
    category: 'access',
    assignee: 'Priya Shah',
    reporter: 'Sam Rivera',
    createdDaysAgo: 12,
    updatedDaysAgo: 8,
  },
  {
    id: 'INC-1009',
    title: 'Wi-Fi drops in meeting room Aurora',
    description: 'Video calls in Aurora (2nd floor) lose connection several times per meeting.',
    status: 'open',
    priority: 'high',
    category: 'network',
    assignee: 'Marcus Lee',
    reporter: 'Dana Kim',
    createdDaysAgo: 1,
    updatedDaysAgo: 0,
  },
  {
    id: 'INC-1010',
    title: 'Zoom crashes when sharing a screen on macOS',
    description: 'Zoom 6.x quits on screen share; fixed by granting the screen-recording permission.',
    status: 'closed',
    priority: 'medium',
    category: 'software',
    assignee: 'Jonas Weber',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 20,
    updatedDaysAgo: 16,
  },
  {
    id: 'INC-1011',
    title: 'Phishing email reported: fake payroll update',
    description:
      'Email impersonating HR asked staff to "confirm bank details"; sender blocked, messages purged.',
    status: 'closed',
    priority: 'critical',
    category: 'email',
    assignee: 'Sam Rivera',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 15,
    updatedDaysAgo: 14,
  },
  {
    id: 'INC-1012',
    title: 'External monitor flickers on the docking station',
    description: 'Dell U2723QE flickers through the USB-C dock; replaced the cable, fine since.',
    status: 'resolved',
    priority: 'low',
    category: 'hardware',
    assignee: 'Marcus Lee',
    reporter: DEMO_REQUESTER,
    createdDaysAgo: 7,
    updatedDaysAgo: 4,
  },
];
