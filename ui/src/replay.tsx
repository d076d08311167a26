/**
 * What-if replay: compose one registry change (register an agent, update an agent's capabilities, delete an
 * agent), have the service route its logged queries with and without it (`POST /registry/route/replay`;
 * the change is applied in memory and never saved), and see what would move: the summary and each changed
 * query's selection before and after.
 */
import { useEffect, useState } from 'preact/hooks';
import { type AgentView, ApiError, type ReplayRequest, type ReplayResult } from './api.js';
import { ErrorMessage, errorText, type ViewProps } from './common.js';
import { parseCapabilities, parseJsonObject } from './validation.js';

type ChangeKind = 'register' | 'update' | 'delete';

/** A registration to start from: the demo's generic factory, which any registry here can build. */
const REGISTRATION_TEMPLATE = JSON.stringify(
  {
    name: 'payroll_agent',
    agent_type: 'generic',
    factory_module: 'jarvis_agent.mcp_agents.agent_factory',
    factory_function: 'create_generic_agent',
    factory_params: { name: 'payroll_agent', description: 'Answers payroll questions' },
    capabilities: { examples: ['when is payday this month', 'show my last payslip'] },
  },
  null,
  2,
);

/** The replay endpoint's own bounds (src/insight/route-replay.ts). */
const MAX_LIMIT = 100_000;

/** What to do about a refused replay, by the status the service (or a proxy in front of it) answered. */
export function replayHint(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  switch (error.status) {
    case 400:
      return 'The change is refused as the real call would refuse it: fix it and run again.';
    case 401:
      return 'A replay needs the admin token (REGISTRY_ADMIN_TOKEN): set it under Tokens.';
    case 403:
      return 'The token was refused for replays: use the admin token.';
    case 404:
      return 'No such agent: pick one from the list (it may have been deleted meanwhile).';
    case 409:
      return 'An agent with that name is already registered: give the registration another "name".';
    case 429:
      return 'Another replay is running: run again when it has finished.';
    default:
      return undefined;
  }
}

type Built = { ok: true; request: ReplayRequest } | { ok: false; error: string };

/** The request the form describes, or what to fix first. */
function buildRequest(form: {
  kind: ChangeKind;
  registration: string;
  agent: string;
  capabilities: string;
  since: string;
  limit: string;
}): Built {
  let change: ReplayRequest['change'];
  if (form.kind === 'register') {
    const parsed = parseJsonObject(form.registration, 'Registration');
    if (!parsed.ok) return parsed;
    change = { register: parsed.value as never };
  } else if (form.agent === '') {
    return { ok: false, error: 'Pick the agent the change is about' };
  } else if (form.kind === 'update') {
    const parsed = parseCapabilities(form.capabilities);
    if (!parsed.ok) return parsed;
    change = { update: { name: form.agent, capabilities: parsed.value } };
  } else {
    change = { delete: form.agent };
  }
  const request: ReplayRequest = { change };
  if (form.since !== '') {
    // datetime-local is the browser's local time; the service takes ISO-8601.
    const since = new Date(form.since);
    if (Number.isNaN(since.getTime())) return { ok: false, error: 'Since: not a date and time' };
    request.since = since.toISOString();
  }
  if (form.limit.trim() !== '') {
    const limit = Number(form.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      return { ok: false, error: `Limit: a whole number from 1 to ${MAX_LIMIT.toLocaleString('en')}` };
    request.limit = limit;
  }
  return { ok: true, request };
}

/** A short description of the change, for the result's heading. */
function describeChange(change: ReplayRequest['change']): string {
  if ('register' in change) return `registering ${change.register.name ?? 'a new agent'}`;
  if ('update' in change) return `new capabilities for ${change.update.name}`;
  return `deleting ${change.delete}`;
}

export function ReplayView({ api, headingRef, tokens }: ViewProps) {
  const [agents, setAgents] = useState<AgentView[]>([]);
  const [listError, setListError] = useState<string | undefined>(undefined);
  const [form, setForm] = useState({
    kind: 'register' as ChangeKind,
    registration: REGISTRATION_TEMPLATE,
    agent: '',
    capabilities: '',
    since: '',
    limit: '',
  });
  const [problem, setProblem] = useState<{ error: string; hint?: string | undefined } | undefined>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ change: string; result: ReplayResult } | undefined>();

  useEffect(() => {
    api.listAgents().then(
      (list) => {
        setAgents(list.agents);
        setListError(undefined);
      },
      (failure: unknown) => setListError(errorText(failure)),
    );
  }, [api, tokens]);

  /** Picking an agent to update starts from its current capabilities. */
  const pick = (name: string) => {
    const agent = agents.find((a) => a.name === name);
    setForm({
      ...form,
      agent: name,
      capabilities: agent === undefined ? '' : JSON.stringify(agent.capabilities, null, 2),
    });
  };
  const kindOption = (kind: ChangeKind, label: string) => (
    <label class="choice">
      <input
        type="radio"
        name="replay-kind"
        value={kind}
        checked={form.kind === kind}
        onChange={() => setForm({ ...form, kind })}
      />{' '}
      {label}
    </label>
  );
  const capabilities = form.kind === 'update' ? parseCapabilities(form.capabilities) : undefined;

  return (
    <section aria-labelledby="replay-heading">
      <div class="view-head">
        <h1 id="replay-heading" tabIndex={-1} ref={headingRef}>
          What-if replay
        </h1>
        <p class="quiet">
          Routes the logged queries against the registry as it is and with one change applied in memory:
          nothing is saved.
        </p>
      </div>
      <form
        class="panel replay-form"
        aria-label="Compose a change to replay"
        onSubmit={async (e) => {
          e.preventDefault();
          const built = buildRequest(form);
          if (!built.ok) {
            setProblem({ error: built.error });
            return;
          }
          setProblem(undefined);
          setBusy(true);
          try {
            const answer = await api.replay(built.request);
            setResult({ change: describeChange(built.request.change), result: answer });
          } catch (failure) {
            setResult(undefined);
            setProblem({ error: errorText(failure), hint: replayHint(failure) });
          } finally {
            setBusy(false);
          }
        }}
      >
        <fieldset class="choices">
          <legend>Change</legend>
          {kindOption('register', 'Register an agent')}
          {kindOption('update', "Update an agent's capabilities")}
          {kindOption('delete', 'Delete an agent')}
        </fieldset>
        {form.kind === 'register' && (
          <div class="field">
            <label for="replay-registration">Registration (JSON object, as for POST /registry/agents)</label>
            <textarea
              id="replay-registration"
              rows={10}
              spellcheck={false}
              value={form.registration}
              onInput={(e) => setForm({ ...form, registration: e.currentTarget.value })}
            />
          </div>
        )}
        {form.kind !== 'register' && (
          <div class="field">
            <label for="replay-agent">{form.kind === 'update' ? 'Agent to update' : 'Agent to delete'}</label>
            <select
              id="replay-agent"
              value={form.agent}
              aria-describedby="replay-agent-hint"
              onChange={(e) => pick(e.currentTarget.value)}
            >
              <option value="">Pick an agent…</option>
              {agents.map((agent) => (
                <option value={agent.name} key={agent.name}>
                  {agent.name}
                  {agent.enabled ? '' : ' (disabled)'}
                </option>
              ))}
            </select>
            <small id="replay-agent-hint">
              {listError === undefined
                ? `${agents.length} agents in the registry`
                : `Could not list the agents: ${listError}`}
            </small>
          </div>
        )}
        {form.kind === 'update' && form.agent !== '' && (
          <div class="field">
            <label for="replay-capabilities">
              Capabilities (JSON object; "examples" are what the router learns)
            </label>
            <textarea
              id="replay-capabilities"
              rows={8}
              spellcheck={false}
              value={form.capabilities}
              aria-invalid={capabilities?.ok === false}
              aria-describedby="replay-capabilities-check"
              onInput={(e) => setForm({ ...form, capabilities: e.currentTarget.value })}
            />
            <p
              id="replay-capabilities-check"
              class={capabilities?.ok === false ? 'invalid' : 'valid'}
              aria-live="polite"
            >
              {capabilities === undefined || capabilities.ok ? 'Valid JSON object.' : capabilities.error}
            </p>
          </div>
        )}
        <div class="grid two">
          <div class="field">
            <label for="replay-since">Since (optional; your local time)</label>
            <input
              id="replay-since"
              type="datetime-local"
              step={1}
              value={form.since}
              onInput={(e) => setForm({ ...form, since: e.currentTarget.value })}
            />
          </div>
          <div class="field">
            <label for="replay-limit">Limit (optional; the newest logged decisions, default 10,000)</label>
            <input
              id="replay-limit"
              type="number"
              min={1}
              max={MAX_LIMIT}
              value={form.limit}
              onInput={(e) => setForm({ ...form, limit: e.currentTarget.value })}
            />
          </div>
        </div>
        <div class="buttons">
          <button type="submit" disabled={busy}>
            {busy ? 'Replaying…' : 'Run replay'}
          </button>
        </div>
      </form>
      <ErrorMessage error={problem?.error} prefix="Replay failed:" hint={problem?.hint} />
      {result !== undefined && <ReplayOutcome {...result} />}
    </section>
  );
}

/** `"a->b"` as its two sides (agent names hold no ">", several agents are joined with "+"). */
function splitRoute(route: string): [string, string] {
  const at = route.indexOf('->');
  return at < 0 ? [route, ''] : [route.slice(0, at), route.slice(at + 2)];
}

function Selection({ names }: { names: string[] }) {
  return names.length === 0 ? <span class="badge bad">none</span> : names.join(', ');
}

function ReplayOutcome({ change, result }: { change: string; result: ReplayResult }) {
  const moved = Object.entries(result.summary.moved).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const movedTotal = moved.reduce((sum, [, n]) => sum + n, 0);
  return (
    <section class="panel result" aria-labelledby="replay-result" aria-live="polite">
      <h2 id="replay-result">Result of {change}</h2>
      <p>
        Replayed <strong data-replayed>{result.replayed}</strong> logged decision
        {result.replayed === 1 ? '' : 's'}.
        {result.skipped_hashed > 0 &&
          ` ${result.skipped_hashed} more were logged as a hash (ROUTER_LOG_QUERIES=false) and cannot be replayed.`}
      </p>
      <dl class="meta summary" aria-label="Summary">
        <div>
          <dt>Moved</dt>
          <dd data-summary="moved">{movedTotal}</dd>
        </div>
        <div>
          <dt>Newly none (would find no agent)</dt>
          <dd data-summary="newly_none">{result.summary.newly_none}</dd>
        </div>
        <div>
          <dt>Newly routed (found none, would find one)</dt>
          <dd data-summary="newly_routed">{result.summary.newly_routed}</dd>
        </div>
      </dl>
      {moved.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>Moved decisions, by route</caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col" class="num">
                  Decisions
                </th>
              </tr>
            </thead>
            <tbody>
              {moved.map(([route, count]) => {
                const [from, to] = splitRoute(route);
                return (
                  <tr key={route} data-moved={route}>
                    <th scope="row">{from}</th>
                    <td>{to}</td>
                    <td class="num">{count}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {result.changed.length === 0 ? (
        <p data-unchanged>Nothing would change for the replayed decisions.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption>Queries whose selection would change, most frequent first</caption>
            <thead>
              <tr>
                <th scope="col">Query</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
                <th scope="col" class="num">
                  Decisions
                </th>
              </tr>
            </thead>
            <tbody>
              {result.changed.map((query) => (
                <tr key={query.query} data-changed={query.query}>
                  <th scope="row" class="query">
                    {query.query}
                  </th>
                  <td>
                    <Selection names={query.before} />
                  </td>
                  <td>
                    <span aria-hidden="true">→ </span>
                    <Selection names={query.after} />
                  </td>
                  <td class="num">{query.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
