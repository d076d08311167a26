/**
 * @module cli/commands
 * The client commands of `agent-registry` (agents, export from the service, import, sessions, route,
 * changes): each calls the service's public API through the typed clients of `src/client`, prints a table
 * (or JSON with `--json`) and returns its exit code: 0 success, 1 API error, 2 usage error.
 */
import {
  type Agent,
  type AgentRegistration,
  type Capabilities,
  type RegistryChange,
  RegistryClient,
  type RouteReplayRequest,
} from '../client/registry-client.js';
import { isServiceCallError, ServiceHttpClient } from '../client/service-http-client.js';
import { type Session, SessionClient, type SessionListPage } from '../client/session-client.js';
import { messageOf } from '../errors.js';
import { CLIENT_HELP } from './help.js';
import { describeImport, type ImportAction, importEntries, planImport, summarize } from './import-plan.js';
import {
  type CliIo,
  clip,
  EXIT_API_ERROR,
  EXIT_OK,
  EXIT_USAGE,
  integerOption,
  isPlainObject,
  json,
  numberOption,
  type OptionSpec,
  type Parsed,
  parseCommand,
  readJsonFile,
  stringOption,
  table,
  UsageError,
} from './io.js';

export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8003';
/** The commands this module runs (`serve`, `db-init`, ... are the composition root's). */
export const CLIENT_COMMANDS = new Set(['agents', 'import', 'sessions', 'route', 'changes']);

const SESSION_STATUSES = new Set(['active', 'completed', 'expired']);
/** Seconds each long poll of `changes --follow` may wait (the service's maximum). */
const FOLLOW_WAIT_SECONDS = 30;

interface Clients {
  registry: RegistryClient;
  sessions: SessionClient;
}

type Handler = (parsed: Parsed, clients: () => Clients, io: CliIo) => Promise<number>;

interface Command {
  options?: OptionSpec;
  /** Positional arguments, e.g. `['<name>', '<file.json>']`; `[...]` ones are optional. */
  args?: string[];
  run: Handler;
}

/**
 * Run a client command (`argv` starts with its name: `['agents', 'ls', '--json']`). Resolves with the exit
 * code; writes only through `io`.
 */
export async function runClientCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [group = '', ...rest] = argv;
  try {
    return await dispatch(group, rest, io);
  } catch (error) {
    return report(error, io);
  }
}

/** `agent-registry export` against the service (`--url` or REGISTRY_URL): GET /registry/export. */
export async function exportFromService(url: string | undefined, io: CliIo): Promise<number> {
  try {
    const document = await connect(io, url).registry.exportRegistry();
    io.stdout(json(document));
    return EXIT_OK;
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    const help = error.command === undefined ? '' : ` (see "agent-registry ${error.command} --help")`;
    io.stderr(`agent-registry: ${error.message}${help}\n`);
    return EXIT_USAGE;
  }
  if (isServiceCallError(error)) {
    // The message carries the call, the HTTP status and the API's error code and message.
    io.stderr(`agent-registry: ${error.message}\n`);
    if (error.code !== undefined) io.stderr(`error code: ${error.code}\n`);
    return EXIT_API_ERROR;
  }
  io.stderr(`agent-registry: ${messageOf(error)}\n`);
  return EXIT_API_ERROR;
}

async function dispatch(group: string, rest: string[], io: CliIo): Promise<number> {
  if (group === 'agents' || group === 'sessions') {
    const table = group === 'agents' ? AGENT_COMMANDS : SESSION_COMMANDS;
    const [sub, ...args] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      (sub === undefined ? io.stderr : io.stdout)(CLIENT_HELP[group] ?? '');
      return sub === undefined ? EXIT_USAGE : EXIT_OK;
    }
    const command = table[sub];
    if (command === undefined) throw new UsageError(`unknown ${group} subcommand "${sub}"`, group);
    return run(`${group} ${sub}`, command, args, io);
  }
  if (group === 'route' && rest[0] === 'replay') return run('route', ROUTE_REPLAY, rest.slice(1), io);
  const command = TOP_COMMANDS[group];
  if (command === undefined) throw new UsageError(`unknown command "${group}"`);
  return run(group, command, rest, io);
}

async function run(name: string, command: Command, args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(name, args, command.options ?? {}, command.args ?? []);
  if (parsed.values.help === true) {
    io.stdout(CLIENT_HELP[name] ?? '');
    return EXIT_OK;
  }
  let clients: Clients | undefined;
  return command.run(parsed, () => (clients ??= connect(io, stringOption(parsed, 'url'))), io);
}

/** The typed clients for `--url` (or REGISTRY_URL), with the tokens from the environment. */
function connect(io: CliIo, url: string | undefined): Clients {
  const baseUrl = url ?? nonEmpty(io.env.REGISTRY_URL) ?? DEFAULT_REGISTRY_URL;
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new UsageError(`the service URL "${baseUrl}" is not a URL (e.g. ${DEFAULT_REGISTRY_URL})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`the service URL "${baseUrl}" must be http:// or https://`);
  }
  const http = new ServiceHttpClient({
    baseUrl,
    adminToken: nonEmpty(io.env.REGISTRY_ADMIN_TOKEN),
    apiToken: nonEmpty(io.env.REGISTRY_API_TOKEN),
    readToken: nonEmpty(io.env.REGISTRY_READ_TOKEN),
  });
  return { registry: new RegistryClient(http), sessions: new SessionClient(http) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isJson(parsed: Parsed): boolean {
  return parsed.values.json === true;
}

function positional(parsed: Parsed, index: number): string {
  return parsed.positionals[index] ?? '';
}

// ---------------------------------------------------------------------------------------------- agents

const AGENT_COMMANDS: Record<string, Command> = {
  ls: {
    options: { 'enabled-only': { type: 'boolean' }, tags: { type: 'string' } },
    async run(parsed, clients, io) {
      const tags = stringOption(parsed, 'tags')
        ?.split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag !== '');
      const listing = await clients().registry.listAgents({
        enabledOnly: parsed.values['enabled-only'] === true,
        ...(tags !== undefined && { tags }),
      });
      // A listing without If-None-Match is never "not modified".
      const { agents, total } = listing as Extract<typeof listing, { notModified: false }>;
      if (isJson(parsed)) {
        io.stdout(json({ agents, total }));
        return EXIT_OK;
      }
      io.stdout(agentTable(agents));
      io.stdout(`${total} agent${total === 1 ? '' : 's'}\n`);
      return EXIT_OK;
    },
  },
  show: {
    args: ['<name>'],
    async run(parsed, clients, io) {
      const agent = await clients().registry.getAgent(positional(parsed, 0));
      io.stdout(isJson(parsed) ? json(agent) : describeAgent(agent));
      return EXIT_OK;
    },
  },
  register: {
    args: ['<file.json>'],
    async run(parsed, clients, io) {
      const file = positional(parsed, 0);
      const registration = await readJsonFile(file, 'agents register');
      if (!isPlainObject(registration)) {
        throw new UsageError(`${file} must hold one registration object`, 'agents register');
      }
      const answer = await clients().registry.registerAgent(registration as AgentRegistration);
      io.stdout(isJson(parsed) ? json(answer) : `registered ${answer.agent_name}\n`);
      return EXIT_OK;
    },
  },
  'update-capabilities': {
    args: ['<name>', '<file.json>'],
    async run(parsed, clients, io) {
      const [name = '', file = ''] = parsed.positionals;
      const content = await readJsonFile(file, 'agents update-capabilities');
      if (!isPlainObject(content)) {
        throw new UsageError(
          `${file} must hold a capabilities object (or {"capabilities": {...}})`,
          'agents update-capabilities',
        );
      }
      const keys = Object.keys(content);
      const capabilities =
        keys.length === 1 && keys[0] === 'capabilities' && isPlainObject(content.capabilities)
          ? content.capabilities
          : content;
      const answer = await clients().registry.updateCapabilities(name, capabilities as Capabilities);
      io.stdout(isJson(parsed) ? json(answer) : `updated the capabilities of ${name}\n`);
      return EXIT_OK;
    },
  },
  enable: statusCommand(true),
  disable: statusCommand(false),
  rm: {
    args: ['<name>'],
    async run(parsed, clients, io) {
      const name = positional(parsed, 0);
      const answer = await clients().registry.deleteAgent(name);
      io.stdout(isJson(parsed) ? json(answer) : `deleted ${name}\n`);
      return EXIT_OK;
    },
  },
};

function statusCommand(enabled: boolean): Command {
  return {
    args: ['<name>'],
    async run(parsed, clients, io) {
      const name = positional(parsed, 0);
      const answer = await clients().registry.setEnabled(name, enabled);
      io.stdout(isJson(parsed) ? json(answer) : `${answer.status} ${name}\n`);
      return EXIT_OK;
    },
  };
}

function agentTable(agents: readonly Agent[]): string {
  const withError = agents.some((agent) => agent.error !== undefined);
  const headers = ['NAME', 'TYPE', 'STATUS', 'ENABLED', 'TAGS', ...(withError ? ['ERROR'] : [])];
  const rows = [...agents]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((agent) => [
      agent.name,
      agent.agent_type,
      agent.status,
      agent.enabled ? 'yes' : 'no',
      agent.tags.join(','),
      ...(withError ? [clip(agent.error ?? '', 60)] : []),
    ]);
  return table(headers, rows);
}

function describeAgent(agent: Agent): string {
  const rows: [string, string][] = [
    ['name', agent.name],
    ['description', agent.description],
    ['type', agent.agent_type],
    ['factory', `${agent.factory_module}.${agent.factory_function}`],
    ['factory params', JSON.stringify(agent.factory_params)],
    ['status', agent.error === undefined ? agent.status : `${agent.status}: ${agent.error}`],
    ['enabled', agent.enabled ? 'yes' : 'no'],
    ['tags', agent.tags.join(', ')],
    ['registered', agent.registered_at],
    ['updated', agent.updated_at],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  const capabilities = JSON.stringify(agent.capabilities, null, 2).replace(/\n/g, '\n  ');
  return `${rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')}\ncapabilities:\n  ${capabilities}\n`;
}

// ---------------------------------------------------------------------------------------------- import

const IMPORT: Command = {
  args: ['<file>'],
  options: { 'dry-run': { type: 'boolean' } },
  async run(parsed, clients, io) {
    const file = positional(parsed, 0);
    const document = await readJsonFile(file, 'import');
    let entries: ReturnType<typeof importEntries>;
    try {
      entries = importEntries(document);
    } catch (error) {
      throw new UsageError(`${file}: ${messageOf(error)}`, 'import');
    }
    const { registry } = clients();
    const listing = await registry.listAgents();
    const current = (listing as Extract<typeof listing, { notModified: false }>).agents;
    const actions = planImport(entries, current);
    const dryRun = parsed.values['dry-run'] === true;
    const summary = summarize(actions);
    if (dryRun) {
      io.stdout(
        isJson(parsed)
          ? json({ dry_run: true, actions, summary })
          : `${describeImport(actions)}dry run: ${summaryLine(summary)}; nothing was changed\n`,
      );
      return EXIT_OK;
    }
    const failed: { name: string; error: string; code?: string }[] = [];
    for (const action of actions) {
      try {
        await apply(registry, action);
      } catch (error) {
        const name =
          action.name ?? String(action.action === 'register' && action.registration.factory_function);
        failed.push({
          name,
          error: messageOf(error),
          ...(isServiceCallError(error) && error.code !== undefined && { code: error.code }),
        });
        if (!isJson(parsed)) io.stderr(`agent-registry: ${messageOf(error)}\n`);
      }
    }
    if (isJson(parsed)) io.stdout(json({ dry_run: false, actions, summary, failed }));
    else
      io.stdout(
        `${describeImport(actions)}${summaryLine(summary)}${failed.length > 0 ? `; ${failed.length} failed` : ''}\n`,
      );
    return failed.length > 0 ? EXIT_API_ERROR : EXIT_OK;
  },
};

async function apply(registry: RegistryClient, action: ImportAction): Promise<void> {
  if (action.action === 'register') {
    await registry.registerAgent(action.registration as AgentRegistration);
    return;
  }
  if (action.action !== 'update') return;
  if (action.capabilities !== undefined) {
    await registry.updateCapabilities(action.name, action.capabilities.after as Capabilities);
  }
  if (action.enabled !== undefined) await registry.setEnabled(action.name, action.enabled.after);
}

function summaryLine(summary: ReturnType<typeof summarize>): string {
  return `${summary.register} to register, ${summary.update} to update, ${summary.unchanged} unchanged`;
}

// -------------------------------------------------------------------------------------------- sessions

const SESSION_COMMANDS: Record<string, Command> = {
  ls: {
    options: {
      user: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      cursor: { type: 'string' },
    },
    async run(parsed, clients, io) {
      const status = sessionStatus(parsed, 'sessions ls');
      const offset = integerOption(parsed, 'offset', 'sessions ls', { min: 0 });
      const cursor = stringOption(parsed, 'cursor');
      if (offset !== undefined && cursor !== undefined) {
        throw new UsageError('give --offset or --cursor, not both', 'sessions ls');
      }
      const page = await clients().sessions.listSessions({
        user_id: stringOption(parsed, 'user'),
        status,
        limit: integerOption(parsed, 'limit', 'sessions ls', { min: 1, max: 1000 }),
        offset,
        cursor,
      } as Parameters<SessionClient['listSessions']>[0]);
      if (isJson(parsed)) {
        io.stdout(json(page));
        return EXIT_OK;
      }
      io.stdout(sessionTable(page));
      io.stdout(`${page.sessions.length} of ${page.total} sessions\n`);
      if (typeof page.next_cursor === 'string') io.stdout(`next page: --cursor ${page.next_cursor}\n`);
      return EXIT_OK;
    },
  },
  show: {
    args: ['<id>'],
    async run(parsed, clients, io) {
      const session = await clients().sessions.getSession(positional(parsed, 0));
      io.stdout(isJson(parsed) ? json(session) : describeSession(session));
      return EXIT_OK;
    },
  },
  cleanup: {
    options: {
      days: { type: 'string' },
      'idle-minutes': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
    async run(parsed, clients, io) {
      const days =
        numberOption(parsed, 'days', 'sessions cleanup', (n) => n >= 0, 'a number of days >= 0') ??
        envNumber(io, 'SESSION_RETENTION_DAYS', 7);
      const idleMinutes =
        numberOption(parsed, 'idle-minutes', 'sessions cleanup', (n) => n > 0, 'a number of minutes > 0') ??
        envNumber(io, 'SESSION_IDLE_TIMEOUT_MINUTES', 1440);
      const dryRun = parsed.values['dry-run'] === true;
      const { sessions } = clients();
      const now = Date.now();
      const deleteBefore = now - days * 86_400_000;
      const expireBefore = now - idleMinutes * 60_000;
      // Everything is listed first, then changed, so the changes do not shift the pages being read.
      const old = [...(await listAll(sessions, 'completed')), ...(await listAll(sessions, 'expired'))].filter(
        (session) => Date.parse(session.updated_at) < deleteBefore,
      );
      const idle = (await listAll(sessions, 'active')).filter(
        (session) => Date.parse(session.updated_at) < expireBefore,
      );
      if (!dryRun) {
        for (const session of old) await sessions.deleteSession(session.session_id);
        for (const session of idle) await sessions.setStatus(session.session_id, 'expired');
      }
      const result = {
        dry_run: dryRun,
        deleted_sessions: old.map((session) => session.session_id),
        expired_sessions: idle.map((session) => session.session_id),
      };
      if (isJson(parsed)) {
        io.stdout(json(result));
        return EXIT_OK;
      }
      const verb = dryRun ? 'would ' : '';
      for (const id of result.deleted_sessions) io.stdout(`${dryRun ? 'would delete' : 'deleted'} ${id}\n`);
      for (const id of result.expired_sessions) io.stdout(`${dryRun ? 'would expire' : 'expired'} ${id}\n`);
      io.stdout(
        `${verb}delete ${old.length} completed or expired sessions older than ${days} days, ` +
          `${verb}expire ${idle.length} active sessions idle for ${idleMinutes} minutes` +
          `${dryRun ? ' (dry run: nothing was changed)' : ''}\n`,
      );
      return EXIT_OK;
    },
  },
};

function envNumber(io: CliIo, name: string, fallback: number): number {
  const raw = nonEmpty(io.env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new UsageError(`${name} must be a number >= 0, not "${raw}"`);
  return value;
}

function sessionStatus(parsed: Parsed, command: string): 'active' | 'completed' | 'expired' | undefined {
  const status = stringOption(parsed, 'status');
  if (status !== undefined && !SESSION_STATUSES.has(status)) {
    throw new UsageError(`--status must be active, completed or expired, not "${status}"`, command);
  }
  return status as 'active' | 'completed' | 'expired' | undefined;
}

type Summary = SessionListPage['sessions'][number];

/** Every session with this status: by cursor where the service gives one, else by offset. */
async function listAll(
  sessions: SessionClient,
  status: 'active' | 'completed' | 'expired',
): Promise<Summary[]> {
  const all: Summary[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await sessions.listSessions({
      status,
      limit: 1000,
      ...(cursor !== undefined ? { cursor } : { offset: all.length }),
    });
    all.push(...page.sessions);
    if (page.next_cursor !== undefined) {
      if (page.next_cursor === null || page.sessions.length === 0) return all;
      cursor = page.next_cursor;
    } else if (page.sessions.length === 0 || all.length >= page.total) return all;
  }
}

function sessionTable(page: SessionListPage): string {
  const count = (summary: Summary, field: string): string => {
    const value = (summary as Record<string, unknown>)[field];
    return typeof value === 'number' ? String(value) : '';
  };
  const rows = page.sessions.map((summary) => [
    summary.session_id,
    summary.user_id,
    summary.status,
    summary.updated_at,
    count(summary, 'message_count'),
    count(summary, 'invocation_count'),
    summary.last_agent_called ?? '',
  ]);
  return table(['ID', 'USER', 'STATUS', 'UPDATED', 'MESSAGES', 'INVOCATIONS', 'LAST AGENT'], rows);
}

function describeSession(session: Session): string {
  const out = [
    `session  ${session.session_id}`,
    `user     ${session.user_id}`,
    `status   ${session.status}`,
    `created  ${session.created_at}`,
    `updated  ${session.updated_at}`,
    `metadata ${JSON.stringify(session.metadata)}`,
    `last agent ${session.last_agent_called ?? '-'}`,
    '',
    `conversation (${session.conversation_history.length} messages, ${session.agents_invoked.length} invocations):`,
  ];
  // Messages and invocations interleaved by time; at the same instant a message comes first.
  const events = [
    ...session.conversation_history.map((message, index) => ({
      at: message.timestamp,
      order: index * 2,
      text: `${message.role}: ${message.content}`,
    })),
    ...session.agents_invoked.map((call, index) => ({
      at: call.timestamp,
      order: index * 2 + 1,
      text:
        `-> ${call.agent_name} ${call.success ? 'ok' : 'error'} ${call.duration_ms} ms: ${clip(call.query, 60)}` +
        (call.success ? '' : ` (${call.error_message ?? 'no message'})`),
    })),
  ].sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order);
  for (const event of events) out.push(`  ${event.at}  ${event.text}`);
  if (events.length === 0) out.push('  (empty)');
  return `${out.join('\n')}\n`;
}

// ----------------------------------------------------------------------------------------------- route

const ROUTE: Command = {
  args: ['[query]'],
  options: { session: { type: 'string' }, 'top-k': { type: 'string' }, query: { type: 'string' } },
  async run(parsed, clients, io) {
    const fromOption = stringOption(parsed, 'query');
    if (fromOption !== undefined && parsed.positionals.length > 0) {
      throw new UsageError('give the query as the argument or with --query, not both', 'route');
    }
    const query = fromOption ?? parsed.positionals[0];
    if (query === undefined || query.trim() === '') throw new UsageError('route needs "<query>"', 'route');
    const session = stringOption(parsed, 'session');
    const topK = integerOption(parsed, 'top-k', 'route', { min: 1, max: 50 });
    const answer = await clients().registry.route({
      query,
      ...(session !== undefined && { session_id: session }),
      ...(topK !== undefined && { top_k: topK }),
    });
    if (isJson(parsed)) {
      io.stdout(json(answer));
      return EXIT_OK;
    }
    const selected = new Set(answer.selected);
    io.stdout(
      `selected: ${answer.selected.length === 0 ? 'none (no agent fits)' : answer.selected.join(', ')}\n` +
        `follow-up: ${answer.follow_up ? "yes (the session's last agent)" : 'no'}\n`,
    );
    if (answer.candidates.length > 0) {
      io.stdout(
        table(
          ['CANDIDATE', 'SCORE', 'SELECTED'],
          answer.candidates.map((candidate) => [
            candidate.name,
            candidate.score.toFixed(3),
            selected.has(candidate.name) ? 'yes' : '',
          ]),
        ),
      );
    }
    for (const [agent, part] of Object.entries(answer.parts ?? {})) io.stdout(`ask ${agent}: ${part}\n`);
    return EXIT_OK;
  },
};

const ROUTE_REPLAY: Command = {
  args: ['<change.json>'],
  options: { since: { type: 'string' }, limit: { type: 'string' } },
  async run(parsed, clients, io) {
    const file = positional(parsed, 0);
    const content = await readJsonFile(file, 'route');
    if (!isPlainObject(content)) {
      throw new UsageError(`${file} must hold a change object such as {"delete": "name"}`, 'route');
    }
    const body: Record<string, unknown> = 'change' in content ? { ...content } : { change: content };
    const change = body.change;
    const kinds = isPlainObject(change) ? Object.keys(change) : [];
    if (kinds.length !== 1 || !['register', 'update', 'delete'].includes(kinds[0] ?? '')) {
      throw new UsageError(
        `${file}: the change must be exactly one of {"register": {...}}, {"update": {"name", "capabilities"}}, {"delete": "name"}`,
        'route',
      );
    }
    const since = stringOption(parsed, 'since');
    if (since !== undefined) body.since = since;
    const limit = integerOption(parsed, 'limit', 'route', { min: 1 });
    if (limit !== undefined) body.limit = limit;
    const answer = await clients().registry.replayRoute(body as unknown as RouteReplayRequest);
    if (isJson(parsed)) {
      io.stdout(json(answer));
      return EXIT_OK;
    }
    const moved = Object.entries(answer.summary.moved);
    io.stdout(
      `replayed ${answer.replayed} decisions: ${answer.changed.length} would change; ` +
        `${answer.summary.newly_none} newly none, ${answer.summary.newly_routed} newly routed\n`,
    );
    for (const [move, count] of moved) io.stdout(`moved ${move}: ${count}\n`);
    if (answer.changed.length > 0) {
      io.stdout(
        table(
          ['QUERY', 'BEFORE', 'AFTER'],
          answer.changed.map((item) => [
            clip(item.query, 60),
            item.before.join(',') || '(none)',
            item.after.join(',') || '(none)',
          ]),
        ),
      );
    }
    return EXIT_OK;
  },
};

// --------------------------------------------------------------------------------------------- changes

const CHANGES: Command = {
  options: { since: { type: 'string' }, follow: { type: 'boolean' } },
  async run(parsed, clients, io) {
    const { registry } = clients();
    const follow = parsed.values.follow === true;
    const asJson = isJson(parsed);
    let since = integerOption(parsed, 'since', 'changes', { min: 0 });
    if (since === undefined) since = (await registry.changes()).revision;
    const print = (change: RegistryChange) =>
      io.stdout(
        asJson
          ? `${JSON.stringify(change)}\n`
          : `${change.at}  ${change.type.padEnd(10)}  ${change.agent_name}  (revision ${change.revision})\n`,
      );
    if (!follow) {
      const page = await registry.changes({ since });
      if (asJson) io.stdout(json(page));
      else {
        for (const change of page.changes) print(change);
        io.stdout(`revision ${page.revision}\n`);
      }
      return EXIT_OK;
    }
    io.stderr(`following the registry's changes after revision ${since} (Ctrl-C stops)\n`);
    while (!io.signal.aborted) {
      try {
        const page = await registry.changes({ since, waitSeconds: FOLLOW_WAIT_SECONDS, signal: io.signal });
        for (const change of page.changes) print(change);
        since = Math.max(since, page.revision);
      } catch (error) {
        if (io.signal.aborted) break;
        if (!isServiceCallError(error) || error.code !== 'history_expired') throw error;
        since = await reload(registry, io, asJson, since);
      }
    }
    return EXIT_OK;
  },
};

/** After `history_expired`: the current revision, then the agents as they are (a change after it is printed again). */
async function reload(registry: RegistryClient, io: CliIo, asJson: boolean, since: number): Promise<number> {
  const { revision } = await registry.changes();
  const listing = await registry.listAgents();
  const { agents } = listing as Extract<typeof listing, { notModified: false }>;
  if (asJson) io.stdout(`${JSON.stringify({ type: 'reload', revision, since, agents })}\n`);
  else {
    io.stdout(
      `reload: the service no longer has the changes after revision ${since}; at revision ${revision} ` +
        `the agents are: ${agents.map((agent) => agent.name).join(', ') || '(none)'}\n`,
    );
  }
  return revision;
}

const TOP_COMMANDS: Record<string, Command> = {
  import: IMPORT,
  route: ROUTE,
  changes: CHANGES,
};
