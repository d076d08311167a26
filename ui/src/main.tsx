/**
 * The admin web UI: agents, sessions, a routing playground and what-if replay over the service's public API.
 * Views are chosen by the URL's hash (#/agents, #/sessions, #/sessions/<id>, #/route, #/replay), so the service
 * serves one page and the browser's back button works.
 */
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AgentsView } from './agents.js';
import { ApiClient } from './api.js';
import { ReplayView } from './replay.js';
import { RoutingView } from './routing.js';
import { SessionDetail, SessionsView } from './sessions.js';
import { loadTokens, saveTokens, type Tokens } from './tokens.js';
import './styles.css';

type View =
  | { name: 'agents' }
  | { name: 'sessions' }
  | { name: 'session'; id: string }
  | { name: 'route' }
  | { name: 'replay' };

function parseHash(hash: string): View {
  const [, first, second] = hash.replace(/^#/, '').split('/');
  if (first === 'sessions' && second) return { name: 'session', id: decodeURIComponent(second) };
  if (first === 'sessions') return { name: 'sessions' };
  if (first === 'route') return { name: 'route' };
  if (first === 'replay') return { name: 'replay' };
  return { name: 'agents' };
}

function TokenPanel({ tokens, onChange }: { tokens: Tokens; onChange: (tokens: Tokens) => void }) {
  const [draft, setDraft] = useState(tokens);
  const [saved, setSaved] = useState(false);
  const field = (key: keyof Tokens, label: string, hint: string) => (
    <div class="field">
      <label for={`token-${key}`}>{label}</label>
      <input
        id={`token-${key}`}
        type="password"
        autocomplete="off"
        value={draft[key]}
        aria-describedby={`token-${key}-hint`}
        onInput={(e) => {
          setSaved(false);
          setDraft({ ...draft, [key]: e.currentTarget.value });
        }}
      />
      <small id={`token-${key}-hint`}>{hint}</small>
    </div>
  );
  return (
    <details class="tokens">
      <summary>Tokens{tokens.admin || tokens.api || tokens.read ? ' (set)' : ''}</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onChange(draft);
          setSaved(true);
        }}
      >
        <p class="hint">
          Only needed when the service is started with them. Kept in this tab only (sessionStorage).
        </p>
        {field('admin', 'Admin token', 'REGISTRY_ADMIN_TOKEN: register, change and delete agents; replays')}
        {field('api', 'Sessions token', 'REGISTRY_API_TOKEN: the sessions pages')}
        {field(
          'read',
          'Read token',
          'REGISTRY_READ_TOKEN: registry reads and routing (the admin token also works)',
        )}
        <button type="submit">Save tokens</button>
        {saved && <span role="status"> Saved for this tab.</span>}
      </form>
    </details>
  );
}

function App() {
  const [view, setView] = useState<View>(() => parseHash(location.hash));
  const [tokens, setTokens] = useState<Tokens>(loadTokens);
  const tokensRef = useRef(tokens);
  tokensRef.current = tokens;
  const api = useMemo(() => new ApiClient(() => tokensRef.current), []);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const onHash = () => setView(parseHash(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  // Moving to another view puts keyboard focus on its heading, as a page load would; the first view
  // leaves focus where the browser put it.
  const firstView = useRef(true);
  const focusHeading = useCallback((element: HTMLHeadingElement | null) => {
    headingRef.current = element;
    if (element === null) return;
    if (firstView.current) firstView.current = false;
    else element.focus();
  }, []);

  const changeTokens = (next: Tokens) => {
    saveTokens(next);
    setTokens(next);
  };
  const tab = (href: string, label: string, active: boolean) => (
    <a href={href} aria-current={active ? 'page' : undefined} class={active ? 'active' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      {/* A button, not a link: a "#main" link would change the hash, which picks the view. */}
      <button type="button" class="skip" onClick={() => headingRef.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Agent Registry</span>
        <nav aria-label="Views">
          {tab('#/agents', 'Agents', view.name === 'agents')}
          {tab('#/sessions', 'Sessions', view.name === 'sessions' || view.name === 'session')}
          {tab('#/route', 'Routing playground', view.name === 'route')}
          {tab('#/replay', 'What-if replay', view.name === 'replay')}
        </nav>
        <TokenPanel tokens={tokens} onChange={changeTokens} />
      </header>
      <main id="main">
        {view.name === 'agents' && <AgentsView api={api} headingRef={focusHeading} tokens={tokens} />}
        {view.name === 'sessions' && <SessionsView api={api} headingRef={focusHeading} tokens={tokens} />}
        {view.name === 'session' && (
          <SessionDetail api={api} id={view.id} headingRef={focusHeading} tokens={tokens} key={view.id} />
        )}
        {view.name === 'route' && <RoutingView api={api} headingRef={focusHeading} tokens={tokens} />}
        {view.name === 'replay' && <ReplayView api={api} headingRef={focusHeading} tokens={tokens} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
