/**
 * The sessions views: the listing filtered by user and status (paged by cursor), and one session's
 * conversation with each agent invocation inline where it happened: agent, duration, success or error.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Session, SessionList } from './api.js';
import { ErrorMessage, errorText, formatTime, pause, type ViewProps } from './common.js';

const PAGE_SIZE = 25;
/** How often an open session is read again; unchanged sessions answer 304 from the browser's revalidation. */
const SESSION_REFRESH_MS = 3000;

export function SessionsView({ api, headingRef, tokens }: ViewProps) {
  const [userId, setUserId] = useState('');
  const [status, setStatus] = useState('');
  const [applied, setApplied] = useState({ user_id: '', status: '' });
  const [list, setList] = useState<SessionList | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(false);

  async function load(cursor?: string) {
    setLoading(true);
    setError(undefined);
    try {
      const page = await api.listSessions({ ...applied, limit: PAGE_SIZE, ...(cursor && { cursor }) });
      setList((current) =>
        cursor === undefined || current === undefined
          ? page
          : { ...page, sessions: [...current.sessions, ...page.sessions] },
      );
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setLoading(false);
    }
  }
  // Reloads from the first page when the filters or the tokens change.
  useEffect(() => {
    void load();
  }, [applied, tokens]);

  return (
    <section aria-labelledby="sessions-heading">
      <div class="view-head">
        <h1 id="sessions-heading" tabIndex={-1} ref={headingRef}>
          Sessions
        </h1>
      </div>
      <form
        class="toolbar"
        aria-label="Filter sessions"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ user_id: userId.trim(), status });
        }}
      >
        <div class="field">
          <label for="session-user">User</label>
          <input id="session-user" value={userId} onInput={(e) => setUserId(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="session-status">Status</label>
          <select id="session-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="active">active</option>
            <option value="completed">completed</option>
            <option value="expired">expired</option>
          </select>
        </div>
        <button type="submit">Apply filters</button>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </form>
      <ErrorMessage error={error} prefix="Could not list the sessions:" />
      <div class="table-wrap">
        <table aria-labelledby="sessions-heading">
          <caption>
            {list === undefined
              ? loading
                ? 'Loading…'
                : ''
              : `${list.sessions.length} of ${list.total} sessions, most recently updated first`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">User</th>
              <th scope="col">Status</th>
              <th scope="col">Updated</th>
              <th scope="col" class="num">
                Messages
              </th>
              <th scope="col" class="num">
                Invocations
              </th>
              <th scope="col">Last agent</th>
            </tr>
          </thead>
          <tbody>
            {list?.sessions.map((session) => (
              <tr key={session.session_id} data-session={session.session_id}>
                <th scope="row">
                  <a href={`#/sessions/${encodeURIComponent(session.session_id)}`} class="mono">
                    {session.session_id}
                  </a>
                </th>
                <td>{session.user_id}</td>
                <td>
                  <span class={`badge status-${session.status}`}>{session.status}</span>
                </td>
                <td>{formatTime(session.updated_at)}</td>
                <td class="num">{session.message_count}</td>
                <td class="num">{session.invocation_count}</td>
                <td>{session.last_agent_called ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list?.next_cursor != null && (
        <button type="button" disabled={loading} onClick={() => void load(list.next_cursor ?? undefined)}>
          {loading ? 'Loading…' : 'Load more sessions'}
        </button>
      )}
    </section>
  );
}

type TimelineItem =
  | { kind: 'message'; at: string; entry: Session['conversation_history'][number] }
  | { kind: 'invocation'; at: string; entry: Session['agents_invoked'][number] };

/**
 * Messages and invocations in time order. At the same instant the user's message comes first, then the
 * agent calls it caused, then the assistant's answer.
 */
export function timeline(session: Session): TimelineItem[] {
  const rank = (item: TimelineItem) =>
    item.kind === 'invocation' ? 1 : item.entry.role === 'assistant' ? 2 : 0;
  const items: TimelineItem[] = [
    ...session.conversation_history.map((entry) => ({
      kind: 'message' as const,
      at: entry.timestamp,
      entry,
    })),
    ...session.agents_invoked.map((entry) => ({ kind: 'invocation' as const, at: entry.timestamp, entry })),
  ];
  // Array.prototype.sort is stable: entries of one kind keep their stored order.
  return items.sort((a, b) => a.at.localeCompare(b.at) || rank(a) - rank(b));
}

export function SessionDetail({ api, id, headingRef, tokens }: ViewProps & { id: string }) {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    void (async () => {
      while (!controller.signal.aborted) {
        try {
          const next = await api.getSession(id);
          if (controller.signal.aborted) return;
          setSession(next);
          setError(undefined);
        } catch (failure) {
          if (controller.signal.aborted) return;
          setError(errorText(failure));
        }
        await pause(SESSION_REFRESH_MS, controller.signal);
      }
    })();
    return () => controller.abort();
  }, [api, id, tokens]);

  return (
    <section aria-labelledby="session-heading">
      <div class="view-head">
        <h1 id="session-heading" tabIndex={-1} ref={headingRef}>
          Session <span class="mono">{id}</span>
        </h1>
        <a href="#/sessions">Back to sessions</a>
      </div>
      <ErrorMessage error={error} prefix="Could not read the session:" />
      {session !== undefined && (
        <>
          <dl class="meta">
            <div>
              <dt>User</dt>
              <dd>{session.user_id}</dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                <span class={`badge status-${session.status}`}>{session.status}</span>
              </dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{formatTime(session.created_at)}</dd>
            </div>
            <div>
              <dt>Updated</dt>
              <dd>{formatTime(session.updated_at)}</dd>
            </div>
            <div>
              <dt>Last agent</dt>
              <dd>{session.last_agent_called ?? '—'}</dd>
            </div>
            <div>
              <dt>Metadata</dt>
              <dd>
                <code>{JSON.stringify(session.metadata)}</code>
              </dd>
            </div>
          </dl>
          <h2>Conversation</h2>
          {session.conversation_history.length === 0 && session.agents_invoked.length === 0 && (
            <p>No messages or invocations yet.</p>
          )}
          <ol class="timeline" aria-label="Conversation with agent invocations">
            {timeline(session).map((item, index) =>
              item.kind === 'message' ? (
                <li key={`m${index}`} class={`message role-${item.entry.role}`}>
                  <div class="who">
                    {item.entry.role} <time dateTime={item.at}>{formatTime(item.at)}</time>
                  </div>
                  <div class="content">{item.entry.content}</div>
                </li>
              ) : (
                <li key={`i${index}`} class={`invocation ${item.entry.success ? 'ok' : 'failed'}`}>
                  <div class="who">
                    <span class="agent">Agent {item.entry.agent_name}</span>
                    <span class="duration">{item.entry.duration_ms} ms</span>
                    <span class={`badge ${item.entry.success ? 'ok' : 'bad'}`}>
                      {item.entry.success ? 'success' : 'error'}
                    </span>
                    <time dateTime={item.at}>{formatTime(item.at)}</time>
                  </div>
                  <div class="content">
                    <div>
                      <strong>Query:</strong> {item.entry.query}
                    </div>
                    {item.entry.response !== null && (
                      <div>
                        <strong>Response:</strong> {item.entry.response}
                      </div>
                    )}
                    {item.entry.error_message !== null && (
                      <div class="error-text">
                        <strong>Error:</strong> {item.entry.error_message}
                      </div>
                    )}
                  </div>
                </li>
              ),
            )}
          </ol>
        </>
      )}
    </section>
  );
}
