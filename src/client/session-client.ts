/**
 * @module client/session-client
 * Typed client of the service's `/sessions` API, its types taken from the service's own schemas. Writes
 * that append (create, history, invocations) are never resent once they may have reached the service.
 */
import type { Static } from 'typebox';
import type { SessionCreatedSchema, statusResponse } from '../api/schemas.js';
import type {
  GetSessionOptions,
  HistoryEntryInput,
  InvocationInput,
  Session,
  SessionList,
  SessionListQuery,
  SessionMetadata,
  SessionStatus,
} from '../sessions/session-record.js';
import type { ServiceHttpClient } from './service-http-client.js';

export type { GetSessionOptions, InvocationInput, Session, SessionList, SessionListQuery, SessionStatus };
export type SessionCreated = Static<typeof SessionCreatedSchema>;
export type AddedResponse = Static<ReturnType<typeof statusResponse<'added'>>>;
export type TrackedResponse = Static<ReturnType<typeof statusResponse<'tracked'>>>;
export type UpdatedResponse = Static<ReturnType<typeof statusResponse<'updated'>>>;
export type DeletedResponse = Static<ReturnType<typeof statusResponse<'deleted'>>>;

/** A listing query; `cursor` pages from an earlier listing's `next_cursor` where the service offers it. */
export type SessionListRequest = SessionListQuery & { cursor?: string };
/** A listing; `next_cursor` is there when the service pages by cursor (null on the last page). */
export type SessionListPage = SessionList & { next_cursor?: string | null };

export class SessionClient {
  constructor(private readonly http: ServiceHttpClient) {}

  /** The service's base URL. */
  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** `POST /sessions`: a new active session; returns its id. */
  async createSession(userId: string, metadata?: SessionMetadata): Promise<string> {
    const response = await this.http.request<SessionCreated>({
      call: `sessions.create(${JSON.stringify(userId)})`,
      method: 'POST',
      path: '/sessions',
      body: metadata === undefined ? { user_id: userId } : { user_id: userId, metadata },
    });
    return response.body.session_id;
  }

  /**
   * `GET /sessions/{id}`, optionally one page of its history and invocations. A missing session is a
   * `ServiceCallError` with code `session_not_found`.
   */
  async getSession(sessionId: string, page: GetSessionOptions = {}): Promise<Session> {
    const response = await this.http.request<Session>({
      call: `sessions.get(${JSON.stringify(sessionId)})`,
      method: 'GET',
      path: `/sessions/${encodeURIComponent(sessionId)}`,
      query: {
        history_offset: page.historyOffset,
        history_limit: page.historyLimit,
        invocations_offset: page.invocationsOffset,
        invocations_limit: page.invocationsLimit,
      },
    });
    return response.body;
  }

  /** `GET /sessions`: most recently updated first. */
  async listSessions(query: SessionListRequest = {}): Promise<SessionListPage> {
    const response = await this.http.request<SessionListPage>({
      call: 'sessions.list()',
      method: 'GET',
      path: '/sessions',
      query: { ...query },
    });
    return response.body;
  }

  /** `POST /sessions/{id}/history`: one message. */
  async addHistory(sessionId: string, entry: HistoryEntryInput): Promise<AddedResponse> {
    const response = await this.http.request<AddedResponse>({
      call: `sessions.addHistory(${JSON.stringify(sessionId)}, ${JSON.stringify(entry.role)})`,
      method: 'POST',
      path: `/sessions/${encodeURIComponent(sessionId)}/history`,
      body: entry,
    });
    return response.body;
  }

  /** `POST /sessions/{id}/invocations`: a successful one also becomes the session's context. */
  async trackInvocation(sessionId: string, invocation: InvocationInput): Promise<TrackedResponse> {
    const response = await this.http.request<TrackedResponse>({
      call: `sessions.trackInvocation(${JSON.stringify(sessionId)}, ${JSON.stringify(invocation.agent_name)})`,
      method: 'POST',
      path: `/sessions/${encodeURIComponent(sessionId)}/invocations`,
      body: invocation,
    });
    return response.body;
  }

  /** `PATCH /sessions/{id}/status`. */
  async setStatus(sessionId: string, status: SessionStatus): Promise<UpdatedResponse> {
    const response = await this.http.request<UpdatedResponse>({
      call: `sessions.setStatus(${JSON.stringify(sessionId)}, ${JSON.stringify(status)})`,
      method: 'PATCH',
      path: `/sessions/${encodeURIComponent(sessionId)}/status`,
      body: { status },
    });
    return response.body;
  }

  /** `DELETE /sessions/{id}`; a 404 on a retry after an attempt that may have deleted it counts as done. */
  async deleteSession(sessionId: string): Promise<DeletedResponse> {
    const response = await this.http.request<DeletedResponse | undefined>({
      call: `sessions.delete(${JSON.stringify(sessionId)})`,
      method: 'DELETE',
      path: `/sessions/${encodeURIComponent(sessionId)}`,
      doneOnRetry: 404,
    });
    return response.body ?? { status: 'deleted' };
  }
}
