/**
 * @module jarvis_agent/mcp_agents/demo-agents
 * Registration bodies (`POST /registry/agents`) of the three demo agents: the service registers them on
 * first start and the migration script reuses them. Their `capabilities.examples` are what the router
 * learns from, so each covers every tool of its agent in varied phrasings and keeps to its own vocabulary.
 */

/** The seed's dotted module path of the demo factories (`jarvis_agent/mcp_agents/agent_factory.ts`). */
export const DEMO_FACTORY_MODULE = 'jarvis_agent.mcp_agents.agent_factory';

/** The body of `POST /registry/agents` as the demo agents use it. */
export interface DemoAgentRegistration {
  readonly agent_type: string;
  readonly factory_module: string;
  readonly factory_function: string;
  readonly factory_params: Readonly<Record<string, unknown>>;
  readonly capabilities: {
    readonly domains: readonly string[];
    /** The agent's tools. */
    readonly operations: readonly string[];
    /** Sample user queries the router learns from. */
    readonly examples: readonly string[];
  };
  readonly tags: readonly string[];
}

/** A demo registration as a mutable deep copy: the body `POST /registry/agents` and the registry take. */
export interface DemoRegistrationBody {
  agent_type: string;
  factory_module: string;
  factory_function: string;
  factory_params: Record<string, unknown>;
  capabilities: { domains: string[]; operations: string[]; examples: string[] };
  tags: string[];
}

/** A mutable deep copy of a (frozen) demo registration, to hand to the registry or its API. */
export function toRegistration(demo: DemoAgentRegistration): DemoRegistrationBody {
  const { capabilities } = demo;
  return {
    agent_type: demo.agent_type,
    factory_module: demo.factory_module,
    factory_function: demo.factory_function,
    factory_params: { ...demo.factory_params },
    capabilities: {
      domains: [...capabilities.domains],
      operations: [...capabilities.operations],
      examples: [...capabilities.examples],
    },
    tags: [...demo.tags],
  };
}

function frozen(registration: DemoAgentRegistration): DemoAgentRegistration {
  const { capabilities } = registration;
  return Object.freeze({
    ...registration,
    factory_params: Object.freeze({ ...registration.factory_params }),
    capabilities: Object.freeze({
      domains: Object.freeze([...capabilities.domains]),
      operations: Object.freeze([...capabilities.operations]),
      examples: Object.freeze([...capabilities.examples]),
    }),
    tags: Object.freeze([...registration.tags]),
  });
}

export const DEMO_AGENTS: readonly DemoAgentRegistration[] = Object.freeze([
  frozen({
    agent_type: 'tickets',
    factory_module: DEMO_FACTORY_MODULE,
    factory_function: 'create_tickets_agent',
    factory_params: {},
    capabilities: {
      domains: ['it_support', 'service_desk', 'helpdesk', 'incidents'],
      operations: ['list_tickets', 'get_ticket_details', 'create_ticket'],
      examples: [
        'show my open tickets',
        'What IT tickets do I have in progress?',
        'list all critical support tickets',
        'Any high priority tickets still waiting on the service desk?',
        'How many helpdesk tickets are open right now?',
        'show me the closed tickets',
        'Which of my tickets were resolved this week?',
        'Show me the IT helpdesk queue',
        "What's the status of my ticket INC-1003?",
        'Give me the details of ticket INC-1007',
        'who is assigned to INC-1001?',
        'Has anyone picked up my Outlook password ticket yet?',
        'Raise a ticket: my laptop battery is swelling',
        'Log a support request for a second monitor',
        'My VPN keeps dropping, can you open a ticket for it?',
        'Create a high priority ticket for the broken printer on floor 3',
        "I can't log in to Jira, please report it to IT",
        'File an incident ticket: Zoom crashes when I share my screen',
        'the office Wi-Fi keeps disconnecting, I need IT help',
        'What happened with my access tickets?',
      ],
    },
    tags: ['demo', 'it', 'support'],
  }),
  frozen({
    agent_type: 'finops',
    factory_module: DEMO_FACTORY_MODULE,
    factory_function: 'create_finops_agent',
    factory_params: {},
    capabilities: {
      domains: ['finops', 'cloud_cost', 'budgets'],
      operations: ['get_cloud_spend', 'get_budget_status', 'top_cost_drivers'],
      examples: [
        'what did we spend on cloud last month',
        'How much is our cloud bill this month so far?',
        'Break down cloud costs by service for April',
        'What does BigQuery cost us?',
        'How much did the data team spend on cloud in May?',
        'cloud spend per team this month',
        'Kubernetes spend for the web team last month',
        'networking and egress costs this month',
        'Are we over budget?',
        'Which teams are at risk of exceeding their cloud budget?',
        "What's the month-end forecast against budget for the platform team?",
        "How much of the mobile team's budget is used up?",
        'Is the web team on track with its budget?',
        'What are our top cloud cost drivers?',
        'Which services cost the most last month?',
        "What's driving the increase in our cloud costs?",
        'Show the fastest growing cloud costs compared to the previous month',
        'top 5 most expensive services and teams',
        'Give me a FinOps summary of this month’s spending',
        'How did compute spend change compared to last month?',
      ],
    },
    tags: ['demo', 'finance', 'cloud'],
  }),
  frozen({
    agent_type: 'oxygen',
    factory_module: DEMO_FACTORY_MODULE,
    factory_function: 'create_oxygen_agent',
    factory_params: {},
    capabilities: {
      domains: ['learning', 'training', 'courses', 'oxygen'],
      operations: [
        'list_courses',
        'get_course_details',
        'get_my_enrolments',
        'upcoming_deadlines',
        'enrol_in_course',
      ],
      examples: [
        'which courses are due this week',
        'What training deadlines do I have coming up?',
        'Any training due in the next 30 days?',
        'Which of my courses are overdue?',
        'Show my Oxygen enrolments',
        'What courses am I enrolled in?',
        'How is my progress on my courses going?',
        'Which e-learning modules have I completed?',
        'What is my progress on the GDPR course?',
        'List the mandatory training courses',
        'Are there any security courses for beginners?',
        'Find leadership courses on Oxygen',
        'What data courses are available on the learning platform?',
        'Recommend an intermediate engineering course',
        'Tell me about course CRS-104',
        'How many hours is course CRS-109 and is it mandatory?',
        'Enrol me in CRS-107',
        'Sign me up for the Presenting with Impact course',
        'Register me for the SQL for Analysts training',
        'What do I still need to finish before my training deadlines?',
      ],
    },
    tags: ['demo', 'learning', 'training'],
  }),
]);
