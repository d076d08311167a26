/**
 * The agents view: the registry as a table to filter and sort, enable/disable, edit capabilities, register
 * and delete, with agents that failed to load and their errors. It follows the change feed, so changes made
 * by other clients appear without a reload.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type AgentView, type ApiClient, ApiError, type RegistryChange } from './api.js';
import { ErrorMessage, errorText, pause, type ViewProps } from './common.js';
import { checkAgentName, parseCapabilities, parseJsonObject, parseTags } from './validation.js';

type SortKey = 'name' | 'agent_type' | 'tags' | 'status' | 'enabled';
type FeedState = { state: 'connecting' } | { state: 'live' } | { state: 'retrying'; error: string };

/** Seconds a long poll of the change feed waits for a change (the service allows up to 30). */
const FEED_WAIT_SECONDS = 25;

function byName(agents: Iterable<AgentView>): Map<string, AgentView> {
  return new Map([...agents].map((agent) => [agent.name, agent]));
}

/**
 * Loads the list and follows the feed from the revision read just before it: changes made while the list
 * loads are replayed on top of it (harmless). A revision older than the kept history reloads the list; a
 * failing service is retried with backoff.
 */
function useRegistry(api: ApiClient, tokensKey: string) {
  const [agents, setAgents] = useState<Map<string, AgentView> | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | undefined>(undefined);
  const [feed, setFeed] = useState<FeedState>({ state: 'connecting' });
  const [lastChange, setLastChange] = useState<RegistryChange | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    void (async () => {
      let revision: number | undefined;
      let delay = 1000;
      while (!signal.aborted) {
        try {
          if (revision === undefined) {
            const start = (await api.changes(undefined, 0, signal)).revision;
            const list = await api.listAgents();
            if (signal.aborted) return;
            setAgents(byName(list.agents));
            setLoadError(undefined);
            revision = start;
          }
          setFeed({ state: 'live' });
          const page = await api.changes(revision, FEED_WAIT_SECONDS, signal);
          if (signal.aborted) return;
          if (page.changes.length > 0) {
            setAgents((current) => {
              const next = new Map(current);
              for (const change of page.changes) {
                if (change.type === 'deleted' || change.agent === null) next.delete(change.agent_name);
                else next.set(change.agent_name, change.agent);
              }
              return next;
            });
            setLastChange(page.changes.at(-1));
          }
          revision = page.revision;
          delay = 1000;
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof ApiError && error.code === 'history_expired') {
            revision = undefined;
            continue;
          }
          if (revision === undefined) setLoadError(errorText(error));
          setFeed({ state: 'retrying', error: errorText(error) });
          await pause(delay, signal);
          delay = Math.min(delay * 2, 30_000);
        }
      }
    })();
    return () => controller.abort();
  }, [api, tokensKey]);

  /** Apply what this page itself just did, before the feed reports it. */
  const upsert = (agent: AgentView) => setAgents((current) => new Map(current).set(agent.name, agent));
  const remove = (name: string) =>
    setAgents((current) => {
      const next = new Map(current);
      next.delete(name);
      return next;
    });
  return { agents, loadError, feed, lastChange, upsert, remove };
}

function compare(a: AgentView, b: AgentView, key: SortKey): number {
  const value = (agent: AgentView): string =>
    key === 'tags' ? agent.tags.join(',') : key === 'enabled' ? String(!agent.enabled) : String(agent[key]);
  return value(a).localeCompare(value(b)) || a.name.localeCompare(b.name);
}

function matches(agent: AgentView, filter: string): boolean {
  if (filter === '') return true;
  const text = [agent.name, agent.agent_type, agent.status, agent.description ?? '', ...agent.tags]
    .join(' ')
    .toLowerCase();
  return filter
    .toLowerCase()
    .split(/\s+/)
    .every((word) => text.includes(word));
}

export function AgentsView({ api, headingRef, tokens }: ViewProps) {
  const { agents, loadError, feed, lastChange, upsert, remove } = useRegistry(api, JSON.stringify(tokens));
  const [filter, setFilter] = useState('');
  const [enabledFilter, setEnabledFilter] = useState<'all' | 'enabled' | 'disabled'>('all');
  const [sort, setSort] = useState<{ key: SortKey; ascending: boolean }>({ key: 'name', ascending: true });
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [registering, setRegistering] = useState(false);
  const [deleting, setDeleting] = useState<string | undefined>(undefined);

  const rows = useMemo(() => {
    const list = [...(agents?.values() ?? [])].filter(
      (agent) =>
        matches(agent, filter.trim()) &&
        (enabledFilter === 'all' || agent.enabled === (enabledFilter === 'enabled')),
    );
    list.sort((a, b) => compare(a, b, sort.key) * (sort.ascending ? 1 : -1));
    return list;
  }, [agents, filter, enabledFilter, sort]);
  const failed = [...(agents?.values() ?? [])].filter((agent) => agent.status !== 'available');

  /** Run one action on an agent: its controls wait, its failure is shown as the service said it. */
  async function act(name: string, what: string, action: () => Promise<void>): Promise<boolean> {
    setPending((current) => new Set(current).add(name));
    setActionError(undefined);
    try {
      await action();
      return true;
    } catch (error) {
      setActionError(`Could not ${what} ${name}: ${errorText(error)}`);
      return false;
    } finally {
      setPending((current) => {
        const next = new Set(current);
        next.delete(name);
        return next;
      });
    }
  }

  const toggle = (agent: AgentView) =>
    act(agent.name, agent.enabled ? 'disable' : 'enable', async () => {
      const { status } = await api.setEnabled(agent.name, !agent.enabled);
      upsert({ ...agent, enabled: status === 'enabled' });
      setNotice(`Agent ${agent.name} ${status}`);
    });

  const header = (key: SortKey, label: string) => {
    const active = sort.key === key;
    return (
      <th scope="col" aria-sort={active ? (sort.ascending ? 'ascending' : 'descending') : 'none'}>
        <button
          type="button"
          class="sort"
          onClick={() => setSort({ key, ascending: active ? !sort.ascending : true })}
        >
          {label}
          <span aria-hidden="true">{active ? (sort.ascending ? ' ▲' : ' ▼') : ''}</span>
        </button>
      </th>
    );
  };

  return (
    <section aria-labelledby="agents-heading">
      <div class="view-head">
        <h1 id="agents-heading" tabIndex={-1} ref={headingRef}>
          Agents
        </h1>
        <p class={`feed feed-${feed.state}`} role="status" aria-live="polite">
          {feed.state === 'live'
            ? `Live: following registry changes${
                lastChange === undefined ? '' : `; last: ${lastChange.agent_name} ${lastChange.type}`
              }`
            : feed.state === 'connecting'
              ? 'Connecting to the change feed…'
              : `Live updates interrupted, retrying: ${feed.error}`}
        </p>
      </div>
      <ErrorMessage error={loadError} prefix="Could not load the agents:" />
      {failed.length > 0 && (
        <section class="callout" aria-label="Agents that failed to load">
          <strong>
            {failed.length} agent{failed.length === 1 ? '' : 's'} failed to load:
          </strong>
          <ul>
            {failed.map((agent) => (
              <li key={agent.name}>
                <code>{agent.name}</code>: {agent.error ?? 'unavailable'}
              </li>
            ))}
          </ul>
        </section>
      )}
      <div class="toolbar">
        <div class="field">
          <label for="agent-filter">Filter</label>
          <input
            id="agent-filter"
            type="search"
            placeholder="name, type, tag, status"
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="agent-enabled-filter">Show</label>
          <select
            id="agent-enabled-filter"
            value={enabledFilter}
            onChange={(e) => setEnabledFilter(e.currentTarget.value as typeof enabledFilter)}
          >
            <option value="all">all agents</option>
            <option value="enabled">enabled only</option>
            <option value="disabled">disabled only</option>
          </select>
        </div>
        <button type="button" aria-expanded={registering} onClick={() => setRegistering(!registering)}>
          {registering ? 'Close the register form' : 'Register an agent'}
        </button>
      </div>
      <p class="notice" role="status" aria-live="polite">
        {notice ?? ''}
      </p>
      <ErrorMessage error={actionError} />
      {registering && (
        <RegisterForm
          api={api}
          onRegistered={async (name) => {
            setNotice(`Registered ${name}`);
            // The feed brings it too; reading it now shows it at once.
            upsert(await api.getAgent(name));
          }}
        />
      )}
      {editing !== undefined && agents?.get(editing) !== undefined && (
        <CapabilitiesEditor
          key={editing}
          api={api}
          agent={agents.get(editing)!}
          onClose={() => setEditing(undefined)}
          onSaved={async (name) => {
            setNotice(`Saved the capabilities of ${name}`);
            setEditing(undefined);
            upsert(await api.getAgent(name));
          }}
        />
      )}
      <div class="table-wrap">
        <table aria-labelledby="agents-heading" aria-describedby="agents-count">
          <caption id="agents-count">
            {agents === undefined ? 'Loading…' : `${rows.length} of ${agents.size} agents`}
          </caption>
          <thead>
            <tr>
              {header('name', 'Name')}
              {header('agent_type', 'Type')}
              {header('tags', 'Tags')}
              {header('status', 'Status')}
              {header('enabled', 'Enabled')}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((agent) => (
              <tr key={agent.name} data-agent={agent.name} class={agent.enabled ? undefined : 'disabled'}>
                <th scope="row">
                  <span class="name">{agent.name}</span>
                  {agent.description && <small class="description">{agent.description}</small>}
                </th>
                <td>{agent.agent_type}</td>
                <td>
                  {agent.tags.map((tag) => (
                    <span class="tag" key={tag}>
                      {tag}
                    </span>
                  ))}
                </td>
                <td>
                  <span class={`badge ${agent.status === 'available' ? 'ok' : 'bad'}`}>{agent.status}</span>
                  {agent.error !== undefined && <small class="error-text">{agent.error}</small>}
                </td>
                <td>
                  <label class="switch">
                    <input
                      type="checkbox"
                      checked={agent.enabled}
                      disabled={pending.has(agent.name)}
                      aria-label={`Enabled: ${agent.name}`}
                      onChange={() => void toggle(agent)}
                    />
                    <span aria-hidden="true">{agent.enabled ? 'on' : 'off'}</span>
                  </label>
                </td>
                <td class="actions">
                  <button
                    type="button"
                    aria-label={`Edit the capabilities of ${agent.name}`}
                    onClick={() => setEditing(agent.name)}
                  >
                    Capabilities
                  </button>
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Delete ${agent.name}`}
                    disabled={pending.has(agent.name)}
                    onClick={() => setDeleting(agent.name)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ConfirmDelete
        name={deleting}
        onCancel={() => setDeleting(undefined)}
        onConfirm={async (name) => {
          setDeleting(undefined);
          const done = await act(name, 'delete', async () => {
            await api.deleteAgent(name);
          });
          if (done) {
            remove(name);
            setNotice(`Deleted ${name}`);
          }
        }}
      />
    </section>
  );
}

/** A modal confirmation: focus moves into it, Escape cancels, and the page behind cannot be used meanwhile. */
function ConfirmDelete(props: {
  name: string | undefined;
  onCancel: () => void;
  onConfirm: (name: string) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (props.name !== undefined && !element.open) element.showModal();
    if (props.name === undefined && element.open) element.close();
  }, [props.name]);
  return (
    <dialog ref={dialog} aria-labelledby="delete-title" onCancel={props.onCancel}>
      <h2 id="delete-title">Delete {props.name}?</h2>
      <p>The agent is removed from the registry for every client. This cannot be undone here.</p>
      <div class="buttons">
        <button
          type="button"
          class="danger"
          onClick={() => props.name !== undefined && props.onConfirm(props.name)}
        >
          Delete {props.name}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

function CapabilitiesEditor(props: {
  api: ApiClient;
  agent: AgentView;
  onClose: () => void;
  onSaved: (name: string) => Promise<void>;
}) {
  const { agent } = props;
  const [text, setText] = useState(() => JSON.stringify(agent.capabilities, null, 2));
  const [saveError, setSaveError] = useState<string | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const parsed = parseCapabilities(text);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => area.current?.focus(), []);
  return (
    <form
      class="panel"
      aria-labelledby="caps-title"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!parsed.ok) return;
        setSaving(true);
        setSaveError(undefined);
        try {
          await props.api.updateCapabilities(agent.name, parsed.value);
          await props.onSaved(agent.name);
        } catch (error) {
          setSaveError(errorText(error));
        } finally {
          setSaving(false);
        }
      }}
    >
      <h2 id="caps-title">Capabilities of {agent.name}</h2>
      <label for="caps-json">
        Capabilities (JSON object; "examples" are the sample queries the router learns from)
      </label>
      <textarea
        id="caps-json"
        ref={area}
        rows={12}
        spellcheck={false}
        value={text}
        aria-invalid={!parsed.ok}
        aria-describedby="caps-check"
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <p id="caps-check" class={parsed.ok ? 'valid' : 'invalid'} aria-live="polite">
        {parsed.ok ? 'Valid JSON object.' : parsed.error}
      </p>
      <ErrorMessage error={saveError} prefix="The service refused the capabilities:" />
      <div class="buttons">
        <button type="submit" disabled={!parsed.ok || saving}>
          {saving ? 'Saving…' : 'Save capabilities'}
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RegisterForm(props: { api: ApiClient; onRegistered: (name: string) => Promise<void> }) {
  const [form, setForm] = useState({
    name: '',
    agent_type: '',
    factory_module: '',
    factory_function: '',
    factory_params: '',
    capabilities: '',
    tags: '',
    enabled: true,
  });
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  const text = (key: keyof typeof form, label: string, required: boolean, hint?: string) => (
    <div class="field">
      <label for={`reg-${key}`}>
        {label}
        {required ? ' (required)' : ''}
      </label>
      <input
        id={`reg-${key}`}
        value={form[key] as string}
        required={required}
        aria-describedby={hint === undefined ? undefined : `reg-${key}-hint`}
        onInput={set(key)}
      />
      {hint !== undefined && <small id={`reg-${key}-hint`}>{hint}</small>}
    </div>
  );

  return (
    <form
      class="panel"
      aria-labelledby="register-title"
      onSubmit={async (e) => {
        e.preventDefault();
        const nameProblem = checkAgentName(form.name.trim());
        const params = parseJsonObject(form.factory_params, 'Factory params', {});
        const capabilities = parseCapabilities(form.capabilities);
        const tags = parseTags(form.tags);
        const first = [
          nameProblem,
          params.ok ? undefined : params.error,
          capabilities.ok ? undefined : capabilities.error,
          tags.ok ? undefined : tags.error,
        ].find((p) => p !== undefined);
        if (first !== undefined || !params.ok || !capabilities.ok || !tags.ok) {
          setProblem(first);
          return;
        }
        setProblem(undefined);
        setSaving(true);
        try {
          const { agent_name } = await props.api.registerAgent({
            agent_type: form.agent_type.trim(),
            factory_module: form.factory_module.trim(),
            factory_function: form.factory_function.trim(),
            ...(form.name.trim() !== '' && { name: form.name.trim() }),
            ...(Object.keys(params.value).length > 0 && { factory_params: params.value }),
            ...(Object.keys(capabilities.value).length > 0 && { capabilities: capabilities.value }),
            ...(tags.value.length > 0 && { tags: tags.value }),
            enabled: form.enabled,
          });
          await props.onRegistered(agent_name);
        } catch (error) {
          setProblem(errorText(error));
        } finally {
          setSaving(false);
        }
      }}
    >
      <h2 id="register-title">Register an agent</h2>
      <div class="grid">
        {text('name', 'Name', false, "Defaults to the created agent's own name")}
        {text('agent_type', 'Agent type', true)}
        {text('factory_module', 'Factory module', true, 'e.g. jarvis_agent.mcp_agents.agent_factory')}
        {text('factory_function', 'Factory function', true, 'e.g. create_tickets_agent')}
        {text('tags', 'Tags', false, 'Comma-separated')}
        <div class="field checkbox">
          <input
            id="reg-enabled"
            type="checkbox"
            checked={form.enabled}
            onChange={(e) => setForm({ ...form, enabled: e.currentTarget.checked })}
          />
          <label for="reg-enabled">Enabled</label>
        </div>
      </div>
      <div class="grid two">
        <div class="field">
          <label for="reg-factory_params">Factory params (JSON object, optional)</label>
          <textarea
            id="reg-factory_params"
            rows={4}
            spellcheck={false}
            value={form.factory_params}
            onInput={set('factory_params')}
          />
        </div>
        <div class="field">
          <label for="reg-capabilities">Capabilities (JSON object, optional)</label>
          <textarea
            id="reg-capabilities"
            rows={4}
            spellcheck={false}
            value={form.capabilities}
            onInput={set('capabilities')}
          />
        </div>
      </div>
      <ErrorMessage error={problem} prefix="Not registered:" />
      <div class="buttons">
        <button type="submit" disabled={saving}>
          {saving ? 'Registering…' : 'Register'}
        </button>
      </div>
    </form>
  );
}
