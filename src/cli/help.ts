/**
 * @module cli/help
 * `--help` of every client command. Each command's text names its arguments, its options and what it prints.
 */

const COMMON = `Common options:
  --url <url>   The service (default: REGISTRY_URL, else http://127.0.0.1:8003).
  --json        Print JSON (the API's answer) instead of a table.
  -h, --help    Show this help.

Tokens come from the environment: REGISTRY_ADMIN_TOKEN for registry changes, REGISTRY_API_TOKEN for
/sessions, REGISTRY_READ_TOKEN for registry reads and routing. Exit codes: 0 success, 1 the API answered
with an error (its code and message are printed) or could not be reached, 2 usage error.`;

export const CLIENT_HELP: Record<string, string> = {
  agents: `Usage: agent-registry agents <subcommand> [options]

Subcommands:
  ls                                  List the agents: name, type, status, enabled, tags.
  show <name>                         One agent with its capabilities.
  register <file.json>                Register the agent the file describes
                                      ({agent_type, factory_module, factory_function, ...}).
  update-capabilities <name> <file.json>
                                      Replace an agent's capabilities with the file's
                                      ({...} or {"capabilities": {...}}).
  enable <name>                       Enable an agent.
  disable <name>                      Disable an agent (the router stops choosing it).
  rm <name>                           Delete an agent.

Run "agent-registry agents <subcommand> --help" for a subcommand's options.

${COMMON}
`,
  'agents ls': `Usage: agent-registry agents ls [--enabled-only] [--tags a,b] [--json]

List the agents, sorted by name: NAME, TYPE, STATUS (available or unavailable with the error), ENABLED, TAGS.
  --enabled-only   Only enabled agents.
  --tags a,b       Only agents having every one of these tags.

${COMMON}
`,
  'agents show': `Usage: agent-registry agents show <name> [--json]

Show one agent: its type, factory, status, tags, timestamps and capabilities.

${COMMON}
`,
  'agents register': `Usage: agent-registry agents register <file.json> [--json]

Register the agent the file describes, e.g.
  {"agent_type": "tickets", "factory_module": "jarvis_agent.mcp_agents.agent_factory",
   "factory_function": "create_tickets_agent", "capabilities": {"examples": ["show my tickets"]}}
Prints the registered name. Needs REGISTRY_ADMIN_TOKEN when the service has one.

${COMMON}
`,
  'agents update-capabilities': `Usage: agent-registry agents update-capabilities <name> <file.json> [--json]

Replace the agent's capabilities with the file's: the capabilities object itself, or {"capabilities": {...}}.

${COMMON}
`,
  'agents enable': `Usage: agent-registry agents enable <name> [--json]

Enable the agent.

${COMMON}
`,
  'agents disable': `Usage: agent-registry agents disable <name> [--json]

Disable the agent: it stays registered, the router no longer chooses it.

${COMMON}
`,
  'agents rm': `Usage: agent-registry agents rm <name> [--json]

Delete the agent from the registry.

${COMMON}
`,
  export: `Usage: agent-registry export [--url <url> | --storage]

Print the registry in its file format ({"version", "last_updated", "agents": {...}}), the format "import" reads.
  --url <url>   Ask the service (GET /registry/export). This is what happens when --url or REGISTRY_URL is given.
  --storage     Read the storage directly (DATA_DIR's registry_config.json, or DATABASE_URL's database) without
                a service; read only, safe while the service runs. The default when neither --url nor
                REGISTRY_URL is given.

Tokens: REGISTRY_READ_TOKEN for the service's export. Exit codes: 0 success, 1 error, 2 usage error.
`,
  import: `Usage: agent-registry import <file> [--dry-run] [--json]

Register or update many agents in one command. The file is the export format
({"version", "last_updated", "agents": {name: agent}}) or a plain array of agents or registrations.
  - an agent that is not registered is registered (with its capabilities, tags and enabled state);
  - a registered agent gets the file's capabilities and enabled state;
  - factory, parameters and tags of a registered agent are only set at registration: a difference is
    reported as not applied;
  - agents that are not in the file are left alone (import never deletes).
  --dry-run   Print the diff (+ register, ~ update, = unchanged) and change nothing.
With --json: {"dry_run", "actions": [...], "summary": {...}} (and "failed" when a call failed).
The calls run one by one; a failed call is reported and the rest still run (exit code 1 at the end).

${COMMON}
`,
  sessions: `Usage: agent-registry sessions <subcommand> [options]

Subcommands:
  ls        List sessions, most recently updated first.
  show <id> One session: its conversation with each agent invocation inline.
  cleanup   Delete old completed and expired sessions, expire idle active ones.

Run "agent-registry sessions <subcommand> --help" for a subcommand's options.

${COMMON}
`,
  'sessions ls': `Usage: agent-registry sessions ls [--user <id>] [--status active|completed|expired]
                                [--limit n] [--offset n | --cursor c] [--json]

List sessions, most recently updated first: ID, USER, STATUS, UPDATED, MESSAGES, INVOCATIONS, LAST AGENT
(the counts when the service gives them). Prints the total and, when the service pages by cursor, the
cursor of the next page (pass it back with --cursor).

${COMMON}
`,
  'sessions show': `Usage: agent-registry sessions show <id> [--json]

Show one session: user, status, timestamps, metadata, then its messages in order with each agent invocation
inline (agent, success or error, duration).

${COMMON}
`,
  'sessions cleanup': `Usage: agent-registry sessions cleanup [--days n] [--idle-minutes m] [--dry-run] [--json]

Retention through the API (works against any backend and any replica):
  --days n           Delete completed and expired sessions last updated more than n days ago
                     (default SESSION_RETENTION_DAYS, else 7).
  --idle-minutes m   Mark expired the active sessions not updated for m minutes
                     (default SESSION_IDLE_TIMEOUT_MINUTES, else 1440).
  --dry-run          Print what would be deleted and expired; change nothing.

${COMMON}
`,
  route: `Usage: agent-registry route "<query>" | --query <text> [--session <id>] [--top-k n] [--json]
       agent-registry route replay <change.json> [--since <ISO time>] [--limit n] [--json]

route "<query>": ask the router which agents would answer the query: the candidates with their scores, the
selected ones (none when no agent fits), and whether the session's last agent was kept for a follow-up.
  --session <id>   Route within this session (follow-ups).
  --top-k n        Candidates to return (1..50, default 5).
  --query <text>   The query, instead of the argument (for a query that is the word "replay").

route replay <change.json>: how the recorded routing decisions would change under one registry change
(POST /registry/route/replay; nothing is changed). The file is the change, {"register": {...}},
{"update": {"name", "capabilities"}} or {"delete": "name"}, or the whole request {"change": ..., "since", "limit"}.
  --since <time>   Only decisions recorded since then.
  --limit n        At most n decisions.

${COMMON}
`,
  changes: `Usage: agent-registry changes [--since <revision>] [--follow] [--json]

Print the registry's changes after a revision (the change feed, GET /registry/changes), oldest first, one a
line: time, type (registered, updated, deleted), agent, revision.
  --since <n>   Start after this revision (default: now, so only new changes).
  --follow      Keep waiting for changes (long polls) until interrupted (Ctrl-C, exit code 0). When the
                service no longer has the history after the revision (410 history_expired, e.g. after a
                restart) it reloads: prints a "reload" line with the agents as they are, and follows on.
With --json: one JSON object a line (a change as the API gives it, or {"type": "reload", ...}).

${COMMON}
`,
};
