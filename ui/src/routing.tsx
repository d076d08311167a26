/**
 * The routing playground: a query, optionally within a session, routed by the service as Jarvis would
 * route it; shows every candidate's score, what was selected, and why (a follow-up, or no agent fits).
 */
import { useEffect, useState } from 'preact/hooks';
import type { RouteResult } from './api.js';
import { ErrorMessage, errorText, type ViewProps } from './common.js';

export function RoutingView({ api, headingRef, tokens }: ViewProps) {
  const [query, setQuery] = useState('');
  const [sessionId, setSessionId] = useState('');
  const [topK, setTopK] = useState(5);
  const [result, setResult] = useState<{ query: string; session?: string; route: RouteResult } | undefined>();
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [recent, setRecent] = useState<string[]>([]);
  const [recentError, setRecentError] = useState<string | undefined>(undefined);

  useEffect(() => {
    api.listSessions({ limit: 20 }).then(
      (list) => {
        setRecent(list.sessions.map((s) => s.session_id));
        setRecentError(undefined);
      },
      (failure: unknown) => setRecentError(errorText(failure)),
    );
  }, [api, tokens]);

  return (
    <section aria-labelledby="route-heading">
      <div class="view-head">
        <h1 id="route-heading" tabIndex={-1} ref={headingRef}>
          Routing playground
        </h1>
      </div>
      <form
        class="panel"
        aria-label="Route a query"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          const session = sessionId.trim() === '' ? undefined : sessionId.trim();
          try {
            const route = await api.route(query, session, topK);
            setResult({ query, ...(session !== undefined && { session }), route });
          } catch (failure) {
            setResult(undefined);
            setError(errorText(failure));
          } finally {
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label for="route-query">Query</label>
          <textarea
            id="route-query"
            rows={2}
            required
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
            onKeyDown={(e) => {
              // Enter routes, Shift+Enter adds a line.
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
            }}
          />
        </div>
        <div class="grid two">
          <div class="field">
            <label for="route-session">Session id (optional: follow-ups use its last agent)</label>
            <input
              id="route-session"
              list="recent-sessions"
              value={sessionId}
              aria-describedby="route-session-hint"
              onInput={(e) => setSessionId(e.currentTarget.value)}
            />
            <datalist id="recent-sessions">
              {recent.map((id) => (
                <option value={id} key={id} />
              ))}
            </datalist>
            <small id="route-session-hint">
              {recentError === undefined
                ? `${recent.length} recent sessions to pick from`
                : `Recent sessions unavailable: ${recentError}`}
            </small>
          </div>
          <div class="field">
            <label for="route-topk">Candidates to show (top k)</label>
            <input
              id="route-topk"
              type="number"
              min={1}
              max={50}
              value={topK}
              onInput={(e) => setTopK(Number(e.currentTarget.value) || 5)}
            />
          </div>
        </div>
        <div class="buttons">
          <button type="submit" disabled={busy || query.trim() === ''}>
            {busy ? 'Routing…' : 'Route'}
          </button>
        </div>
      </form>
      <ErrorMessage error={error} prefix="Routing failed:" />
      {result !== undefined && <RouteOutcome {...result} />}
    </section>
  );
}

function RouteOutcome({ query, session, route }: { query: string; session?: string; route: RouteResult }) {
  const selected = new Set(route.selected);
  const why =
    route.selected.length === 0
      ? 'None fits: no candidate scored above the confidence threshold, so no agent would be called.'
      : route.follow_up
        ? `Follow-up: the query continues the session's conversation, so its last agent (${route.selected.join(', ')}) was kept.`
        : route.selected.length > 1
          ? 'The query asks for several things: each selected agent gets its part.'
          : 'Best match: the top candidate scored above the confidence threshold.';
  return (
    <section class="panel result" aria-labelledby="route-result" aria-live="polite">
      <h2 id="route-result">Result</h2>
      <p class="quiet">
        “{query}”
        {session !== undefined && (
          <>
            {' '}
            in session <span class="mono">{session}</span>
          </>
        )}
      </p>
      <p class="selected">
        <strong>Selected: </strong>
        {route.selected.length === 0 ? <span class="badge bad">none fits</span> : route.selected.join(', ')}
        {route.follow_up && <span class="badge info">follow-up</span>}
      </p>
      <p class="why">
        <strong>Why: </strong>
        {why}
      </p>
      {route.parts !== undefined && (
        <dl class="parts">
          {Object.entries(route.parts).map(([agent, part]) => (
            <div key={agent}>
              <dt>{agent}</dt>
              <dd>{part}</dd>
            </div>
          ))}
        </dl>
      )}
      <table>
        <caption>Candidates, best first</caption>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Score</th>
            <th scope="col">Selected</th>
          </tr>
        </thead>
        <tbody>
          {route.candidates.map((candidate) => (
            <tr key={candidate.name} data-candidate={candidate.name}>
              <th scope="row">{candidate.name}</th>
              <td>
                <meter min={0} max={1} value={candidate.score} aria-label={`Score of ${candidate.name}`} />{' '}
                {candidate.score.toFixed(3)}
              </td>
              <td>{selected.has(candidate.name) ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {route.candidates.length === 0 && <p>No candidates: the registry has no enabled agent.</p>}
    </section>
  );
}
