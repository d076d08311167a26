/**
 * The UI's client of the public HTTP API: same-origin `fetch`, JSON in and out, the bearer token each call
 * needs, and every failure as an `ApiError` carrying the service's own code and message.
 * Types come from the service's schemas (type-only imports, erased by the build).
 */
import type { RouteResult } from '../../src/api/services.js';
import type { ReplayRequest, ReplayResult } from '../../src/insight/route-replay.js';
import type { AgentView } from '../../src/registry/agent-record.js';
import type { Session, SessionList, SessionStatus } from '../../src/sessions/session-record.js';
import type { Tokens } from './tokens.js';

export type { AgentView, ReplayRequest, ReplayResult, RouteResult, Session, SessionList, SessionStatus };

export interface RegistryChange {
  revision: number;
  type: 'registered' | 'updated' | 'deleted';
  agent_name: string;
  agent: AgentView | null;
  at: string;
}

export interface ChangesPage {
  revision: number;
  changes: RegistryChange[];
}

/** A failed call: the HTTP status (0 when the service did not answer), the service's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** What the UI shows: status, code and the service's message, word for word. */
  describe(): string {
    return this.status === 0 ? this.message : `${this.status} ${this.code}: ${this.message}`;
  }
}

/**
 * Which token a call needs: mutating registry calls and replays the admin token, `/sessions` the API token.
 */
type TokenKind = 'admin' | 'api' | 'read';

interface CallOptions {
  body?: unknown;
  token: TokenKind;
  signal?: AbortSignal;
}

export class ApiClient {
  constructor(private readonly tokens: () => Tokens) {}

  private bearer(kind: TokenKind): string {
    const tokens = this.tokens();
    // Registry reads take the read token or, as the service does, the admin token.
    if (kind === 'read') return tokens.read || tokens.admin;
    return kind === 'admin' ? tokens.admin : tokens.api;
  }

  async call<T>(method: string, path: string, options: CallOptions): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const token = this.bearer(options.token);
    if (token !== '') headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        ...(options.signal !== undefined && { signal: options.signal }),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(
        0,
        'network_error',
        `${method} ${path}: the service did not answer (${String(error)})`,
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      throw new ApiError(
        response.status,
        typeof error?.code === 'string' ? error.code : 'http_error',
        typeof error?.message === 'string'
          ? error.message
          : `${method} ${path} answered ${response.status} ${response.statusText} ${text.slice(0, 200)}`.trim(),
      );
    }
    return body as T;
  }

  listAgents(): Promise<{ agents: AgentView[]; total: number }> {
    return this.call('GET', '/registry/agents', { token: 'read' });
  }

  getAgent(name: string): Promise<AgentView> {
    return this.call('GET', `/registry/agents/${encodeURIComponent(name)}`, { token: 'read' });
  }

  registerAgent(registration: Record<string, unknown>): Promise<{ status: string; agent_name: string }> {
    return this.call('POST', '/registry/agents', { body: registration, token: 'admin' });
  }

  setEnabled(name: string, enabled: boolean): Promise<{ status: 'enabled' | 'disabled' }> {
    return this.call('PATCH', `/registry/agents/${encodeURIComponent(name)}/status`, {
      body: { enabled },
      token: 'admin',
    });
  }

  updateCapabilities(name: string, capabilities: Record<string, unknown>): Promise<{ status: string }> {
    return this.call('PUT', `/registry/agents/${encodeURIComponent(name)}/capabilities`, {
      body: { capabilities },
      token: 'admin',
    });
  }

  deleteAgent(name: string): Promise<{ status: string }> {
    return this.call('DELETE', `/registry/agents/${encodeURIComponent(name)}`, { token: 'admin' });
  }

  /** The change feed: without `since` only the current revision; with `wait` a long poll. */
  changes(since?: number, waitSeconds = 0, signal?: AbortSignal): Promise<ChangesPage> {
    const query = since === undefined ? '' : `?since=${since}&wait=${waitSeconds}`;
    return this.call('GET', `/registry/changes${query}`, { token: 'read', ...(signal && { signal }) });
  }

  route(query: string, sessionId: string | undefined, topK: number): Promise<RouteResult> {
    return this.call('POST', '/registry/route', {
      body: { query, top_k: topK, ...(sessionId !== undefined && { session_id: sessionId }) },
      token: 'read',
    });
  }

  /** What-if replay: the logged queries routed with and without `change` (applied in memory, never saved). */
  replay(request: ReplayRequest): Promise<ReplayResult> {
    return this.call('POST', '/registry/route/replay', { body: request, token: 'admin' });
  }

  listSessions(filter: {
    user_id?: string;
    status?: string;
    cursor?: string;
    limit?: number;
  }): Promise<SessionList> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) {
      if (value !== undefined && value !== '') query.set(key, String(value));
    }
    return this.call('GET', `/sessions?${query}`, { token: 'api' });
  }

  getSession(id: string): Promise<Session> {
    return this.call('GET', `/sessions/${encodeURIComponent(id)}`, { token: 'api' });
  }
}
